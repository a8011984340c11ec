// Row operations and attention written once against a vector type V and
// compiled per ISA (ops_avx2.cpp, ops_avx512.cpp include this inside their
// namespace). Each output depends only on its own inputs, with a fixed
// operation order (lanes, then a fixed reduction tree), so results do not
// depend on batch or threads.
// (No #pragma once: included once per ISA, inside a namespace.)

using F = V::F;
constexpr int kL = V::kLanes;

// exp(x) for float lanes: x = n ln2 + r with |r| <= ln2/2, exp(r) by the
// Cephes expf polynomial, times 2^n (exact scaling). Inputs are clamped to
// [-87.33, 88] so that n stays in [-126, 127]; max error ~2 ulp.
inline F Exp(F x) {
  x = V::MinF(V::MaxF(x, V::Set1F(-87.33f)), V::Set1F(88.0f));
  const F n = V::Round(V::Mul(x, V::Set1F(1.44269504088896341f)));
  F r = V::Fnma(n, V::Set1F(0.693359375f), x);
  r = V::Fnma(n, V::Set1F(-2.12194440e-4f), r);
  F p = V::Set1F(1.9875691500e-4f);
  p = V::Fma(p, r, V::Set1F(1.3981999507e-3f));
  p = V::Fma(p, r, V::Set1F(8.3334519073e-3f));
  p = V::Fma(p, r, V::Set1F(4.1665795894e-2f));
  p = V::Fma(p, r, V::Set1F(1.6666665459e-1f));
  p = V::Fma(p, r, V::Set1F(5.0000001201e-1f));
  const F e = V::Add(V::Fma(V::Mul(r, r), p, r), V::Set1F(1.0f));
  return V::Scale2(e, n);
}

inline void SiluMulImpl(float* x, const float* y, int64_t n) {
  int64_t i = 0;
  for (; i + kL <= n; i += kL) {
    const F xv = V::LoadF32(x + i);
    const F s = V::Div(xv, V::Add(V::Set1F(1.0f), Exp(V::Neg(xv))));
    V::StoreF32(x + i, V::Mul(s, V::LoadF32(y + i)));
  }
  if (i < n) {
    const int m = static_cast<int>(n - i);
    const F xv = V::LoadF32Tail(x + i, m);
    const F s = V::Div(xv, V::Add(V::Set1F(1.0f), Exp(V::Neg(xv))));
    V::Store(x + i, V::Mul(s, V::LoadF32Tail(y + i, m)), m);
  }
}

// gelu_tanh(v) = 0.5 v (1 + tanh(u)), u = sqrt(2/pi) (v + 0.044715 v^3), and
// 0.5 (1 + tanh(u)) = 1 / (1 + exp(-2u)): the same shape as SiLU, so one
// vector Exp instead of libm's scalar tanh (which took ~35% of a gemma
// prompt's compute). Exp clamps its input, so very negative v gives
// v / (1 + e^88) ~ -0, as the exact function does.
inline F GeluTanh(F v) {
  const F v3 = V::Mul(V::Mul(v, v), v);
  const F u2 = V::Mul(V::Fma(V::Set1F(0.044715f), v3, v), V::Set1F(-2.0f * 0.7978845608028654f));
  return V::Div(v, V::Add(V::Set1F(1.0f), Exp(u2)));
}

inline void GeluTanhMulImpl(float* x, const float* y, int64_t n) {
  int64_t i = 0;
  for (; i + kL <= n; i += kL) V::StoreF32(x + i, V::Mul(GeluTanh(V::LoadF32(x + i)), V::LoadF32(y + i)));
  if (i < n) {
    const int m = static_cast<int>(n - i);
    V::Store(x + i, V::Mul(GeluTanh(V::LoadF32Tail(x + i, m)), V::LoadF32Tail(y + i, m)), m);
  }
}

inline void GeluTanhImpl(float* x, int64_t n) {
  int64_t i = 0;
  for (; i + kL <= n; i += kL) V::StoreF32(x + i, GeluTanh(V::LoadF32(x + i)));
  if (i < n) {
    const int m = static_cast<int>(n - i);
    V::Store(x + i, GeluTanh(V::LoadF32Tail(x + i, m)), m);
  }
}

