#include "quant/ggml_type.h"

#include <array>
#include <cctype>

namespace jarvis {
namespace {

constexpr int64_t kQK = 32;   // block size of the legacy formats
constexpr int64_t kQKK = 256; // super-block size of the K and IQ formats

// Sizes follow the block structs of ggml (ggml-common.h); see quant/blocks.h for
// the layouts the engine computes with.
constexpr std::array<GgmlTypeTraits, 32> kTypes = {{
    {GgmlType::kF32, "f32", 1, 4, false},
    {GgmlType::kF16, "f16", 1, 2, false},
    {GgmlType::kQ4_0, "q4_0", kQK, 2 + kQK / 2, true},
    {GgmlType::kQ4_1, "q4_1", kQK, 4 + kQK / 2, true},
    {GgmlType::kQ5_0, "q5_0", kQK, 2 + 4 + kQK / 2, true},
    {GgmlType::kQ5_1, "q5_1", kQK, 4 + 4 + kQK / 2, true},
    {GgmlType::kQ8_0, "q8_0", kQK, 2 + kQK, true},
    {GgmlType::kQ8_1, "q8_1", kQK, 4 + kQK, true},
    {GgmlType::kQ2_K, "q2_k", kQKK, kQKK / 16 + kQKK / 4 + 4, true},
    {GgmlType::kQ3_K, "q3_k", kQKK, kQKK / 8 + kQKK / 4 + 12 + 2, true},
    {GgmlType::kQ4_K, "q4_k", kQKK, 4 + 12 + kQKK / 2, true},
    {GgmlType::kQ5_K, "q5_k", kQKK, 4 + 12 + kQKK / 8 + kQKK / 2, true},
    {GgmlType::kQ6_K, "q6_k", kQKK, kQKK / 2 + kQKK / 4 + kQKK / 16 + 2, true},
    {GgmlType::kQ8_K, "q8_k", kQKK, 4 + kQKK + kQKK / 16 * 2, true},
    {GgmlType::kIQ2_XXS, "iq2_xxs", kQKK, 2 + kQKK / 8 * 2, true},
    {GgmlType::kIQ2_XS, "iq2_xs", kQKK, 2 + kQKK / 8 * 2 + kQKK / 32, true},
    {GgmlType::kIQ3_XXS, "iq3_xxs", kQKK, 2 + 3 * kQKK / 8, true},
    {GgmlType::kIQ1_S, "iq1_s", kQKK, 2 + kQKK / 8 + kQKK / 16, true},
    {GgmlType::kIQ4_NL, "iq4_nl", kQK, 2 + kQK / 2, true},
    {GgmlType::kIQ3_S, "iq3_s", kQKK, 2 + kQKK / 4 + kQKK / 32 + kQKK / 8 + kQKK / 64, true},
    {GgmlType::kIQ2_S, "iq2_s", kQKK, 2 + kQKK / 4 + kQKK / 32 + kQKK / 32, true},
    {GgmlType::kIQ4_XS, "iq4_xs", kQKK, 2 + 2 + kQKK / 64 + kQKK / 2, true},
    {GgmlType::kI8, "i8", 1, 1, false},
    {GgmlType::kI16, "i16", 1, 2, false},
    {GgmlType::kI32, "i32", 1, 4, false},
    {GgmlType::kI64, "i64", 1, 8, false},
    {GgmlType::kF64, "f64", 1, 8, false},
    {GgmlType::kIQ1_M, "iq1_m", kQKK, kQKK / 8 + kQKK / 16 + kQKK / 32, true},
    {GgmlType::kBF16, "bf16", 1, 2, false},
    {GgmlType::kTQ1_0, "tq1_0", kQKK, (kQKK - 4 * kQKK / 64) / 5 + kQKK / 64 + 2, true},
    {GgmlType::kTQ2_0, "tq2_0", kQKK, kQKK / 4 + 2, true},
    {GgmlType::kMXFP4, "mxfp4", kQK, 1 + kQK / 2, true},
}};

}  // namespace

const GgmlTypeTraits* FindTypeTraits(uint32_t id) {
  for (const auto& t : kTypes) {
    if (static_cast<uint32_t>(t.type) == id) return &t;
  }
  return nullptr;
}

const GgmlTypeTraits& TypeTraits(GgmlType type) {
  return *FindTypeTraits(static_cast<uint32_t>(type));
}

std::optional<GgmlType> TypeFromName(std::string_view name) {
  for (const auto& t : kTypes) {
    std::string_view n = t.name;
    if (n.size() != name.size()) continue;
    bool same = true;
    for (size_t i = 0; i < n.size() && same; ++i) {
      same = std::tolower(static_cast<unsigned char>(name[i])) == n[i];
    }
    if (same) return t.type;
  }
  return std::nullopt;
}

}  // namespace jarvis
