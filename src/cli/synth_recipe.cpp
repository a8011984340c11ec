#include "cli/synth_recipe.h"

#include <charconv>
#include <vector>

#include "quant/quant_types.h"

namespace jarvis::synth {
namespace {

// The plain targets are the registry's matmul types (quant/quant_types.h),
// labelled with their general.file_type (llama.cpp's LLAMA_FTYPE_* numbers; a
// pure q4_k / q5_k file gets the nearest mix, Q4_K_S / Q5_K_S); then the mix.
const std::vector<QuantTarget>& Targets() {
  static const std::vector<QuantTarget> targets = [] {
    std::vector<QuantTarget> v;
    for (const QuantType& q : kQuantTypes) {
      if (q.matmul && q.file_type >= 0) v.push_back({TypeName(q.type), q.type, false, static_cast<uint32_t>(q.file_type)});
    }
    v.push_back({"q4_k_m", GgmlType::kQ4_K, true, 15});
    return v;
  }();
  return targets;
}

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
  for (const auto& t : Targets()) {
    if (t.name == name) return t;
  }
  return std::nullopt;
}

std::string QuantTargetNames() {
  std::string out;
  for (const auto& t : Targets()) {
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
  // The encoders' position and token type tables stay F32, as llama.cpp's
  // converter keeps them (its BERT graph adds a raw view of token_types' row 0).
  if (!is_matrix || EndsWith(name, "_norm.weight") || !EndsWith(name, ".weight") || name == "position_embd.weight" ||
      name == "token_types.weight") {
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
