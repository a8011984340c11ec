#include "cli/synth_recipe.h"

#include <array>
#include <charconv>

namespace jarvis::synth {
namespace {

// general.file_type values are llama.cpp's LLAMA_FTYPE_* numbers. A pure
// q4_k / q5_k file is labelled with the nearest mix (Q4_K_S / Q5_K_S).
constexpr std::array<QuantTarget, 12> kTargets = {{
    {"f32", GgmlType::kF32, false, 0},
    {"f16", GgmlType::kF16, false, 1},
    {"bf16", GgmlType::kBF16, false, 32},
    {"q8_0", GgmlType::kQ8_0, false, 7},
    {"q4_0", GgmlType::kQ4_0, false, 2},
    {"q4_1", GgmlType::kQ4_1, false, 3},
    {"q5_0", GgmlType::kQ5_0, false, 8},
    {"q5_1", GgmlType::kQ5_1, false, 9},
    {"q4_k", GgmlType::kQ4_K, false, 14},
    {"q5_k", GgmlType::kQ5_K, false, 16},
    {"q6_k", GgmlType::kQ6_K, false, 18},
    {"q4_k_m", GgmlType::kQ4_K, true, 15},
}};

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

bool Fits(GgmlType type, int64_t row_length) {
  return row_length % TypeTraits(type).block_size == 0;
}

// llama.cpp's fallback when the row length does not fit the block size.
GgmlType Fallback(GgmlType wanted, int64_t row_length) {
  GgmlType next = GgmlType::kF16;
  switch (wanted) {
    case GgmlType::kQ4_K: next = GgmlType::kQ5_0; break;
    case GgmlType::kQ5_K: next = GgmlType::kQ5_1; break;
    case GgmlType::kQ6_K: next = GgmlType::kQ8_0; break;
    default: break;
  }
  return Fits(next, row_length) ? next : GgmlType::kF16;
}

}  // namespace

std::optional<QuantTarget> FindQuantTarget(std::string_view name) {
  for (const auto& t : kTargets) {
    if (t.name == name) return t;
  }
  return std::nullopt;
}

std::string QuantTargetNames() {
  std::string out;
  for (const auto& t : kTargets) {
    if (!out.empty()) out += ", ";
    out += t.name;
  }
  return out;
}

bool UseMoreBits(int layer, int n_layers) {
  return layer < n_layers / 8 || layer >= 7 * n_layers / 8 || (layer - n_layers / 8) % 3 == 2;
}

int LayerOf(std::string_view name) {
  constexpr std::string_view kPrefix = "blk.";
  if (name.substr(0, kPrefix.size()) != kPrefix) return -1;
  int layer = -1;
  const char* begin = name.data() + kPrefix.size();
  const char* last = name.data() + name.size();
  const auto [end, ec] = std::from_chars(begin, last, layer);
  if (ec != std::errc() || end == begin || end == last || *end != '.') return -1;
  return layer;
}

TensorTypeChoice ChooseTensorType(const QuantTarget& target, std::string_view name,
                                  const std::vector<int64_t>& dims, int n_layers, bool tied) {
  const bool is_matrix = dims.size() >= 2;
  if (!is_matrix || EndsWith(name, "_norm.weight") || !EndsWith(name, ".weight")) {
    return {GgmlType::kF32, GgmlType::kF32};
  }

  GgmlType wanted = target.base;
  if (target.q4_k_m_mix) {
    const int layer = LayerOf(name);
    const bool is_output = name == "output.weight" || (tied && name == "token_embd.weight");
    const bool sensitive = EndsWith(name, ".attn_v.weight") || EndsWith(name, ".ffn_down.weight");
    if (is_output || (sensitive && layer >= 0 && UseMoreBits(layer, n_layers))) {
      wanted = GgmlType::kQ6_K;
    }
  }
  const int64_t row_length = dims[0];
  const GgmlType type = Fits(wanted, row_length) ? wanted : Fallback(wanted, row_length);
  return {type, wanted};
}

}  // namespace jarvis::synth
