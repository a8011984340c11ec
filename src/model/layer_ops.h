// LayerOps: the operations the layer graph (model/layer_graph.h) is made of,
// implemented once per device: CpuLayerOps (model/cpu_layer_ops.h, the CPU
// kernels) and CudaLayerOps (gpu/cuda_layer_ops.h, the CUDA kernels). The
// graph decides what runs in which order for an architecture; an
// implementation only knows how to run one step on its device.
//
// Operands are named, not passed as pointers: each implementation maps an
// `Act` to its own memory (host vectors, device buffers) and a (layer,
// TensorRole) to its own copy of that weight. Activations are row-major
// (rows x width) F32. An implementation is bound to one batch at a time by its
// owner (positions, block tables, KV pool); ops that need the batch's
// positions (rope, attention, the head's row selection) use the bound batch,
// the others are told their row count.
//
// Granularity: one call covers every token of the batch (a matmul reads each
// weight row once per batch), so the virtual calls cost nothing next to the
// arithmetic.
//
// Thread safety: one thread at a time, like the forward pass that owns it.
#pragma once

#include <cstdint>
#include <cstdio>
#include <cstdlib>

#include "kernels/cpu/ops.h"
#include "model/arch.h"

namespace jarvis {

// The activations of a forward step.
enum class Act {
  kX,       // residual stream (n_tokens x n_embd)
  kH,       // a block's normed input (n_tokens x n_embd); the head's selected rows
  kQ,       // queries (n_tokens x n_embd_q)
  kK,       // keys (n_tokens x n_embd_kv)
  kV,       // values (n_tokens x n_embd_kv)
  kAtt,     // attention output (n_tokens x n_embd_q)
  kOut,     // a block's output before the residual add (n_tokens x n_embd)
  kGate,    // FFN gate, then act(gate) * up (n_tokens x n_ff)
  kUp,      // FFN up (n_tokens x n_ff)
  kLogits,  // the head's output (n_outputs x n_vocab)
};
inline constexpr int kActCount = static_cast<int>(Act::kLogits) + 1;

// How one layer attends (decided by the graph from HParams::layers).
struct AttentionParams {
  float scale = 1.0f;    // query scaling
  float softcap = 0.0f;  // scores -> softcap * tanh(s / softcap); 0: none
  int32_t window = 0;    // > 0: positions [pos - window + 1, pos] only
};

class LayerOps {
 public:
  virtual ~LayerOps() = default;

  // out = in * W^T for `rows` rows; W is layer `layer`'s matrix of `weight`
  // (a layer role of LayerWeights), or for layer -1 the output matrix
  // (TensorRole::kOutput).
  virtual void MatMul(int32_t layer, TensorRole weight, Act in, Act out, int32_t rows) = 0;

  // RMSNorm of `rows` rows of `width` values with layer `layer`'s 1-D tensor
  // `weight` (width values): out = in / rms(in) * weight. out may be in.
  // A per-head norm is rows = n_tokens * n_heads, width = head_dim.
  virtual void RmsNorm(int32_t layer, TensorRole weight, Act in, Act out, int64_t width, int32_t rows,
                       float eps) = 0;

  // x[r] += layer `layer`'s 1-D tensor `bias` (width values), for `rows` rows.
  virtual void AddBias(int32_t layer, TensorRole bias, Act x, int64_t width, int32_t rows) = 0;

  // Rotates every token's `n_heads` heads of `head_dim` values in `x` at the
  // token's position. rope.freq_factors is a host pointer into the model's
  // weights (a device implementation maps it to its copy).
  virtual void Rope(Act x, int32_t n_heads, int32_t head_dim, const RopeParams& rope) = 0;

  // Writes every token's K and V rows (Act::kK, Act::kV) into layer `layer`'s
  // cache at the token's sequence and position, then attends: Act::kAtt =
  // softmax(Q K^T * scale) V over the token's own sequence, positions
  // [first, pos] (first = 0, or by the window). All K/V of the batch are
  // stored before any token attends.
  virtual void StoreKvAndAttend(int32_t layer, const AttentionParams& params) = 0;

  // gate = act(gate) * up, n values.
  virtual void GatedActivation(FfnActivation activation, Act gate, Act up, int64_t n) = 0;

  // The ops of the embedding pass (Engine::Embed) and of the encoder layer.
  // Only the CPU runs them (encoders and embeddings never go to an offload),
  // so a device without them inherits these, which stop the process with the
  // op's name: reaching one is a routing bug, not an input error.

  // Attention without the KV cache: the bound batch holds whole sequences,
  // each a contiguous run of tokens at positions 0..len-1, and every token
  // attends to its own sequence's K/V rows in Act::kK / Act::kV (positions
  // [first, pos] when `causal`, first as in StoreKvAndAttend; all of the
  // sequence otherwise), into Act::kAtt.
  virtual void AttendWithinBatch(const AttentionParams& /*params*/, bool /*causal*/) {
    NotOnThisDevice("AttendWithinBatch");
  }

  // LayerNorm of `rows` rows of `width` values with layer `layer`'s weight
  // and bias (1-D, width values; layer -1: the model-level token_embd_norm
  // roles): out = (in - mean) / sqrt(var + eps) * weight + bias. out may be in.
  virtual void LayerNorm(int32_t /*layer*/, TensorRole /*weight*/, TensorRole /*bias*/, Act /*in*/, Act /*out*/,
                         int64_t /*width*/, int32_t /*rows*/, float /*eps*/) {
    NotOnThisDevice("LayerNorm");
  }

  // x = act(x), n values (the plain FFN's activation).
  virtual void Activation(FfnActivation /*activation*/, Act /*x*/, int64_t /*n*/) {
    NotOnThisDevice("Activation");
  }

  // x += y, n values (the residual adds).
  virtual void Add(Act x, Act y, int64_t n) = 0;

  // x = cap * tanh(x / cap), n values.
  virtual void Softcap(Act x, int64_t n, float cap) = 0;

  // The head's input: out row i = RMSNorm(in row of the i-th token that wants
  // logits) with the output norm (n_embd values), i < n_outputs.
  virtual void NormLogitRows(Act in, Act out, int64_t width, float eps) = 0;

 protected:
  [[noreturn]] static void NotOnThisDevice(const char* op) {
    std::fprintf(stderr, "jarvis: internal error: LayerOps::%s is not implemented on this device\n", op);
    std::abort();
  }
};

}  // namespace jarvis
