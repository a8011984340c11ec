// The layer graph of every supported architecture (model/arch.h), written
// once: a forward pass over a batch of tokens from several sequences.
//
//   x = embed(tokens) [* sqrt(n_embd): gemma]           (n_tokens x n_embd)
//   for each layer:
//     h = rmsnorm(x) ; q,k,v = h Wq, h Wk, h Wv (+bias: qwen2)
//     [per-head rmsnorm of q and k: qwen3, gemma3] ; rope(q), rope(k) with the layer's base/scaling
//     write k, v to each token's sequence cache at its position
//     a = attention(q, cached K/V of the token's sequence, positions 0..pos,
//                   or pos-W+1..pos on sliding-window layers) [scores soft-capped: gemma2]
//     x += [rmsnorm](a Wo)                              (post-norm: gemma)
//     h = rmsnorm(x) ; x += [rmsnorm]((act(h Wgate) * h Wup) Wdown)   act = silu or gelu_tanh
//   logits = rmsnorm(x) Woutput [soft-capped: gemma2]   only for tokens that asked for them
// What an architecture has is read from HParams / LayerWeights (null tensors
// are absent), never from its name. Fused tensors (phi3) arrive as separate
// row ranges (model/weights.h).
//
// Every per-token result depends only on that token's sequence (not on what
// else is in the batch) and not on the thread count.
//
// Offload (model/layer_offload.h): with SetOffload, Forward runs layers
// [0, first_layer()) here and hands the hidden states to the offload, which
// runs the remaining layers and the output head. The CPU pool's K/V of the
// offloaded layers is then left unwritten. RunLayers and Head expose the two
// halves of Forward so a layer range can run alone (a CPU stand-in offload in
// the tests); Forward without an offload is RunLayers(0, n_layer) + Head.
//
// Thread safety: one LlamaGraph per engine; its methods from one thread at a time.
#pragma once

#include <vector>

#include "jarvis/status.h"
#include "model/batch.h"
#include "model/kv_layout.h"
#include "model/layer_offload.h"
#include "model/model.h"
#include "util/thread_pool.h"

namespace jarvis {

class LlamaGraph {
 public:
  // `model` and `pool` must outlive the graph.
  LlamaGraph(const Model& model, ThreadPool& pool);

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

 private:
  // `kv` must hold at least `kv_layers` layers (the ones that will run).
  Status Validate(const Batch& batch, const KvPoolView& kv, int32_t kv_layers) const;
  void EnsureScratch(int32_t n_tokens, int32_t max_pos);
  void Attention(const Batch& batch, const KvPoolView& kv, int32_t layer);
  // The unchecked bodies of RunLayers and Head (scratch already sized).
  void Layers(const Batch& batch, const KvPoolView& kv, int32_t first, int32_t last, float* x);
  void HeadRows(const Batch& batch, const float* x, float* logits);

  const Model& model_;
  ThreadPool& pool_;
  LayerOffload* offload_ = nullptr;
  // Scratch, grown on demand and reused: (n_tokens x width) row-major.
  std::vector<float> x_, h_, q_, k_, v_, att_, gate_, up_, out_;
  std::vector<float> scores_;  // per thread: max positions
  int32_t scores_stride_ = 0;
};

}  // namespace jarvis
