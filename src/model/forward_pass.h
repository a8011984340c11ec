// ForwardPass: one forward step over a batch of tokens from several sequences
// on the CPU: validates the batch, looks up the embeddings, runs the layer
// graph (model/layer_graph.h) with CpuLayerOps (model/cpu_layer_ops.h) and the
// output head. The architecture-specific steps live in the layer graph, not
// here.
//
// Offload (model/layer_offload.h): with SetOffload, Forward runs layers
// [0, first_layer()) here and hands the hidden states to the offload, which
// runs the remaining layers and the output head (the same LayerGraph over its
// own LayerOps). The CPU pool's K/V of the offloaded layers is then left
// unwritten. RunLayers and Head expose the two halves of Forward so a layer
// range can run alone (a CPU stand-in offload in the tests); Forward without
// an offload is RunLayers(0, n_layer) + Head.
//
// Every per-token result depends only on that token's sequence (not on what
// else is in the batch) and not on the thread count.
//
// Thread safety: one ForwardPass per engine; its methods from one thread at a time.
#pragma once

#include <vector>

#include "jarvis/status.h"
#include "model/batch.h"
#include "model/cpu_layer_ops.h"
#include "model/kv_layout.h"
#include "model/layer_graph.h"
#include "model/layer_offload.h"
#include "model/model.h"
#include "util/thread_pool.h"

namespace jarvis {

class ForwardPass {
 public:
  // `model` and `pool` must outlive the pass. n_ctx: positions per sequence
  // of this run (it picks Phi-3's longrope factors, LayerGraph).
  ForwardPass(const Model& model, ThreadPool& pool, int32_t n_ctx);

  // Runs the batch, writing its K/V into `kv` and the logits of tokens with
  // logits=1, in batch order, to `logits` (n_outputs x n_vocab). `kv` holds
  // the layers that run here: all, or with an offload at least its
  // first_layer() (the engine then keeps only those on the host).
  // InvalidArgument if a token id, position, sequence index or block table is
  // out of range (nothing is written then).
  Status Forward(const Batch& batch, const KvPoolView& kv, float* logits);

  // The offload that runs the last layers and the head, or nullptr (the
  // default: everything on the CPU). Not owned; must outlive its use here.
  void SetOffload(LayerOffload* offload) { offload_ = offload; }
  LayerOffload* offload() const { return offload_; }

  // Runs layers [first, last) over the hidden states `x` (batch.size() x
  // n_embd, row-major, updated in place), writing those layers' K/V into `kv`.
  // Same validation as Forward (`kv` holding layers [0, last)), plus
  // 0 <= first <= last <= n_layer.
  Status RunLayers(const Batch& batch, const KvPoolView& kv, int32_t first, int32_t last, float* x);
  // Final norm and output projection of the rows of `x` (as above, after the
  // last layer) whose tokens want logits; writes them in batch order to
  // `logits` (n_outputs x n_vocab).
  Status Head(const Batch& batch, const float* x, float* logits);

  // The embedding pass: runs whole sequences through every layer on the CPU
  // without the KV cache (each token attends within its own sequence, causal
  // per HParams::causal) and leaves every token's final hidden state (after
  // a decoder's output norm; an encoder's last layer ends normed) in `hidden`
  // (batch.size() x n_embd, row-major). `batch`: each sequence's tokens
  // contiguous at positions 0..len-1, token ids and positions in range
  // (Engine::Embed checks them); block tables and logits flags are unused.
  // Never on the offload: its ops do not have the cacheless attention.
  void RunWithoutCache(const Batch& batch, float* hidden);

  const LayerGraph& graph() const { return graph_; }

 private:
  // Input embeddings of the batch's tokens into x (batch.size() x n_embd):
  // token row [* embd_scale] [+ position row + token type 0 row]; the
  // encoders' input norm runs in the graph (RunInputNorm).
  void LookUpEmbeddings(const Batch& batch, float* x);

  // `kv` must hold at least `kv_layers` layers (the ones that will run).
  Status Validate(const Batch& batch, const KvPoolView& kv, int32_t kv_layers) const;

  const Model& model_;
  LayerGraph graph_;
  CpuLayerOps ops_;
  LayerOffload* offload_ = nullptr;
  std::vector<float> x_;  // the residual stream of Forward (n_tokens x n_embd)
};

}  // namespace jarvis
