// Model shapes that `jarvis synth` can generate: real checkpoints of every
// supported architecture (same architecture, tensor names from the
// architecture table model/arch.h, shapes and hyper-parameters as the
// published checkpoints converted by llama.cpp) filled with random weights,
// for benchmarks and tests that must not depend on downloading a model.
//
// Thread safety: the table is constant.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace jarvis::synth {

enum class VocabKind {
  kSentencePiece,  // tokenizer.ggml.model = "llama": <unk> <s> </s>, byte tokens, pieces
  kLlama3Bpe,      // tokenizer.ggml.model = "gpt2", pre = "llama-bpe", Llama 3 special tokens
  kWordPiece,      // tokenizer.ggml.model = "bert": [PAD] [UNK] [CLS] [SEP] [MASK], phantom-space pieces
};

struct ModelPreset {
  std::string_view arch;          // general.architecture (model/arch.h)
  std::string_view name;          // what --preset takes
  std::string_view display_name;  // general.name
  int64_t dim;                    // llama.embedding_length
  int64_t n_layers;               // llama.block_count
  int64_t n_heads;                // llama.attention.head_count
  int64_t n_kv_heads;             // llama.attention.head_count_kv
  int64_t ffn_dim;                // llama.feed_forward_length
  int64_t vocab_size;             // llama.vocab_size
  int64_t context_length;         // llama.context_length
  float rope_freq_base;           // llama.rope.freq_base
  float rms_eps;                  // llama.attention.layer_norm_rms_epsilon
  bool tied_embeddings;           // true: no output.weight, token_embd is reused
  VocabKind vocab;
  // Architecture-specific keys, written only when set (> 0).
  int64_t key_length = 0;         // attention.key_length when head_dim != dim / n_heads
  int32_t sliding_window = 0;     // attention.sliding_window
  int32_t swa_pattern = 0;        // attention.sliding_window_pattern
  float attn_softcap = 0.0f;      // attn_logit_softcapping
  float final_softcap = 0.0f;     // final_logit_softcapping
  float rope_base_swa = 0.0f;     // rope.freq_base_swa
  bool longrope = false;          // rope_factors_short/long + rope.scaling.* (phi3 128k)
  int64_t rope_orig_ctx = 0;      // rope.scaling.original_context_length
  // Encoders (bert, nomic-bert): rms_eps is attention.layer_norm_epsilon,
  // and these are written as pooling_type and tokenizer.ggml.token_type_count.
  int32_t pooling_type = 0;       // 1 mean, 2 cls, 3 last (0: not written)
  int32_t token_types = 0;

  int64_t head_dim() const { return key_length > 0 ? key_length : dim / n_heads; }
  int64_t kv_dim() const { return head_dim() * n_kv_heads; }
};

// nullptr when `name` is not a preset.
const ModelPreset* FindPreset(std::string_view name);
// "tiny, tinyllama-1.1b, llama3-1b, llama3-8b"
std::string PresetNames();

}  // namespace jarvis::synth
