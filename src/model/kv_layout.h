// Geometry of the paged KV pool the layer graph reads and writes. The pool is
// an array of blocks; a block holds `block_size` consecutive positions of one
// sequence for every layer:
//   block = [layer 0: K][layer 0: V][layer 1: K] ...
// and each layer's K (or V) is block_size x (n_head_kv * head_dim) elements of
// one KvType (quant/kv_type.h: F32, F16, or Q8_0 blocks of 32), in one of two
// orders:
//   position-major: one row per position holding every KV head;
//   head-major:     head 0's block_size rows of head_dim, then head 1's, ...
// The host pool is head-major (engine.cpp): a decode step reads one KV head
// at a time over thousands of positions, and head-major makes that a run of
// block_size * head_dim contiguous elements per block, which the hardware
// prefetcher streams, instead of a head_dim slice out of every position's
// row (bench/attention_bench.cpp, a Llama-3.2-1B-shaped cache of 4096
// positions in DRAM: 1.8x on one thread, 1.0-1.15x on two). The GPU pool
// keeps position-major rows (its kernels address them; gpu/cuda_offload.cpp).
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
  // Elements per KV head when blocks are head-major; 0: position-major. A
  // head-major head_dim divides n_embd_kv and is a whole number of `type`
  // blocks (HeadMajorDim).
  int32_t head_dim = 0;

  bool head_major() const { return head_dim > 0; }
  size_t row_bytes() const { return KvRowBytes(type, n_embd_kv); }
  size_t layer_bytes() const { return 2 * static_cast<size_t>(block_size) * row_bytes(); }
  size_t block_bytes() const { return static_cast<size_t>(n_layer) * layer_bytes(); }
  size_t k_offset(int32_t layer) const { return static_cast<size_t>(layer) * layer_bytes(); }
  size_t v_offset(int32_t layer) const { return k_offset(layer) + static_cast<size_t>(block_size) * row_bytes(); }
};

// The head_dim a head-major layout of these heads can use: head_dim when a
// head is a whole number of `type` blocks (always for F16/F32; Q8_0 needs
// multiples of 32), else 0 (position-major).
inline int32_t HeadMajorDim(KvType type, int32_t head_dim) {
  return head_dim > 0 && head_dim % Traits(type).block == 0 ? head_dim : 0;
}

// One KV head's cached rows of one layer: `rows` hold it at element
// `head * head_dim` of each row (position-major: head = the KV head; head-major:
// each head has rows of its own, head = 0). Pass both to the attention kernels.
struct KvHeadRows {
  KvRows rows;
  int32_t head = 0;
};

struct KvPoolView {
  KvLayout layout;
  uint8_t* base = nullptr;  // n_blocks * layout.block_bytes() bytes
  int32_t n_blocks = 0;

  // KV head kv_head's K (values = false) or V rows of `layer` for the
  // sequence with this block table.
  KvHeadRows HeadRows(int32_t layer, bool values, const int32_t* block_table, int32_t kv_head) const {
    KvHeadRows r;
    r.rows.pool = base;
    r.rows.block_bytes = layout.block_bytes();
    r.rows.layer_offset = values ? layout.v_offset(layer) : layout.k_offset(layer);
    r.rows.block_size = layout.block_size;
    r.rows.block_table = block_table;
    r.rows.type = layout.type;
    if (layout.head_major()) {
      const size_t head_bytes = KvRowBytes(layout.type, layout.head_dim);
      r.rows.row_bytes = head_bytes;
      r.rows.layer_offset += static_cast<size_t>(kv_head) * static_cast<size_t>(layout.block_size) * head_bytes;
      r.head = 0;
    } else {
      r.rows.row_bytes = layout.row_bytes();
      r.head = kv_head;
    }
    return r;
  }

  // Stores the n_embd_kv values of src as position `pos`'s K (or V) of
  // `layer` (StoreKvRow per head, or of the whole row).
  void StoreRow(int32_t layer, bool values, const int32_t* block_table, int32_t pos, const float* src) const {
    if (!layout.head_major()) {
      uint8_t* row = const_cast<uint8_t*>(HeadRows(layer, values, block_table, 0).rows.row(pos));
      StoreKvRow(src, layout.n_embd_kv, layout.type, row);
      return;
    }
    const int64_t n_head_kv = layout.n_embd_kv / layout.head_dim;
    for (int32_t h = 0; h < n_head_kv; ++h) {
      uint8_t* row = const_cast<uint8_t*>(HeadRows(layer, values, block_table, h).rows.row(pos));
      StoreKvRow(src + static_cast<int64_t>(h) * layout.head_dim, layout.head_dim, layout.type, row);
    }
  }
};

}  // namespace jarvis