// In place: x = exp(x - max(x)); returns sum(x) (over lanes, then a fixed
// tree) and the max in *max_out.
inline float ExpMinusMaxImpl(float* x, int64_t n, float* max_out) {
  F m = V::Set1F(-3.402823466e38f);
  int64_t i = 0;
  for (; i + kL <= n; i += kL) m = V::MaxF(m, V::LoadF32(x + i));
  float max = V::ReduceMax(m);
  for (int64_t j = i; j < n; ++j) max = x[j] > max ? x[j] : max;
  const F mv = V::Set1F(max);
  F sum = V::ZeroF();
  for (i = 0; i + kL <= n; i += kL) {
    const F e = Exp(V::Sub(V::LoadF32(x + i), mv));
    V::StoreF32(x + i, e);
    sum = V::Add(sum, e);
  }
  if (i < n) {
    const int r = static_cast<int>(n - i);
    // Padding lanes load 0, and exp(0 - max) is not 0: mask them out of the sum.
    const F e = V::Mask(Exp(V::Sub(V::LoadF32Tail(x + i, r), mv)), r);
    V::Store(x + i, e, r);
    sum = V::Add(sum, e);
  }
  *max_out = max;
  return V::ReduceAdd(sum);
}

// In place: exp(x - max) / sum.
inline void SoftmaxImpl(float* x, int64_t n) {
  float max;
  const F inv = V::Set1F(1.0f / ExpMinusMaxImpl(x, n, &max));
  int64_t i = 0;
  for (; i + kL <= n; i += kL) V::StoreF32(x + i, V::Mul(V::LoadF32(x + i), inv));
  if (i < n) {
    const int r = static_cast<int>(n - i);
    V::Store(x + i, V::Mul(V::LoadF32Tail(x + i, r), inv), r);
  }
}

// The row of cached position p (KvRows::row, spelled out: see matmul_isa.h).
inline const uint8_t* KvRow(const KvRows& kv, int32_t r) {
  const int32_t p = r + kv.first;
  return kv.pool + static_cast<size_t>(kv.block_table[p / kv.block_size]) * kv.block_bytes + kv.layer_offset +
         static_cast<size_t>(p % kv.block_size) * kv.row_bytes;
}

// KvRow without a division per row when the block size is a power of two
// (the default 16): a shift and a mask. Run(r) gives the rows that follow r
// in its block, row_bytes apart, so that loops compute one address per block.
struct KvCursor {
  const KvRows& kv;
  int shift = -1;  // log2(block_size), or -1
  explicit KvCursor(const KvRows& rows) : kv(rows) {
    const int32_t bs = rows.block_size;
    if (bs > 0 && (bs & (bs - 1)) == 0) shift = __builtin_ctz(static_cast<unsigned>(bs));
  }
  const uint8_t* Row(int32_t r) const {
    if (shift < 0) return KvRow(kv, r);
    const int32_t p = r + kv.first;
    return kv.pool + static_cast<size_t>(kv.block_table[p >> shift]) * kv.block_bytes + kv.layer_offset +
           static_cast<size_t>(p & (kv.block_size - 1)) * kv.row_bytes;
  }
  // Rows r, r + 1, ... up to the end of r's block, or up to `end`.
  int32_t RunLength(int32_t r, int32_t end) const {
    const int32_t p = r + kv.first;
    const int32_t slot = shift < 0 ? p % kv.block_size : p & (kv.block_size - 1);
    const int32_t run = kv.block_size - slot;
    return run < end - r ? run : end - r;
  }
};

// Element i of a cached Q8_0 row (exact: an 11-bit significand times a 7-bit
// integer).
inline float Q8At(const uint8_t* row, int64_t i) {
  const uint8_t* block = row + i / kQK * static_cast<int64_t>(sizeof(BlockQ8_0));
  uint16_t d;
  std::memcpy(&d, block, sizeof d);
  return _cvtsh_ss(d) * static_cast<float>(reinterpret_cast<const int8_t*>(block + 2)[i % kQK]);
}

