// Matmul kernels for F32 / F16 / BF16 weights with F32 activations, written
// once against a vector type V and included by each *_avx*.cpp inside its own
// namespace (after matmul_int8_impl.h, whose Min64 and kL it uses).
//
// Determinism contract: y[t][r] = ReduceAdd(acc) with, per lane,
//   acc = fma(w[c], x[c], acc) over chunks c of kL values in order, the last
//   chunk zero-padded; ReduceAdd sums the lanes in a fixed tree.
// A tile of kFloatRows rows x NT tokens only interleaves independent outputs.

struct LoadF32W {
  static F Full(const uint8_t* row, int64_t i) { return V::LoadF32(reinterpret_cast<const float*>(row) + i); }
  static F Tail(const uint8_t* row, int64_t i, int n) {
    return V::LoadF32Tail(reinterpret_cast<const float*>(row) + i, n);
  }
};
struct LoadF16W {
  static F Full(const uint8_t* row, int64_t i) { return V::LoadF16(reinterpret_cast<const uint16_t*>(row) + i); }
  static F Tail(const uint8_t* row, int64_t i, int n) {
    return V::LoadF16Tail(reinterpret_cast<const uint16_t*>(row) + i, n);
  }
};
struct LoadBF16W {
  static F Full(const uint8_t* row, int64_t i) { return V::LoadBF16(reinterpret_cast<const uint16_t*>(row) + i); }
  static F Tail(const uint8_t* row, int64_t i, int n) {
    return V::LoadBF16Tail(reinterpret_cast<const uint16_t*>(row) + i, n);
  }
};

// Rows per tile: a 4 x 4 tile holds 16 accumulators + 4 weight vectors + 1
// activation vector, which fits AVX-512's 32 registers but spills on AVX2's
// 16; 3 x 4 (12 + 3 + 1) fits there. Every output's own FMA chain is the
// same whatever the tile, so results do not change.
#if defined(__AVX512F__)
constexpr int kFloatRows = 4;
#else
constexpr int kFloatRows = 3;
#endif

template <class W, int NT>
void FloatTile(const MatMulArgs& a, int64_t r0, int nr, int64_t t0) {
  const uint8_t* rows[kFloatRows];
  for (int r = 0; r < kFloatRows; ++r) rows[r] = a.w + static_cast<size_t>(r0 + (r < nr ? r : nr - 1)) * a.row_bytes;
  F acc[kFloatRows][NT];
  for (int r = 0; r < kFloatRows; ++r) {
    for (int t = 0; t < NT; ++t) acc[r][t] = V::ZeroF();
  }
  const int64_t full = a.cols / kL * kL;
  for (int64_t i = 0; i < full; i += kL) {
    F w[kFloatRows];
    for (int r = 0; r < kFloatRows; ++r) w[r] = W::Full(rows[r], i);
    for (int t = 0; t < NT; ++t) {
      const F xv = V::LoadF32(a.x + (t0 + t) * a.cols + i);
      for (int r = 0; r < kFloatRows; ++r) acc[r][t] = V::Fma(w[r], xv, acc[r][t]);
    }
  }
  if (full < a.cols) {
    const int n = static_cast<int>(a.cols - full);
    F w[kFloatRows];
    for (int r = 0; r < kFloatRows; ++r) w[r] = W::Tail(rows[r], full, n);
    for (int t = 0; t < NT; ++t) {
      const F xv = V::LoadF32Tail(a.x + (t0 + t) * a.cols + full, n);
      for (int r = 0; r < kFloatRows; ++r) acc[r][t] = V::Fma(w[r], xv, acc[r][t]);
    }
  }
  for (int r = 0; r < nr; ++r) {
    for (int t = 0; t < NT; ++t) a.y[(t0 + t) * a.rows + r0 + r] = V::ReduceAdd(acc[r][t]);
  }
}

template <class W>
void RunFloatRows(const MatMulArgs& a, int64_t r_begin, int64_t r_end) {
  constexpr int64_t kTokenBlock = 32;
  constexpr int kMaxNT = 4;
  for (int64_t tb = 0; tb < a.n_tokens; tb += kTokenBlock) {
    const int64_t te = Min64(a.n_tokens, tb + kTokenBlock);
    for (int64_t r0 = r_begin; r0 < r_end; r0 += kFloatRows) {
      const int nr = static_cast<int>(Min64(kFloatRows, r_end - r0));
      int64_t t0 = tb;
      for (; t0 + kMaxNT <= te; t0 += kMaxNT) FloatTile<W, kMaxNT>(a, r0, nr, t0);
      switch (te - t0) {
        case 3:
          FloatTile<W, 3>(a, r0, nr, t0);
          break;
        case 2:
          FloatTile<W, 2>(a, r0, nr, t0);
          break;
        case 1:
          FloatTile<W, 1>(a, r0, nr, t0);
          break;
        default:
          break;
      }
    }
  }
}
