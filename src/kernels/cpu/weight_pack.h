// Weight repacking for the int8 kernels: a lane-interleaved copy of a
// quantized matrix, made once at load time, so that a tile of 16 rows is read
// with plain vector loads instead of per-row loads and transposes.
//
// Layout. Rows go in tiles of 16 (the last tile repeats the matrix's last row
// to fill up). A tile holds the same bytes as its 16 rows, block by block:
// block b of tile T starts at packed + T * 16 * row_bytes + b * 16 * block_bytes
// and stores, for one GGUF block of each of the 16 rows,
//   - the block's 4-byte words [word_begin, word_begin + 4 * n_words): word k
//     of row i at word_off + 64 * k + 4 * i (one 64-byte line per word k: the
//     register an AVX-512 kernel uses, lane i = row i; AVX2 reads 32-byte halves);
//   - the block's fp16 scale at byte half_at (if any): row i's at half_off + 2 * i.
// Types: Q4_0 and IQ4_NL {d | 16 quant bytes}, Q8_0 {d | 32 quant bytes}, Q4_K
// (all 144 bytes as words), Q6_K (208 bytes of words, then d), Q3_K (108 bytes
// of words, then d), Q5_0 {d | qh, 16 quant bytes}, and as words only: Q4_1
// (20 bytes), Q5_1 (24), Q5_K (176), Q2_K (84), IQ4_XS (136).
//
// The packed copy is an optimisation only: MatMul on a WeightMatrix with
// `packed` set gives the same bits as without it (matmul_test.cpp).
#pragma once

#include <cstddef>
#include <cstdint>

#include "quant/ggml_type.h"
#include "quant/quant_types.h"

namespace jarvis {

struct PackLayout {
  int32_t block_bytes = 0;  // bytes of one GGUF block of a row
  int32_t word_begin = 0;   // first byte of the word region in a block
  int32_t n_words = 0;      // 4-byte words stored interleaved
  int32_t half_at = -1;     // byte of the block's fp16 scale stored apart (-1: none)
  int32_t word_off = 0;     // in a packed block: where word 0 of lane 0 is
  int32_t half_off = 0;     // in a packed block: where lane 0's scale is

  constexpr bool valid() const { return block_bytes > 0; }
};

inline constexpr int kPackLanes = 16;

constexpr PackLayout PackLayoutFor(GgmlType type) {
  switch (type) {
    case GgmlType::kQ4_0:
      return {18, 2, 4, 0, 2 * kPackLanes, 0};
    case GgmlType::kQ8_0:
      return {34, 2, 8, 0, 2 * kPackLanes, 0};
    case GgmlType::kQ4_1:
      return {20, 0, 5, -1, 0, 0};
    case GgmlType::kQ5_0:
      return {22, 2, 5, 0, 2 * kPackLanes, 0};
    case GgmlType::kQ5_1:
      return {24, 0, 6, -1, 0, 0};
    case GgmlType::kQ5_K:
      return {176, 0, 44, -1, 0, 0};
    case GgmlType::kQ4_K:
      return {144, 0, 36, -1, 0, 0};
    case GgmlType::kQ6_K:
      return {210, 0, 52, 208, 0, 52 * 4 * kPackLanes};
    case GgmlType::kQ3_K:
      return {110, 0, 27, 108, 0, 27 * 4 * kPackLanes};
    case GgmlType::kQ2_K:
      return {84, 0, 21, -1, 0, 0};
    case GgmlType::kIQ4_NL:
      return {18, 2, 4, 0, 2 * kPackLanes, 0};
    case GgmlType::kIQ4_XS:
      return {136, 0, 34, -1, 0, 0};
    default:
      return {};
  }
}

// Whether `type` has a packed layout: the registry's `packed` flag, which must
// name exactly the types with a layout above.
constexpr bool HasPackLayout(GgmlType type) { return PackLayoutFor(type).valid(); }
static_assert(TableMatches(&QuantType::packed, HasPackLayout),
              "quant_types.h `packed` and PackLayoutFor disagree");
constexpr bool CanPackWeights(GgmlType type) { return IsPackedType(type); }

// Bytes of the packed copy of a rows x row_bytes matrix (rows rounded up to 16).
size_t PackedWeightBytes(int64_t rows, size_t row_bytes);

// Packs row tiles [tile_begin, tile_end) of the matrix at `data` (rows x
// row_bytes, GGUF layout) into `packed` (the whole packed buffer).
// REQUIRES: CanPackWeights(type).
void PackWeightTiles(GgmlType type, const uint8_t* data, int64_t rows, size_t row_bytes, int64_t tile_begin,
                     int64_t tile_end, uint8_t* packed);

}  // namespace jarvis
