// Which ggml type each tensor of a llama-family model gets when a whole model
// is written as "q4_0", "q4_k_m", ... (`jarvis synth --type`, `jarvis quantize`).
//
// Rules:
//  - 1-D tensors, norm weights and the encoders' position_embd / token_types
//    stay F32.
//  - A plain type (f32, f16, bf16, q8_0, q4_0, q4_1, q5_0, q5_1, q4_k, q5_k,
//    q6_k, q3_k) is used for every other tensor ("pure": unlike llama.cpp, which
//    also moves output.weight to Q6_K for these, so a q4_0 file needs only q4_0).
//  - The mixes are llama.cpp's file types of those names (llama_tensor_get_type
//    in llama.cpp's src/llama-quant.cpp, for dense non-Falcon models without an
//    importance matrix). All of them put output.weight (token_embd.weight when
//    the embeddings are tied) in Q6_K; then, by layer i of n (attn_v's and
//    ffn_down's counters are the layer number in a dense model):
//      q4_k_m  Q4_K; attn_v, ffn_down: Q6_K where UseMoreBits(i, n);
//              attn_qkv: Q5_K
//      q3_k_m  Q3_K; attn_v: Q5_K for i < 2, else Q4_K; ffn_down: Q5_K for
//              i < n/16, else Q4_K; attn_output, attn_qkv: Q4_K
//      q3_k_s  Q3_K
//      q2_k    Q2_K; attn_v: Q4_K when n_head / n_head_kv >= 4, else Q3_K;
//              ffn_down, attn_output: Q3_K
//      iq4_nl, iq4_xs  that type; attn_v: Q5_K when n_head / n_head_kv >= 4;
//              ffn_down: Q5_K for i < n/8
//    (q2_k, iq4_nl and iq4_xs name the mix, as in llama.cpp: the pure files of
//    those types are not offered.)
//  - A row length that is not a multiple of the chosen type's block size falls
//    back as llama.cpp does: q4_k -> q5_0, q5_k -> q5_1, q6_k -> q8_0, q2_k /
//    q3_k / iq4_xs -> iq4_nl, and to f16 when that still does not fit (or for
//    another 32-block type).
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

// Which per-tensor rules a target applies (see above).
enum class Mix : uint8_t { kPure, kQ4_K_M, kQ3_K_M, kQ3_K_S, kQ2_K, kIQ4 };

struct QuantTarget {
  std::string_view name;  // what --type / TYPE takes: "q4_k_m"
  GgmlType base;          // type of most matrices
  Mix mix;
  uint32_t file_type;     // general.file_type (llama.cpp's LLAMA_FTYPE numbering)
};

// What the mixes look at besides a tensor's name and shape.
struct ModelShape {
  int n_layers = 0;    // block_count
  int n_gqa = 1;       // head_count / head_count_kv
  bool tied = false;   // no output.weight: token_embd.weight is the output
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
// (dims[0] = row length).
TensorTypeChoice ChooseTensorType(const QuantTarget& target, std::string_view name,
                                  const std::vector<int64_t>& dims, const ModelShape& model);

// The layer number of "blk.N.*", or -1.
int LayerOf(std::string_view name);

}  // namespace jarvis::synth
