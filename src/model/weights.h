// The llama-family weights, bound zero-copy to tensors of a GgufFile.
// Shapes are written (rows x cols); cols is GGUF dims[0], the row length.
#pragma once

#include <vector>

#include "gguf/gguf_reader.h"
#include "jarvis/status.h"
#include "kernels/cpu/matmul.h"
#include "model/hparams.h"

namespace jarvis {

struct LayerWeights {
  const float* attn_norm = nullptr;  // (n_embd)
  WeightMatrix wq;                   // (n_head*head_dim x n_embd)
  WeightMatrix wk;                   // (n_head_kv*head_dim x n_embd)
  WeightMatrix wv;                   // (n_head_kv*head_dim x n_embd)
  const float* bq = nullptr;         // qwen2 only: (n_head*head_dim)
  const float* bk = nullptr;         // qwen2 only: (n_head_kv*head_dim)
  const float* bv = nullptr;         // qwen2 only: (n_head_kv*head_dim)
  WeightMatrix wo;                   // (n_embd x n_head*head_dim)
  const float* ffn_norm = nullptr;   // (n_embd)
  WeightMatrix w_gate;               // (n_ff x n_embd)
  WeightMatrix w_up;                 // (n_ff x n_embd)
  WeightMatrix w_down;               // (n_embd x n_ff)
};

struct ModelWeights {
  WeightMatrix tok_embd;               // (n_vocab x n_embd)
  const float* output_norm = nullptr;  // (n_embd)
  WeightMatrix output;                 // (n_vocab x n_embd); = tok_embd when tied
  bool tied_embeddings = false;
  const float* rope_freqs = nullptr;   // optional (n_rot/2): llama3 rope scaling
  std::vector<LayerWeights> layers;
};

// Binds every tensor the graph needs, checking presence, shape and type.
// Fills hp->n_vocab from token_embd when the metadata did not give it.
// Errors name the tensor: NotFound (missing), InvalidArgument (wrong shape),
// Unsupported (a type the engine cannot compute with, listing those it can).
Result<ModelWeights> BindWeights(const GgufFile& gguf, HParams* hp);

}  // namespace jarvis
