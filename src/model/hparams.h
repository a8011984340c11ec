// Hyper-parameters of a llama-family model, read from GGUF metadata
// ("<arch>.embedding_length", ...) and checked for consistency.
#pragma once

#include <cstdint>
#include <string>

#include "gguf/gguf_reader.h"
#include "jarvis/status.h"
#include "kernels/cpu/ops.h"

namespace jarvis {

enum class ModelArch {
  kLlama,  // Llama 2/3, TinyLlama, Mistral, SmolLM, stories
  kQwen2,  // Qwen2 / 2.5: Q/K/V biases, NeoX rope
};

struct HParams {
  ModelArch arch = ModelArch::kLlama;
  std::string arch_name;     // "llama", "qwen2"
  int32_t n_vocab = 0;
  int32_t n_ctx_train = 0;   // context length the model was trained with
  int32_t n_embd = 0;        // residual stream width
  int32_t n_layer = 0;
  int32_t n_head = 0;
  int32_t n_head_kv = 0;     // < n_head: grouped-query attention
  int32_t head_dim = 0;      // usually n_embd / n_head
  int32_t n_ff = 0;          // hidden width of the gated FFN
  float rms_eps = 1e-5f;
  RopeParams rope;           // freq_factors is bound later, with the weights

  int32_t n_embd_q() const { return n_head * head_dim; }
  int32_t n_embd_kv() const { return n_head_kv * head_dim; }
};

// Unsupported for an architecture other than llama/qwen2; Corruption or
// InvalidArgument (naming the key) for missing or inconsistent values.
Result<HParams> ReadHParams(const GgufFile& gguf);

}  // namespace jarvis