// Elements [i, i + kL) of a cached row of type T as floats. Q8_0: i must be a
// multiple of kL (kL divides the block of 32, so the lanes share one block);
// the values equal the scalar path's (exact products).
template <KvType T>
inline F LoadKvT(const uint8_t* row, int64_t i) {
  if constexpr (T == KvType::kF16) {
    return V::LoadF16(reinterpret_cast<const uint16_t*>(row) + i);
  } else if constexpr (T == KvType::kF32) {
    return V::LoadF32(reinterpret_cast<const float*>(row) + i);
  } else {
    const uint8_t* block = row + i / kQK * static_cast<int64_t>(sizeof(BlockQ8_0));
    uint16_t d;
    std::memcpy(&d, block, sizeof d);
    return V::Mul(V::Set1F(_cvtsh_ss(d)), V::LoadI8(reinterpret_cast<const int8_t*>(block + 2) + i % kQK));
  }
}

// The first n <= kL elements from i of a Q8_0 row, any alignment (they may
// cross a block boundary when a head's slice does not start on a multiple of
// kL), padding lanes 0.
inline F LoadQ8Tail(const uint8_t* row, int64_t i, int n) {
  alignas(64) float tmp[kL] = {};
  for (int j = 0; j < n; ++j) tmp[j] = Q8At(row, i + j);
  return V::LoadF32(tmp);
}

// Elements [i, i + kL) of a row of any type, any i (the head_dim-generic path).
inline F LoadKv(const uint8_t* row, int64_t i, KvType type) {
  switch (type) {
    case KvType::kF16:
      return LoadKvT<KvType::kF16>(row, i);
    case KvType::kQ8_0:
      return i % kL == 0 ? LoadKvT<KvType::kQ8_0>(row, i) : LoadQ8Tail(row, i, kL);
    case KvType::kF32:
      break;
  }
  return LoadKvT<KvType::kF32>(row, i);
}

// The last n < kL elements of a head's slice, padding lanes 0.
inline F LoadKvTail(const uint8_t* row, int64_t i, int n, KvType type) {
  switch (type) {
    case KvType::kF16:
      return V::LoadF16Tail(reinterpret_cast<const uint16_t*>(row) + i, n);
    case KvType::kQ8_0:
      return LoadQ8Tail(row, i, n);
    case KvType::kF32:
      break;
  }
  return V::LoadF32Tail(reinterpret_cast<const float*>(row) + i, n);
}

// Lane i of the result = sum of the lanes of v[i], for kL vectors (a
// transposing reduction: ~2 shuffles per vector instead of ~7).
inline F ReduceLanes(const F* v) { return V::TransposeSum(v); }

// The query heads (any number: a group, or a prompt tile's tokens x group)
// that share one KV head, head_dim = NC * kL, over rows [p0, p1): the
// partial of attention.h's AttentionGroupPartial (m = max score,
// l = sum of exp(score - m), o = sum of exp(score - m) * v).
//
// A decode step is ~all rows x heads of this loop, so it is written to stay
// in registers (the first version, with the output accumulators and the
// key conversions per head in memory, was compute-bound at ~30 cycles per
// row and head even from L2):
// - keys are staged: up to StageRows<NC>() rows of the head's slice are
//   converted once to floats in an L1-sized tile that every head reads
//   (conversion is exact, so staging changes no value);
// - values are converted into registers row by row and feed the output
//   accumulators of a block of heads and dimensions held in registers
//   (ValueHeads x ValueVecs vectors); a group or head too large for the
//   registers takes several passes over the rows, which are in L1/L2 by then
//   (Q8_0 rows that take several passes are dequantized once into the tile).
// For each head the float operations are those of one head alone:
// - score of row i: one chain q[0] k[0], + q[c] k[c] over c in order, times
//   scale; rows go kL at a time (ReduceLanes) counted from p0, the rest one
//   by one (ReduceAdd);
// - output: per lane one chain of FMAs over the rows in order.
// So a head's result depends only on [p0, p1), not on the group or on
// threads. Rows lie a cached row apart, too far apart for the hardware
// prefetcher (position-major) or in runs of one block (head-major): the rows
// kKvPrefetchAhead ahead are prefetched as the loops go. q, o: the group's
// heads back to back; scores: group x (p1 - p0).

