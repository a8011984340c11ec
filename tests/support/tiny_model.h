// Writes small random GGUF models of any supported architecture for tests
// (the tensor list from the architecture table, model/arch.h), with any weight
// type, GQA, tied embeddings, llama3 rope factors, sliding windows and
// soft-caps, plus a minimal SentencePiece vocabulary (WordPiece for the
// encoders) so Model::Load accepts them.
#pragma once

#include <cstdint>
#include <string>

#include "jarvis/status.h"
#include "quant/ggml_type.h"

namespace jarvis::test {

struct TinyModelSpec {
  std::string arch = "llama";   // any architecture of model/arch.h (or an unknown one, for errors)
  int32_t n_vocab = 300;        // >= 259 (3 specials + 256 byte tokens)
  int32_t n_embd = 64;
  int32_t n_layer = 2;
  int32_t n_head = 4;
  int32_t n_head_kv = 2;
  int32_t n_ff = 96;
  int32_t n_ctx = 256;
  float rope_base = 10000.0f;
  float rope_linear_factor = 0.0f;  // > 0 writes rope.scaling.type = linear
  bool tied_embeddings = false;
  bool rope_freqs = false;          // llama3-style per-frequency factors
  int32_t head_dim = 0;             // > 0: written as attention.key_length (n_head * head_dim != n_embd)
  int32_t sliding_window = -1;      // >= 0: attention.sliding_window
  int32_t swa_period = 0;           // > 0: attention.sliding_window_pattern
  float attn_softcap = 0.0f;        // > 0: attn_logit_softcapping
  float final_softcap = 0.0f;       // > 0: final_logit_softcapping
  float rope_base_swa = 0.0f;       // > 0: rope.freq_base_swa
  float rope_attn_factor = 0.0f;    // > 0: rope.scaling.attn_factor (phi3 longrope)
  int32_t rope_orig_ctx = 0;        // > 0: rope.scaling.original_context_length (phi3 longrope)
  bool fused_qkv = true;            // phi3: attn_qkv instead of attn_q/k/v
  // Embeddings: written when >= 0. pooling: <arch>.pooling_type (1 mean,
  // 2 cls, 3 last); causal: <arch>.attention.causal (encoders get false
  // unless set). Encoders (bert, nomic-bert) get LayerNorm epsilon 1e-12,
  // two token types and a small WordPiece vocabulary instead.
  int32_t pooling = -1;
  int32_t causal = -1;
  // Non-empty: copy the tokenizer.* keys of this GGUF instead of writing the
  // built-in vocabulary (n_vocab must be its size): a random model with a
  // real model's vocabulary (a draft model for it, engine/model_drafter.h).
  std::string vocab_from;
  GgmlType weight_type = GgmlType::kF32;  // for 2-D weights; norms stay F32
  uint64_t seed = 1;
  // For bad-input tests: leave this tensor out, or write it with its two
  // dims swapped (a wrong shape).
  std::string omit_tensor;
  std::string transpose_tensor;
};

// Writes the model to `path`. Weight types without a reference quantizer
// (e.g. q2_k) are written as all-zero blocks (valid bytes, for error tests).
Status WriteTinyModel(const TinyModelSpec& spec, const std::string& path);

// A fresh path under the test temp dir: "<tmp>/jarvis-test-<name>-<pid>.gguf".
std::string TempPath(const std::string& name);

}  // namespace jarvis::test
