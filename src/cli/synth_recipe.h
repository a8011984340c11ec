// Which ggml type each tensor of a llama-family model gets when a whole model
// is written as "q4_0", "q4_k_m", ... (`jarvis synth --type`, `jarvis quantize`).
//
// Rules:
//  - 1-D tensors, norm weights and the encoders' position_embd / token_types
//    stay F32.
//  - A plain type (f32, f16, bf16, q8_0, q4_0, q4_1, q5_0, q5_1, q4_k, q5_k,
//    q6_k) is used for every other tensor ("pure": unlike llama.cpp, which also
//    moves output.weight to Q6_K for these, so a q4_0 file needs only q4_0).
//  - q4_k_m is llama.cpp's Q4_K_M mix: Q4_K everywhere except Q6_K for
//    output.weight (token_embd.weight when the embeddings are tied) and for
//    attn_v / ffn_down in the layers use_more_bits() picks.
//  - A row length that is not a multiple of the chosen type's block size falls
//    back as llama.cpp does: q4_k -> q5_0, q5_k -> q5_1, q6_k -> q8_0, and to
//    f16 when that still does not fit (or for a 32-block type).
//
// Thread safety: pure functions and a constant table.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "quant/ggml_type.h"

namespace jarvis::synth {

struct QuantTarget {
  std::string_view name;  // what --type / TYPE takes: "q4_k_m"
  GgmlType base;          // type of most matrices
  bool q4_k_m_mix;        // apply the Q4_K_M per-tensor rules
  uint32_t file_type;     // general.file_type (llama.cpp's LLAMA_FTYPE numbering)
};

std::optional<QuantTarget> FindQuantTarget(std::string_view name);
// "f32, f16, bf16, q8_0, ..., q4_k_m"
std::string QuantTargetNames();

// llama.cpp's rule for the layers that get more bits in the *_M mixes: the
// first and last eighth of the layers, and every third layer in between.
bool UseMoreBits(int layer, int n_layers);

struct TensorTypeChoice {
  GgmlType type;    // what to write
  GgmlType wanted;  // what the recipe asked for before the block-size fallback
  bool fell_back() const { return type != wanted; }
};

// `name` is the GGUF tensor name ("blk.3.attn_v.weight"), dims in ggml order
// (dims[0] = row length), `n_layers` the model's block_count, `tied` true when
// the model has no output.weight.
TensorTypeChoice ChooseTensorType(const QuantTarget& target, std::string_view name,
                                  const std::vector<int64_t>& dims, int n_layers, bool tied);

// The layer number of "blk.N.*", or -1.
int LayerOf(std::string_view name);

}  // namespace jarvis::synth