// Rows are prefetched this many positions ahead of their use.
constexpr int32_t kKvPrefetchAhead = 64;

// Floats in a staged tile: 32 KiB, L1-resident beside the scores.
constexpr int kStageFloats = 8192;

template <int NC>
constexpr int StageRows() {
  const int rows = kStageFloats / (NC * kL) / kL * kL;
  return rows < kL ? kL : rows;
}

// Output accumulators held in registers in the value loop: half the vector
// registers (32 on AVX-512, 16 on AVX2), the rest for the row's values and
// the weights. ValueVecs<NC>() vectors of a head's output per pass (all of
// them up to the budget), ValueHeads<NC>() heads at a time.
constexpr int kValueAccs = kL == 16 ? 16 : 8;
template <int NC>
constexpr int ValueVecs() {
  return NC < kValueAccs ? NC : kValueAccs;
}
template <int NC>
constexpr int ValueHeads() {
  return kValueAccs / ValueVecs<NC>();
}

// Prefetches the slice of row r (head_bytes: the head's byte offset in a
// row, bytes: its length) when r < end. The loops prefetch one row per row
// they consume, kKvPrefetchAhead rows ahead: bursts of a whole block or tile
// measured ~25% slower from DRAM than this steady stream. Always inlined:
// GCC takes a function whose only effect is prefetching for a const one and
// drops the calls (seen here: the attention loops had lost every prefetch).
__attribute__((always_inline)) inline void PrefetchRow(const KvCursor& kv, int32_t r, int32_t end, size_t head_bytes,
                                                       int bytes) {
  if (r >= end) return;
  const uint8_t* row = kv.Row(r) + head_bytes;
  for (int b = 0; b < bytes; b += 64) _mm_prefetch(reinterpret_cast<const char*>(row + b), _MM_HINT_T0);
}

// Scores to partial weights, per head: softcap, then exp(s - max) in place.
inline void ScoresToWeights(float* scores, int group, int32_t n, float softcap, float* m, float* l) {
  for (int g = 0; g < group; ++g) {
    if (softcap > 0.0f) SoftcapInPlace(scores + g * n, n, softcap);
    l[g] = ExpMinusMaxImpl(scores + g * n, n, &m[g]);
  }
}

// Converts rows [p, p + rows) of the head's slice (p + rows <= end) into
// tile (rows x NC * kL floats), a block's run at a time.
template <int NC, KvType T>
inline void StageRowsImpl(const KvCursor& kv, int32_t p, int rows, int32_t end, int64_t head_off, size_t head_bytes,
                          int slice_bytes, float* tile) {
  for (int r = 0; r < rows;) {
    const int32_t run = kv.RunLength(p + r, p + rows);
    const uint8_t* row = kv.Row(p + r);
    for (int32_t j = 0; j < run; ++j, ++r, row += kv.kv.row_bytes) {
      PrefetchRow(kv, p + r + kKvPrefetchAhead, end, head_bytes, slice_bytes);
      float* dst = tile + static_cast<int64_t>(r) * NC * kL;
      for (int c = 0; c < NC; ++c) V::StoreF32(dst + c * kL, LoadKvT<T>(row, head_off + c * kL));
    }
  }
}

// The first kKvPrefetchAhead rows of [p, end), prefetched.
__attribute__((always_inline)) inline void PrefetchFirst(const KvCursor& kv, int32_t p, int32_t end,
                                                         size_t head_bytes, int bytes) {
  for (int32_t i = 0; i < kKvPrefetchAhead; ++i) PrefetchRow(kv, p + i, end, head_bytes, bytes);
}

