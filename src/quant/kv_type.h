// The element type of the KV cache's K and V rows, described once: every
// layer (the kernels' row reads and writes, the pool's sizing, the option
// validation of the CLI / runtime / Python binding, the engine fingerprint)
// derives what it needs from kKvTypes.
//
//   f32   4 bytes per element, exact.
//   f16   2 bytes per element (IEEE half, round to nearest even). Default.
//   q8_0  the GGUF Q8_0 block (quant/blocks.h): 32 elements as an fp16 scale
//         d and 32 int8 quants, x = d * q; 34 bytes per 32 elements (8.5
//         bits per element). Blocks run along the row (n_head_kv x
//         head_dim elements), which must be a whole number of blocks (the
//         engine checks at creation): with head_dim >= 32 (a multiple of 32)
//         each head has its own blocks; a smaller head_dim shares a block
//         (and its scale) with its neighbours (stories260K: 4 heads x 8).
//
// Thread safety: constant data and pure functions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "quant/blocks.h"

namespace jarvis {

enum class KvType : uint8_t { kF32, kF16, kQ8_0 };

struct KvTypeTraits {
  KvType type;
  const char* name;    // as options spell it: "f16"
  int32_t block;       // elements per block: a row is a whole number of blocks
  size_t block_bytes;  // bytes per block
};

// Every KV type, in the order option messages list them.
inline constexpr KvTypeTraits kKvTypes[] = {
    {KvType::kF32, "f32", 1, sizeof(float)},
    {KvType::kF16, "f16", 1, sizeof(uint16_t)},
    {KvType::kQ8_0, "q8_0", kQK, sizeof(BlockQ8_0)},
};

// constexpr: the attention kernels size rows with it (an out-of-line lookup
// there cost single-head F16 decode attention several percent).
constexpr const KvTypeTraits& Traits(KvType type) {
  for (const KvTypeTraits& t : kKvTypes) {
    if (t.type == type) return t;
  }
  return kKvTypes[1];  // unreachable: the table lists every enumerator
}

constexpr const char* KvTypeName(KvType type) { return Traits(type).name; }

// Bytes of n elements of a row (n a multiple of Traits(type).block; for
// q8_0 also the byte offset of element n within a row).
constexpr size_t KvRowBytes(KvType type, int64_t n) {
  const KvTypeTraits& t = Traits(type);
  return static_cast<size_t>(n / t.block) * t.block_bytes;
}

// The type named `name` (exactly as kKvTypes spells it), nullopt otherwise.
std::optional<KvType> ParseKvType(std::string_view name);

// "f32, f16, q8_0": the accepted names, for messages and help texts.
std::string KvTypeNames();

}  // namespace jarvis
