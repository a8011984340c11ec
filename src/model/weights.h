// A model's weights, bound zero-copy to tensors of a GgufFile by the tensor
// list of its architecture (model/arch.h). Shapes are written (rows x cols);
// cols is GGUF dims[0], the row length.
#pragma once

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
  const float* attn_post_norm = nullptr;  // optional (n_embd)
  const float* ffn_norm = nullptr;        // (n_embd)
  WeightMatrix w_gate;                    // (n_ff x n_embd)
  WeightMatrix w_up;                      // (n_ff x n_embd)
  WeightMatrix w_down;                    // (n_embd x n_ff)
  const float* ffn_post_norm = nullptr;   // optional (n_embd)

  // Every matrix of the layer, in graph order (for packing and uploads).
  template <typename Fn>
  void ForEachMatrix(Fn&& fn) {
    for (WeightMatrix* m : {&wq, &wk, &wv, &wo, &w_gate, &w_up, &w_down}) fn(*m);
  }
  template <typename Fn>
  void ForEachMatrix(Fn&& fn) const {
    for (const WeightMatrix* m : {&wq, &wk, &wv, &wo, &w_gate, &w_up, &w_down}) fn(*m);
  }
  // Every 1-D tensor with its length given the hyper-parameters (null ones too).
  template <typename Fn>
  void ForEachVector(const HParams& hp, Fn&& fn) const {
    const int64_t d = hp.n_embd, dq = hp.n_embd_q(), dkv = hp.n_embd_kv(), hd = hp.head_dim;
    fn(attn_norm, d);
    fn(bq, dq);
    fn(bk, dkv);
    fn(bv, dkv);
    fn(q_norm, hd);
    fn(k_norm, hd);
    fn(attn_post_norm, d);
    fn(ffn_norm, d);
    fn(ffn_post_norm, d);
  }
};

struct ModelWeights {
  WeightMatrix tok_embd;               // (n_vocab x n_embd)
  const float* output_norm = nullptr;  // (n_embd)
  WeightMatrix output;                 // (n_vocab x n_embd); = tok_embd when tied
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

}  // namespace jarvis
