// Geometry of the paged KV pool the layer graph reads and writes. The pool is
// an array of blocks; a block holds `block_size` consecutive positions of one
// sequence for every layer:
//   block = [layer 0: K rows][layer 0: V rows][layer 1: K rows] ...
//   rows  = block_size x (n_head_kv * head_dim) elements of one KvType
//           (quant/kv_type.h: F32, F16, or Q8_0 blocks of 32)
// The engine's KvCache owns the memory and hands out blocks; the graph only
// needs this view plus each sequence's block table.
#pragma once

#include <cstddef>
#include <cstdint>

#include "kernels/cpu/attention.h"
#include "quant/kv_type.h"

namespace jarvis {

struct KvLayout {
  int32_t n_layer = 0;
  int64_t n_embd_kv = 0;   // elements per position per layer, for K (and for V)
  int32_t block_size = 16; // positions per block
  KvType type = KvType::kF16;

  size_t row_bytes() const { return KvRowBytes(type, n_embd_kv); }
  size_t layer_bytes() const { return 2 * static_cast<size_t>(block_size) * row_bytes(); }
  size_t block_bytes() const { return static_cast<size_t>(n_layer) * layer_bytes(); }
  size_t k_offset(int32_t layer) const { return static_cast<size_t>(layer) * layer_bytes(); }
  size_t v_offset(int32_t layer) const { return k_offset(layer) + static_cast<size_t>(block_size) * row_bytes(); }
};

struct KvPoolView {
  KvLayout layout;
  uint8_t* base = nullptr;  // n_blocks * layout.block_bytes() bytes
  int32_t n_blocks = 0;

  KvRows Rows(int32_t layer, bool values, const int32_t* block_table) const {
    KvRows r;
    r.pool = base;
    r.block_bytes = layout.block_bytes();
    r.layer_offset = values ? layout.v_offset(layer) : layout.k_offset(layer);
    r.row_bytes = layout.row_bytes();
    r.block_size = layout.block_size;
    r.block_table = block_table;
    r.type = layout.type;
    return r;
  }
};

}  // namespace jarvis