// out[h][c] (+)= sum_i w[h][i] v_i[c] for heads h < H and vectors c < VC
// of the slice at element head_off, rows [p0, p0 + n): one FMA chain per lane
// over the rows in order, continuing from out's values when `accumulate`.
// w: a head's weights, w_stride floats apart; out: a head's output, NC * kL
// floats apart. (H is a constant so that the accumulators stay in registers.)
// prefetch_bytes: the slice's bytes to prefetch ahead per row (PrefetchRow),
// or 0 when an earlier pass or the staging already brought the rows in.
template <int NC, KvType T, int H, int VC>
void ValueBlock(const KvCursor& kv, int32_t p0, int32_t n, int64_t head_off, size_t head_bytes, int prefetch_bytes,
                const float* w, int64_t w_stride, bool accumulate, float* out) {
  F o[H][VC];
  for (int h = 0; h < H; ++h) {
    for (int c = 0; c < VC; ++c) {
      o[h][c] = accumulate ? V::LoadF32(out + static_cast<int64_t>(h) * NC * kL + c * kL) : V::ZeroF();
    }
  }
  if (prefetch_bytes > 0) PrefetchFirst(kv, p0, p0 + n, head_bytes, prefetch_bytes);
  for (int32_t i = 0; i < n;) {
    const int32_t run = kv.RunLength(p0 + i, p0 + n);
    const uint8_t* row = kv.Row(p0 + i);
    for (int32_t j = 0; j < run; ++j, ++i, row += kv.kv.row_bytes) {
      if (prefetch_bytes > 0) PrefetchRow(kv, p0 + i + kKvPrefetchAhead, p0 + n, head_bytes, prefetch_bytes);
      F val[VC];
      for (int c = 0; c < VC; ++c) val[c] = LoadKvT<T>(row, head_off + c * kL);
      for (int h = 0; h < H; ++h) {
        const F wv = V::Set1F(w[static_cast<int64_t>(h) * w_stride + i]);
        for (int c = 0; c < VC; ++c) o[h][c] = V::Fma(wv, val[c], o[h][c]);
      }
    }
  }
  for (int h = 0; h < H; ++h) {
    for (int c = 0; c < VC; ++c) V::StoreF32(out + static_cast<int64_t>(h) * NC * kL + c * kL, o[h][c]);
  }
}

// ValueBlock of `heads` (1..H) heads.
template <int NC, KvType T, int H, int VC>
void ValueBlockOf(int heads, const KvCursor& kv, int32_t p0, int32_t n, int64_t head_off, size_t head_bytes,
                  int prefetch_bytes, const float* w, int64_t w_stride, bool accumulate, float* out) {
  if (heads == H) {
    return ValueBlock<NC, T, H, VC>(kv, p0, n, head_off, head_bytes, prefetch_bytes, w, w_stride, accumulate, out);
  }
  if constexpr (H > 1) {
    ValueBlockOf<NC, T, H - 1, VC>(heads, kv, p0, n, head_off, head_bytes, prefetch_bytes, w, w_stride, accumulate,
                                   out);
  }
}

// Rows of a staged tile (rows x NC * kL floats) as a KvRows view.
template <int NC>
KvRows TileRows(const float* tile, const int32_t* block_zero) {
  KvRows r;
  r.pool = reinterpret_cast<const uint8_t*>(tile);
  r.row_bytes = static_cast<size_t>(NC) * kL * sizeof(float);
  r.block_size = 1 << 30;
  r.block_table = block_zero;
  r.type = KvType::kF32;
  return r;
}

