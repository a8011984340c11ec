// LayerGraph: the layer graph of every supported architecture (model/arch.h),
// written once for every device. It walks one layer as the model's
// hyper-parameters and weights say, calling LayerOps (model/layer_ops.h);
// CpuLayerOps runs it on the CPU kernels (ForwardPass, model/forward_pass.h),
// CudaLayerOps on the CUDA kernels (the GPU offload, gpu/cuda_offload.cpp).
//
//   x = embed(tokens) [* sqrt(n_embd): gemma]             (done by the caller)
//       [+ position_embd[pos] + token_types[0]: bert]      (done by the caller)
//   [x = layernorm(x) with token_embd_norm: encoders]     RunInputNorm
//   for each layer (pre-norm; the encoders' post-norm variant below):
//     h = rmsnorm(x) ; q,k,v = h Wq, h Wk, h Wv (+bias: qwen2, bert)
//     [per-head rmsnorm of q and k: qwen3, gemma3] ; rope(q), rope(k) with the layer's base/scaling [not bert]
//     write k, v to each token's sequence cache at its position
//     a = attention(q, cached K/V of the token's sequence, positions 0..pos,
//                   or pos-W+1..pos on sliding-window layers) [scores soft-capped: gemma2]
//     x += [rmsnorm](a Wo [+ bias])                       (post-norm: gemma)
//     h = rmsnorm(x) ; x += [rmsnorm]((act(h Wgate) * h Wup) Wdown)   act = silu or gelu_tanh
//   logits = rmsnorm(x) Woutput [soft-capped: gemma2]     only for tokens that asked for them
//
// Encoders (bert, nomic-bert; ArchSpec::residual_norms, norm = LayerNorm):
// no pre-norm, the residual sum is normed instead, and the plain FFN of bert
// has no gate:
//     q,k,v = x Wq.. (+bias) ; a = attention ; x = layernorm(x + a Wo (+bias))   attn_output_norm
//     f = [act(x Wgate) * x Wup : nomic-bert]  [act(x Wup + b): bert] ; x = layernorm(x + f Wdown (+b))
//                                                                    layer_output_norm
//
// Two ways to attend: through the KV cache (RunLayers: generation, prefill),
// or within the batch's own whole sequences without the cache
// (RunLayersWithoutCache: embeddings; causal per HParams::causal), then
// RunFinalNorm instead of the head.
//
// What an architecture has is read from HParams / LayerWeights (a null tensor
// is absent), never from its name. Fused tensors (phi3) arrive as separate
// row ranges (model/weights.h).
//
// Per run, not per model: the rope of each layer, with the frequency factors
// for the run's context (RopeFactorsForContext: Phi-3's long or short set).
//
// Thread safety: immutable after construction.
#pragma once

#include <cstdint>
#include <vector>

#include "model/layer_ops.h"
#include "model/model.h"

namespace jarvis {

class LayerGraph {
 public:
  // `model` must outlive the graph. n_ctx: positions per sequence of the run.
  LayerGraph(const Model& model, int32_t n_ctx);

  // Runs layers [first, last) over the n_tokens rows of Act::kX.
  void RunLayers(LayerOps& ops, int32_t n_tokens, int32_t first, int32_t last) const;
  // The encoders' LayerNorm of the input embeddings (token_embd_norm), in
  // place on Act::kX; nothing for an architecture without it.
  void RunInputNorm(LayerOps& ops, int32_t n_tokens) const;
  // Every layer over whole sequences packed in the bound batch, attending
  // within each sequence (LayerOps::AttendWithinBatch), no KV cache.
  void RunLayersWithoutCache(LayerOps& ops, int32_t n_tokens) const;
  // The final hidden state of every row, in place on Act::kX: the output
  // norm (decoders); an encoder's last layer already ends with its norm.
  void RunFinalNorm(LayerOps& ops, int32_t n_tokens) const;
  // Final norm of the rows that want logits (n_outputs of them, > 0), output
  // projection into Act::kLogits, final soft-cap.
  void RunHead(LayerOps& ops, int32_t n_outputs) const;

  // The rope layer `layer` runs with.
  const RopeParams& rope(int32_t layer) const { return rope_[static_cast<size_t>(layer)]; }

 private:
  void RunLayer(LayerOps& ops, int32_t n, int32_t il, bool use_cache) const;
  // The norm of the residual stream's width (n_embd) by ArchSpec::norm:
  // RMSNorm with `weight`, or LayerNorm with `weight` and `bias`.
  void Norm(LayerOps& ops, int32_t il, TensorRole weight, TensorRole bias, Act in, Act out, int32_t n) const;

  const Model& model_;
  std::vector<RopeParams> rope_;
};

}  // namespace jarvis
