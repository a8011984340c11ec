// The ggml tensor types that appear in GGUF files, with their block layout
// sizes. Ids are the on-disk values of the GGUF tensor-info `type` field.
//
// A row of n elements of type T occupies (n / block_size) * type_size bytes and n
// must be a multiple of block_size. The table knows every type, including those
// the engine cannot compute with, so any file can be validated and inspected.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace jarvis {

enum class GgmlType : uint32_t {
  kF32 = 0,
  kF16 = 1,
  kQ4_0 = 2,
  kQ4_1 = 3,
  kQ5_0 = 6,
  kQ5_1 = 7,
  kQ8_0 = 8,
  kQ8_1 = 9,
  kQ2_K = 10,
  kQ3_K = 11,
  kQ4_K = 12,
  kQ5_K = 13,
  kQ6_K = 14,
  kQ8_K = 15,
  kIQ2_XXS = 16,
  kIQ2_XS = 17,
  kIQ3_XXS = 18,
  kIQ1_S = 19,
  kIQ4_NL = 20,
  kIQ3_S = 21,
  kIQ2_S = 22,
  kIQ4_XS = 23,
  kI8 = 24,
  kI16 = 25,
  kI32 = 26,
  kI64 = 27,
  kF64 = 28,
  kIQ1_M = 29,
  kBF16 = 30,
  kTQ1_0 = 34,
  kTQ2_0 = 35,
  kMXFP4 = 39,
};

struct GgmlTypeTraits {
  GgmlType type;
  const char* name;   // lower case, as llama.cpp prints it: "q4_k"
  int64_t block_size; // elements per block
  size_t type_size;   // bytes per block
  bool quantized;
};

// Traits of a type id read from a file; nullptr when the id is unknown or was
// removed from the format (e.g. the old interleaved Q4_0_4_4 ids 31..33).
const GgmlTypeTraits* FindTypeTraits(uint32_t id);
// REQUIRES: `type` is a value of the enum.
const GgmlTypeTraits& TypeTraits(GgmlType type);
// Case-insensitive lookup by name ("Q4_K", "q8_0", "bf16").
std::optional<GgmlType> TypeFromName(std::string_view name);
inline const char* TypeName(GgmlType type) { return TypeTraits(type).name; }

// Bytes taken by a row of `n` elements. REQUIRES: n % block_size == 0.
inline size_t RowSize(GgmlType type, int64_t n) {
  const auto& t = TypeTraits(type);
  return static_cast<size_t>(n / t.block_size) * t.type_size;
}

}  // namespace jarvis