template <int NC, KvType T>
void AttentionPartialFixed(const float* q, int group, const KvRows& k, const KvRows& v, int64_t head_off, int32_t p0,
                           int32_t p1, float scale, float softcap, float* scores, float* m, float* l, float* out) {
  constexpr int kRows = StageRows<NC>();
  constexpr int kVecs = ValueVecs<NC>();
  constexpr int kHeads = ValueHeads<NC>();
  static_assert(NC % kVecs == 0, "the output goes in whole register blocks");
  const int32_t n = p1 - p0;
  const F scale_v = V::Set1F(scale);
  // Bytes to prefetch per row: the slice, rounded up to whole Q8_0 blocks.
  const int slice_bytes = static_cast<int>(KvRowBytes(T, NC * kL + (T == KvType::kQ8_0 ? kQK - 1 : 0)));
  const size_t head_bytes = KvRowBytes(T, head_off);
  const KvCursor kc(k), vc(v);
  alignas(64) float tile[kRows * NC * kL];

  // Scores.
  PrefetchFirst(kc, p0, p1, head_bytes, slice_bytes);
  for (int32_t t0 = 0; t0 < n; t0 += kRows) {
    const int rows = n - t0 < kRows ? static_cast<int>(n - t0) : kRows;
    StageRowsImpl<NC, T>(kc, p0 + t0, rows, p1, head_off, head_bytes, slice_bytes, tile);
    for (int g = 0; g < group; ++g) {
      F qv[NC];
      for (int c = 0; c < NC; ++c) qv[c] = V::LoadF32(q + (g * NC + c) * kL);
      float* sg = scores + static_cast<int64_t>(g) * n + t0;
      int r0 = 0;
      for (; r0 + kL <= rows; r0 += kL) {
        F acc[kL];
        for (int i = 0; i < kL; ++i) {
          const float* key = tile + (r0 + i) * NC * kL;
          acc[i] = V::Mul(qv[0], V::LoadF32(key));
          for (int c = 1; c < NC; ++c) acc[i] = V::Fma(qv[c], V::LoadF32(key + c * kL), acc[i]);
        }
        V::StoreF32(sg + r0, V::Mul(ReduceLanes(acc), scale_v));
      }
      for (; r0 < rows; ++r0) {
        const float* key = tile + r0 * NC * kL;
        F acc = V::Mul(qv[0], V::LoadF32(key));
        for (int c = 1; c < NC; ++c) acc = V::Fma(qv[c], V::LoadF32(key + c * kL), acc);
        sg[r0] = V::ReduceAdd(acc) * scale;
      }
    }
  }
  ScoresToWeights(scores, group, n, softcap, m, l);

  // Weighted sum of the values, a block of heads x dimensions at a time.
  // When that takes several passes over Q8_0 rows, the rows are dequantized
  // once into the tile instead of once per pass (AVX2, 4 heads of 64: four
  // passes, measured 1.3x slower than the single pass before staging).
  const int passes = (group + kHeads - 1) / kHeads * (NC / kVecs);
  if (T != KvType::kQ8_0 || passes == 1) {
    for (int g0 = 0; g0 < group; g0 += kHeads) {
      for (int c0 = 0; c0 < NC; c0 += kVecs) {
        const bool first_pass = g0 == 0 && c0 == 0;  // later passes find the rows in cache
        ValueBlockOf<NC, T, kHeads, kVecs>(group - g0 < kHeads ? group - g0 : kHeads, vc, p0, n, head_off + c0 * kL,
                                           head_bytes, first_pass ? slice_bytes : 0, scores + g0 * n, n, false,
                                           out + g0 * NC * kL + c0 * kL);
      }
    }
    return;
  }
  PrefetchFirst(vc, p0, p1, head_bytes, slice_bytes);
  static constexpr int32_t kBlockZero = 0;
  const KvRows staged = TileRows<NC>(tile, &kBlockZero);
  const KvCursor tc(staged);
  for (int32_t t0 = 0; t0 < n; t0 += kRows) {
    const int rows = n - t0 < kRows ? static_cast<int>(n - t0) : kRows;
    StageRowsImpl<NC, T>(vc, p0 + t0, rows, p1, head_off, head_bytes, slice_bytes, tile);
    for (int g0 = 0; g0 < group; g0 += kHeads) {
      for (int c0 = 0; c0 < NC; c0 += kVecs) {
        ValueBlockOf<NC, KvType::kF32, kHeads, kVecs>(group - g0 < kHeads ? group - g0 : kHeads, tc, 0, rows, c0 * kL,
                                                      0, 0, scores + g0 * n + t0, n, t0 > 0,
                                                      out + g0 * NC * kL + c0 * kL);
      }
    }
  }
}

