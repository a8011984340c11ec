// Where the int8 kernels' weight bytes come from (part of matmul_int8_impl.h,
// split out to keep files short): a tile of kL rows in the GGUF layout
// (Tile: words transposed into lanes on load) or in the packed layout
// (PackedTile, weight_pack.h: plain loads), read through Load4 / Half,
// overloaded on the tile kind, plus prefetching and the tile store.
// Textually included by matmul_int8_impl.h inside the ISA namespace, after
// I, F, kL and Min64. (No #pragma once; must not include headers itself.)

// The rows of one tile. Rows past the matrix end repeat the last row (their
// lanes are computed and never stored), so every lane loads valid memory.
struct Tile {
  const uint8_t* rows[kL];
  I offsets;  // rows[i] - rows[0], for gathers
  int n;      // valid rows
  int64_t r0;
  // The next tile's rows (contiguous), prefetched a slice per block so that
  // decode keeps memory busy across tile boundaries.
  const uint8_t* next = nullptr;
  int64_t next_lines = 0;
};

inline Tile MakeTile(const MatMulArgs& a, int64_t r0, int n) {
  Tile t;
  for (int i = 0; i < kL; ++i) {
    t.rows[i] = a.w + static_cast<size_t>(r0 + (i < n ? i : n - 1)) * a.row_bytes;
  }
  t.offsets = V::Offsets(static_cast<int64_t>(a.row_bytes), n);
  t.n = n;
  t.r0 = r0;
  const int64_t next_rows = Min64(kL, a.rows - (r0 + kL));
  if (next_rows > 0) {
    t.next = a.w + static_cast<size_t>(r0 + kL) * a.row_bytes;
    t.next_lines = (next_rows * static_cast<int64_t>(a.row_bytes) + 63) / 64;
  }
  return t;
}

// Prefetches block b's share (of nb) of the next tile's cache lines.
inline void PrefetchNext(const Tile& tl, int64_t b, int64_t nb) {
  if (tl.next == nullptr) return;
  const int64_t begin = tl.next_lines * b / nb;
  const int64_t end = tl.next_lines * (b + 1) / nb;
  for (int64_t l = begin; l < end; ++l) _mm_prefetch(reinterpret_cast<const char*>(tl.next + 64 * l), _MM_HINT_T0);
}

// A tile of the packed copy (weight_pack.h): kL lanes of a 16-row packed
// tile (AVX2 reads half of one).
struct PackedTile {
  const uint8_t* base;   // the 16-row tile's block 0
  int64_t block_stride;  // kPackLanes * block_bytes
  int word_lane_off;     // bytes into each 64-byte word line where lane 0 is
  int half_lane_off;     // bytes into the scale run where lane 0's is
  int n;
  int64_t r0;
};

inline PackedTile MakePackedTile(const MatMulArgs& a, int64_t r0, int n, int32_t block_bytes) {
  PackedTile t;
  const int sub = static_cast<int>(r0 % kPackLanes) / kL;
  t.base = a.packed + static_cast<size_t>(r0 / kPackLanes) * kPackLanes * a.row_bytes;
  t.block_stride = static_cast<int64_t>(kPackLanes) * block_bytes;
  t.word_lane_off = sub * kL * 4;
  t.half_lane_off = sub * kL * 2;
  t.n = n;
  t.r0 = r0;
  return t;
}

// The kernels read weights only through these, overloaded on the tile kind:
// Load4 gives g[j] lane i = word j of the 16 bytes at byte `off` of block b of
// row i; Half gives the block's fp16 scale (at L.half_at) per lane.
template <PackLayout L>
inline void Load4(const Tile& t, int64_t b, int off, I g[4]) {
  V::LoadT(t.rows, static_cast<size_t>(b) * L.block_bytes + off, g);
}
template <PackLayout L>
inline void Load4(const PackedTile& t, int64_t b, int off, I g[4]) {
  const uint8_t* p = t.base + b * t.block_stride + L.word_off + 16 * (off - L.word_begin) + t.word_lane_off;
  for (int j = 0; j < 4; ++j) g[j] = V::LoadI(p + 64 * j);
}
template <PackLayout L>
inline F Half(const Tile& t, int64_t b) {
  const size_t off = static_cast<size_t>(b) * L.block_bytes + L.half_at;
  // Gather 32-bit words that stay inside the row (Q6_K's d ends it).
  if constexpr (L.half_at + 4 <= L.block_bytes) {
    return V::HalfLo(V::Gather(t.rows[0] + off, t.offsets));
  } else {
    return V::HalfHi(V::Gather(t.rows[0] + off - 2, t.offsets));
  }
}
template <PackLayout L>
inline F Half(const PackedTile& t, int64_t b) {
  return V::LoadHalves(t.base + b * t.block_stride + L.half_off + t.half_lane_off);
}
inline void Prefetch(const Tile& t, int64_t b, int64_t nb) { PrefetchNext(t, b, nb); }
// Packed tiles are read front to back, and the next tile follows in memory:
// prefetch one block's worth of lines kPackedPrefetchBytes ahead, into L2.
// (llama3-1b, 2 threads: 2 KiB beat 0.75 / 1 / 1.5 / 3 / 4 / 8 KiB, +12% q4_0
// decode over the hardware prefetcher alone; into L2 (T1) beat into L1 (T0)
// by 6-8% for q4_0 and q8_0 decode: it leaves the L1 fill buffers to the
// demand loads.)
constexpr int64_t kPackedPrefetchBytes = 2048;
inline void Prefetch(const PackedTile& t, int64_t b, int64_t) {
  const uint8_t* p = t.base + b * t.block_stride + kPackedPrefetchBytes;
  for (int64_t off = 0; off < t.block_stride; off += 64) _mm_prefetch(reinterpret_cast<const char*>(p + off), _MM_HINT_T1);
}

template <int NT, class T>
inline void StoreTile(const MatMulArgs& a, const T& tl, int64_t t0, const F* acc) {
  for (int t = 0; t < NT; ++t) V::Store(a.y + (t0 + t) * a.rows + tl.r0, acc[t], tl.n);
}
