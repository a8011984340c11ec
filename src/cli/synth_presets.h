// Model shapes that `jarvis synth` can generate: real llama-family
// architectures (same tensor names, shapes and hyper-parameters as the
// published checkpoints) filled with random weights, for benchmarks and tests
// that must not depend on downloading a model.
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
};

struct ModelPreset {
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

  int64_t head_dim() const { return dim / n_heads; }
  int64_t kv_dim() const { return head_dim() * n_kv_heads; }
};

// nullptr when `name` is not a preset.
const ModelPreset* FindPreset(std::string_view name);
// "tiny, tinyllama-1.1b, llama3-1b, llama3-8b"
std::string PresetNames();

}  // namespace jarvis::synth