// Any head_dim, one head: chunks of kL and a masked tail; the output
// accumulates in memory.
inline void AttentionPartialAny(const float* q, const KvRows& k, const KvRows& v, int64_t head_off, int32_t head_dim,
                                int32_t p0, int32_t p1, float scale, float softcap, float* scores, float* m, float* l,
                                float* out) {
  const int32_t n = p1 - p0;
  const int32_t full = head_dim / kL * kL;
  const int tail = head_dim - full;
  for (int32_t i = 0; i < n; ++i) {
    const uint8_t* row = KvRow(k, p0 + i);
    F acc = V::ZeroF();
    for (int32_t c = 0; c < full; c += kL) acc = V::Fma(V::LoadF32(q + c), LoadKv(row, head_off + c, k.type), acc);
    if (tail > 0) acc = V::Fma(V::LoadF32Tail(q + full, tail), LoadKvTail(row, head_off + full, tail, k.type), acc);
    scores[i] = V::ReduceAdd(acc) * scale;
  }
  ScoresToWeights(scores, 1, n, softcap, m, l);
  for (int32_t d = 0; d < head_dim; ++d) out[d] = 0.0f;
  for (int32_t i = 0; i < n; ++i) {
    const uint8_t* row = KvRow(v, p0 + i);
    const F w = V::Set1F(scores[i]);
    for (int32_t c = 0; c < full; c += kL) {
      V::StoreF32(out + c, V::Fma(w, LoadKv(row, head_off + c, v.type), V::LoadF32(out + c)));
    }
    if (tail > 0) {
      V::Store(out + full, V::Fma(w, LoadKvTail(row, head_off + full, tail, v.type), V::LoadF32Tail(out + full, tail)),
               tail);
    }
  }
}

// Whole-sequence attention of one query head (AttentionDense in attention.h),
// kDenseQueries queries at a time so that each load of K or V feeds several
// queries' FMAs. K is transposed once into kt (head_dim x n): the scores of kL
// keys come from head_dim FMAs with no horizontal sums, per query and key
// block one chain over d. The weighted sum of V is, per query and kL
// dimensions, one chain over the keys in order. A query's arithmetic does not
// depend on the other queries of its tile (a short last tile repeats its last
// query), so every output depends only on the sequence.
#if defined(__AVX512F__)
constexpr int kDenseKeyVecs = 4;  // 4 queries x 4 key vectors: 16 accumulators of 32 registers
constexpr int kDenseDimVecs = 4;
#else
constexpr int kDenseKeyVecs = 2;  // 4 x 2 = 8 accumulators of 16 registers
constexpr int kDenseDimVecs = 2;
#endif
constexpr int kDenseQ = kAttentionDenseQueries;

// scores[qi * n + j] = q_qi . k_j * scale for the tile's queries, keys
// [j, j + nv * kL) (m valid lanes in the last vector).
template <int NV>
inline void DenseScores(const float* const* qs, const float* kt, int32_t n, int32_t head_dim, int32_t j, int m,
                        F scale_v, float* scores) {
  F acc[kDenseQ][NV];
  for (int qi = 0; qi < kDenseQ; ++qi) {
    for (int b = 0; b < NV; ++b) acc[qi][b] = V::ZeroF();
  }
  for (int32_t d = 0; d < head_dim; ++d) {
    const float* row = kt + static_cast<int64_t>(d) * n + j;
    F kv[NV];
    for (int b = 0; b < NV; ++b) kv[b] = b + 1 < NV || m == kL ? V::LoadF32(row + b * kL) : V::LoadF32Tail(row + b * kL, m);
    for (int qi = 0; qi < kDenseQ; ++qi) {
      const F qd = V::Set1F(qs[qi][d]);
      for (int b = 0; b < NV; ++b) acc[qi][b] = V::Fma(qd, kv[b], acc[qi][b]);
    }
  }
  for (int qi = 0; qi < kDenseQ; ++qi) {
    for (int b = 0; b < NV; ++b) {
      float* dst = scores + static_cast<int64_t>(qi) * n + j + b * kL;
      if (b + 1 < NV || m == kL) {
        V::StoreF32(dst, V::Mul(acc[qi][b], scale_v));
      } else {
        V::Store(dst, V::Mul(acc[qi][b], scale_v), m);
      }
    }
  }
}

