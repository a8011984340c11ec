// A model's weights, bound zero-copy to tensors of a GgufFile by the tensor
// list of its architecture (model/arch.h). Shapes are written (rows x cols);
// cols is GGUF dims[0], the row length.
#pragma once

#include <array>
#include <functional>
#include <vector>

#include "gguf/gguf_reader.h"
#include "jarvis/status.h"
#include "kernels/cpu/matmul.h"
#include "model/hparams.h"

namespace jarvis {

// One layer's tensors. What an architecture lacks stays null / empty (a
// WeightMatrix with data == nullptr). Fused tensors (Phi-3's attn_qkv and
// ffn_up = [gate; up]) are bound as row ranges of the one tensor, so the
// layer graph sees separate matrices either way.
struct LayerWeights {
  const float* attn_norm = nullptr;       // (n_embd)
  WeightMatrix wq;                        // (n_head*head_dim x n_embd)
  WeightMatrix wk;                        // (n_head_kv*head_dim x n_embd)
  WeightMatrix wv;                        // (n_head_kv*head_dim x n_embd)
  const float* bq = nullptr;              // optional (n_head*head_dim)
  const float* bk = nullptr;              // optional (n_head_kv*head_dim)
  const float* bv = nullptr;              // optional (n_head_kv*head_dim)
  const float* q_norm = nullptr;          // optional (head_dim): per-head RMSNorm of Q
  const float* k_norm = nullptr;          // optional (head_dim): per-head RMSNorm of K
  WeightMatrix wo;                        // (n_embd x n_head*head_dim)
  const float* bo = nullptr;              // optional (n_embd): attn_output.bias
  const float* attn_post_norm = nullptr;  // optional (n_embd)
  const float* attn_out_norm = nullptr;   // post-norm residual (n_embd): attn_output_norm
  const float* attn_out_norm_b = nullptr;
  const float* ffn_norm = nullptr;        // (n_embd)
  WeightMatrix w_gate;                    // (n_ff x n_embd); absent in a plain FFN
  WeightMatrix w_up;                      // (n_ff x n_embd)
  const float* b_up = nullptr;            // optional (n_ff)
  WeightMatrix w_down;                    // (n_embd x n_ff)
  const float* b_down = nullptr;          // optional (n_embd)
  const float* ffn_post_norm = nullptr;   // optional (n_embd)
  const float* layer_out_norm = nullptr;  // post-norm residual (n_embd): layer_output_norm
  const float* layer_out_norm_b = nullptr;

  // The tensor of a layer role (model/arch.h) as the layer graph and the
  // device uploads address it: a fused role's parts come back under their
  // separate roles (kAttnQ/K/V, kFfnGate/Up). An empty matrix / nullptr where
  // the architecture has none.
  const WeightMatrix& matrix(TensorRole role) const;
  const float* vector(TensorRole role) const;

  // Every matrix of the layer, in graph order (for packing and uploads).
  template <typename Fn>
  void ForEachMatrix(Fn&& fn) {
    // matrix() returns one of this (non-const) layer's members for these roles.
    for (TensorRole r : kLayerMatrixRoles) fn(const_cast<WeightMatrix&>(matrix(r)));
  }
  template <typename Fn>
  void ForEachMatrix(Fn&& fn) const {
    for (TensorRole r : kLayerMatrixRoles) fn(matrix(r));
  }

  // The roles matrix() and vector() answer, in graph order.
  static constexpr std::array<TensorRole, 7> kLayerMatrixRoles = {
      TensorRole::kAttnQ,    TensorRole::kAttnK,  TensorRole::kAttnV,   TensorRole::kAttnOut,
      TensorRole::kFfnGate,  TensorRole::kFfnUp,  TensorRole::kFfnDown};
  static constexpr std::array<TensorRole, 16> kLayerVectorRoles = {
      TensorRole::kAttnNorm,         TensorRole::kAttnQBias,      TensorRole::kAttnKBias,
      TensorRole::kAttnVBias,        TensorRole::kAttnQNorm,      TensorRole::kAttnKNorm,
      TensorRole::kAttnOutBias,      TensorRole::kAttnPostNorm,   TensorRole::kAttnOutNorm,
      TensorRole::kAttnOutNormBias,  TensorRole::kFfnNorm,        TensorRole::kFfnUpBias,
      TensorRole::kFfnDownBias,      TensorRole::kFfnPostNorm,    TensorRole::kLayerOutNorm,
      TensorRole::kLayerOutNormBias};
  // Elements of the 1-D tensor of `role` given the hyper-parameters.
  static int64_t VectorLength(const HParams& hp, TensorRole role);
};

struct ModelWeights {
  WeightMatrix tok_embd;               // (n_vocab x n_embd)
  WeightMatrix pos_embd;               // bert: (n_ctx_train x n_embd) absolute positions
  WeightMatrix type_embd;              // optional, encoders: (n_token_types x n_embd)
  const float* tok_norm = nullptr;     // encoders: LayerNorm of the input embeddings (n_embd)
  const float* tok_norm_b = nullptr;
  const float* output_norm = nullptr;  // (n_embd); null for an encoder
  WeightMatrix output;                 // (n_vocab x n_embd); = tok_embd when tied; empty for an encoder
  bool tied_embeddings = false;
  bool fused_qkv = false;              // the file stores attn_qkv
  const float* rope_freqs = nullptr;   // optional (n_rot/2): llama3 rope scaling
  const float* rope_factors_short = nullptr;  // optional (n_rot/2): Phi-3 longrope
  const float* rope_factors_long = nullptr;   // optional (n_rot/2)
  std::vector<LayerWeights> layers;
};

// Binds every tensor of the architecture's list, checking presence, shape and
// type, and points the rope parameters at the factor tensors. Fills
// hp->n_vocab from token_embd when the metadata did not give it. Errors name
// the tensor and what was expected: NotFound (missing), InvalidArgument
// (wrong shape), Unsupported (a type the engine cannot compute with, listing
// those it can).
Result<ModelWeights> BindWeights(const GgufFile& gguf, HParams* hp);

// The rope frequency factors of a run whose sequences hold up to `n_ctx`
// positions: llama3's rope_freqs; for Phi-3's longrope the long factors when
// n_ctx exceeds rope.scaling.original_context_length, else the short ones
// (llama.cpp's rule: the long factors were fitted for contexts beyond the
// original); nullptr when the model has none. Chosen per run, not per
// model: one Model serves engines of different contexts.
const float* RopeFactorsForContext(const ModelWeights& w, const HParams& hp, int32_t n_ctx);

}  // namespace jarvis
