#include "kernels/cpu/weight_pack.h"

#include <algorithm>
#include <cstring>

namespace jarvis {

size_t PackedWeightBytes(int64_t rows, size_t row_bytes) {
  const auto tiles = static_cast<size_t>((rows + kPackLanes - 1) / kPackLanes);
  return tiles * kPackLanes * row_bytes;
}

void PackWeightTiles(GgmlType type, const uint8_t* data, int64_t rows, size_t row_bytes, int64_t tile_begin,
                     int64_t tile_end, uint8_t* packed) {
  const PackLayout l = PackLayoutFor(type);
  const auto bs = static_cast<size_t>(l.block_bytes);
  const size_t nb = row_bytes / bs;
  for (int64_t t = tile_begin; t < tile_end; ++t) {
    uint8_t* tile = packed + static_cast<size_t>(t) * kPackLanes * row_bytes;
    for (int i = 0; i < kPackLanes; ++i) {
      const int64_t r = std::min(rows - 1, t * kPackLanes + i);
      const uint8_t* row = data + static_cast<size_t>(r) * row_bytes;
      for (size_t b = 0; b < nb; ++b) {
        const uint8_t* src = row + b * bs;
        uint8_t* dst = tile + b * kPackLanes * bs;
        for (int k = 0; k < l.n_words; ++k) {
          std::memcpy(dst + l.word_off + 64 * k + 4 * i, src + l.word_begin + 4 * k, 4);
        }
        if (l.half_at >= 0) std::memcpy(dst + l.half_off + 2 * i, src + l.half_at, 2);
      }
    }
  }
}

}  // namespace jarvis