// outs[qi][d .. d + nv * kL) (m valid lanes in the last vector) =
// sum_j scores[qi * n + j] * v_j over all keys j in order.
template <int NV>
inline void DenseValues(const float* scores, const float* v, int64_t kv_stride, int32_t n, int32_t d, int m,
                        float* const* outs) {
  F acc[kDenseQ][NV];
  for (int qi = 0; qi < kDenseQ; ++qi) {
    for (int b = 0; b < NV; ++b) acc[qi][b] = V::ZeroF();
  }
  const float* vd = v + d;
  for (int32_t j = 0; j < n; ++j, vd += kv_stride) {
    F vv[NV];
    for (int b = 0; b < NV; ++b) vv[b] = b + 1 < NV || m == kL ? V::LoadF32(vd + b * kL) : V::LoadF32Tail(vd + b * kL, m);
    for (int qi = 0; qi < kDenseQ; ++qi) {
      const F sj = V::Set1F(scores[static_cast<int64_t>(qi) * n + j]);
      for (int b = 0; b < NV; ++b) acc[qi][b] = V::Fma(sj, vv[b], acc[qi][b]);
    }
  }
  for (int qi = 0; qi < kDenseQ; ++qi) {
    if (outs[qi] == nullptr) continue;
    for (int b = 0; b < NV; ++b) {
      if (b + 1 < NV || m == kL) {
        V::StoreF32(outs[qi] + d + b * kL, acc[qi][b]);
      } else {
        V::Store(outs[qi] + d + b * kL, acc[qi][b], m);
      }
    }
  }
}

inline void AttentionDenseImpl(const float* q, int64_t q_stride, const float* k, const float* v, int64_t kv_stride,
                               int32_t n, int32_t head_dim, float scale, float softcap, float* kt, float* scores,
                               float* out, int64_t out_stride) {
  for (int32_t j = 0; j < n; ++j) {
    for (int32_t d = 0; d < head_dim; ++d) kt[static_cast<int64_t>(d) * n + j] = k[j * kv_stride + d];
  }
  const F scale_v = V::Set1F(scale);
  for (int32_t i0 = 0; i0 < n; i0 += kDenseQ) {
    const float* qs[kDenseQ];
    float* outs[kDenseQ];
    for (int qi = 0; qi < kDenseQ; ++qi) {
      const int32_t i = i0 + qi < n ? i0 + qi : n - 1;
      qs[qi] = q + i * q_stride;
      outs[qi] = i0 + qi < n ? out + i * out_stride : nullptr;
    }
    int32_t j = 0;
    for (; j + kDenseKeyVecs * kL <= n; j += kDenseKeyVecs * kL) {
      DenseScores<kDenseKeyVecs>(qs, kt, n, head_dim, j, kL, scale_v, scores);
    }
    for (; j < n; j += kL) DenseScores<1>(qs, kt, n, head_dim, j, n - j < kL ? n - j : kL, scale_v, scores);
    for (int qi = 0; qi < kDenseQ; ++qi) {
      float* row = scores + static_cast<int64_t>(qi) * n;
      if (softcap > 0.0f) SoftcapInPlace(row, n, softcap);
      SoftmaxImpl(row, n);
    }
    int32_t d = 0;
    for (; d + kDenseDimVecs * kL <= head_dim; d += kDenseDimVecs * kL) {
      DenseValues<kDenseDimVecs>(scores, v, kv_stride, n, d, kL, outs);
    }
    for (; d < head_dim; d += kL) DenseValues<1>(scores, v, kv_stride, n, d, head_dim - d < kL ? head_dim - d : kL, outs);
  }
}
