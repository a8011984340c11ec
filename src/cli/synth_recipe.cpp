#include "cli/synth_recipe.h"

#include <charconv>
#include <iterator>
#include <vector>

#include "quant/quant_types.h"

namespace jarvis::synth {
namespace {

// llama.cpp's mixes (LLAMA_FTYPE_MOSTLY_* numbers from its llama.h).
constexpr QuantTarget kMixes[] = {
    {"q4_k_m", GgmlType::kQ4_K, Mix::kQ4_K_M, 15}, {"q3_k_m", GgmlType::kQ3_K, Mix::kQ3_K_M, 12},
    {"q3_k_s", GgmlType::kQ3_K, Mix::kQ3_K_S, 11}, {"q2_k", GgmlType::kQ2_K, Mix::kQ2_K, 10},
    {"iq4_nl", GgmlType::kIQ4_NL, Mix::kIQ4, 25},  {"iq4_xs", GgmlType::kIQ4_XS, Mix::kIQ4, 30},
};

bool IsMixName(std::string_view name) {
  for (const QuantTarget& m : kMixes) {
    if (m.name == name) return true;
  }
  return false;
}

// The plain targets are the registry's matmul types (quant/quant_types.h),
// labelled with their general.file_type (llama.cpp's LLAMA_FTYPE_* numbers; a
// pure q4_k / q5_k / q3_k file gets the nearest mix, Q4_K_S / Q5_K_S /
// Q3_K_S), except where a mix has the type's name; then the mixes.
const std::vector<QuantTarget>& Targets() {
  static const std::vector<QuantTarget> targets = [] {
    std::vector<QuantTarget> v;
    for (const QuantType& q : kQuantTypes) {
      if (q.matmul && q.file_type >= 0 && !IsMixName(TypeName(q.type))) {
        v.push_back({TypeName(q.type), q.type, Mix::kPure, static_cast<uint32_t>(q.file_type)});
      }
    }
    v.insert(v.end(), std::begin(kMixes), std::end(kMixes));
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
    case GgmlType::kQ2_K:
    case GgmlType::kQ3_K:
    case GgmlType::kIQ4_XS: next = GgmlType::kIQ4_NL; break;
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

namespace {

// The type llama.cpp's mix gives a matrix of a transformer layer (or the
// base type when no rule names it).
GgmlType MixLayerType(const QuantTarget& target, std::string_view name, int layer, const ModelShape& model) {
  const int n = model.n_layers;
  const bool attn_v = EndsWith(name, ".attn_v.weight");
  const bool ffn_down = EndsWith(name, ".ffn_down.weight");
  const bool attn_output = EndsWith(name, ".attn_output.weight");
  const bool attn_qkv = EndsWith(name, ".attn_qkv.weight");
  switch (target.mix) {
    case Mix::kQ4_K_M:
      if ((attn_v || ffn_down) && UseMoreBits(layer, n)) return GgmlType::kQ6_K;
      if (attn_qkv) return GgmlType::kQ5_K;
      break;
    case Mix::kQ3_K_M:
      if (attn_v) return layer < 2 ? GgmlType::kQ5_K : GgmlType::kQ4_K;
      if (ffn_down) return layer < n / 16 ? GgmlType::kQ5_K : GgmlType::kQ4_K;
      if (attn_output || attn_qkv) return GgmlType::kQ4_K;
      break;
    case Mix::kQ2_K:
      if (attn_v) return model.n_gqa >= 4 ? GgmlType::kQ4_K : GgmlType::kQ3_K;
      if (ffn_down || attn_output) return GgmlType::kQ3_K;
      break;
    case Mix::kIQ4:
      if (attn_v && model.n_gqa >= 4) return GgmlType::kQ5_K;
      if (ffn_down && layer < n / 8) return GgmlType::kQ5_K;
      break;
    case Mix::kQ3_K_S:
    case Mix::kPure:
      break;
  }
  return target.base;
}

}  // namespace

TensorTypeChoice ChooseTensorType(const QuantTarget& target, std::string_view name,
                                  const std::vector<int64_t>& dims, const ModelShape& model) {
  const bool is_matrix = dims.size() >= 2;
  // The encoders' position and token type tables stay F32, as llama.cpp's
  // converter keeps them (its BERT graph adds a raw view of token_types' row 0).
  if (!is_matrix || EndsWith(name, "_norm.weight") || !EndsWith(name, ".weight") || name == "position_embd.weight" ||
      name == "token_types.weight") {
    return {GgmlType::kF32, GgmlType::kF32};
  }

  GgmlType wanted = target.base;
  if (target.mix != Mix::kPure) {
    const int layer = LayerOf(name);
    const bool is_output = name == "output.weight" || (model.tied && name == "token_embd.weight");
    if (is_output) {
      wanted = GgmlType::kQ6_K;
    } else if (layer >= 0) {
      wanted = MixLayerType(target, name, layer, model);
    }
  }
  const int64_t row_length = dims[0];
  const GgmlType type = Fits(wanted, row_length) ? wanted : Fallback(wanted, row_length);
  return {type, wanted};
}

}  // namespace jarvis::synth
