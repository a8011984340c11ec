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

// In place: exp(x - max) / sum, the sum over lanes then a fixed tree.
inline void SoftmaxImpl(float* x, int64_t n) {
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
  const F inv = V::Set1F(1.0f / V::ReduceAdd(sum));
  for (i = 0; i + kL <= n; i += kL) V::StoreF32(x + i, V::Mul(V::LoadF32(x + i), inv));
  if (i < n) {
    const int r = static_cast<int>(n - i);
    V::Store(x + i, V::Mul(V::LoadF32Tail(x + i, r), inv), r);
  }
}

// The row of cached position p (KvRows::row, spelled out: see matmul_isa.h).
inline const uint8_t* KvRow(const KvRows& kv, int32_t p) {
  return kv.pool + static_cast<size_t>(kv.block_table[p / kv.block_size]) * kv.block_bytes + kv.layer_offset +
         static_cast<size_t>(p % kv.block_size) * kv.row_bytes;
}

inline F LoadKv(const uint8_t* row, int64_t i, bool f16) {
  return f16 ? V::LoadF16(reinterpret_cast<const uint16_t*>(row) + i)
             : V::LoadF32(reinterpret_cast<const float*>(row) + i);
}
inline F LoadKvTail(const uint8_t* row, int64_t i, int n, bool f16) {
  return f16 ? V::LoadF16Tail(reinterpret_cast<const uint16_t*>(row) + i, n)
             : V::LoadF32Tail(reinterpret_cast<const float*>(row) + i, n);
}

// Lane i of the result = sum of the lanes of v[i], for kL vectors (a
// transposing reduction: ~2 shuffles per vector instead of ~7).
inline F ReduceLanes(const F* v) { return V::TransposeSum(v); }

// head_dim = NC * kL: q and the output accumulators live in registers. Scores
// go kL positions at a time (ReduceLanes), the rest one by one; the weighted
// sum of V keeps four sets of accumulators (position p in set p % 4), added
// as (s0 + s1) + (s2 + s3) at the end. The order depends only on n_pos.
template <int NC>
void AttentionFixed(const float* q, const KvRows& k, const KvRows& v, int64_t head_off, int32_t n_pos,
                    float scale, float* scores, float* out) {
  F qv[NC];
  for (int c = 0; c < NC; ++c) qv[c] = V::LoadF32(q + c * kL);
  const F scale_v = V::Set1F(scale);
  int32_t p = 0;
  for (; p + kL <= n_pos; p += kL) {
    F acc[kL];
    for (int i = 0; i < kL; ++i) {
      const uint8_t* row = KvRow(k, p + i);
      acc[i] = V::Mul(qv[0], LoadKv(row, head_off, k.f16));
      for (int c = 1; c < NC; ++c) acc[i] = V::Fma(qv[c], LoadKv(row, head_off + c * kL, k.f16), acc[i]);
    }
    V::StoreF32(scores + p, V::Mul(ReduceLanes(acc), scale_v));
  }
  for (; p < n_pos; ++p) {
    const uint8_t* row = KvRow(k, p);
    F acc = V::Mul(qv[0], LoadKv(row, head_off, k.f16));
    for (int c = 1; c < NC; ++c) acc = V::Fma(qv[c], LoadKv(row, head_off + c * kL, k.f16), acc);
    scores[p] = V::ReduceAdd(acc) * scale;
  }
  SoftmaxImpl(scores, n_pos);
  F o[4][NC];
  for (int s = 0; s < 4; ++s) {
    for (int c = 0; c < NC; ++c) o[s][c] = V::ZeroF();
  }
  p = 0;
  for (; p + 4 <= n_pos; p += 4) {
    for (int s = 0; s < 4; ++s) {
      const uint8_t* row = KvRow(v, p + s);
      const F w = V::Set1F(scores[p + s]);
      for (int c = 0; c < NC; ++c) o[s][c] = V::Fma(w, LoadKv(row, head_off + c * kL, v.f16), o[s][c]);
    }
  }
  for (int s = 0; p < n_pos; ++p, ++s) {
    const uint8_t* row = KvRow(v, p);
    const F w = V::Set1F(scores[p]);
    for (int c = 0; c < NC; ++c) o[s][c] = V::Fma(w, LoadKv(row, head_off + c * kL, v.f16), o[s][c]);
  }
  for (int c = 0; c < NC; ++c) V::StoreF32(out + c * kL, V::Add(V::Add(o[0][c], o[1][c]), V::Add(o[2][c], o[3][c])));
}

// Any head_dim: chunks of kL and a masked tail; the output accumulates in memory.
void AttentionAny(const float* q, const KvRows& k, const KvRows& v, int64_t head_off, int32_t head_dim,
                  int32_t n_pos, float scale, float* scores, float* out) {
  const int32_t full = head_dim / kL * kL;
  const int tail = head_dim - full;
  for (int32_t p = 0; p < n_pos; ++p) {
    const uint8_t* row = KvRow(k, p);
    F acc = V::ZeroF();
    for (int32_t c = 0; c < full; c += kL) acc = V::Fma(V::LoadF32(q + c), LoadKv(row, head_off + c, k.f16), acc);
    if (tail > 0) acc = V::Fma(V::LoadF32Tail(q + full, tail), LoadKvTail(row, head_off + full, tail, k.f16), acc);
    scores[p] = V::ReduceAdd(acc) * scale;
  }
  SoftmaxImpl(scores, n_pos);
  for (int32_t d = 0; d < head_dim; ++d) out[d] = 0.0f;
  for (int32_t p = 0; p < n_pos; ++p) {
    const uint8_t* row = KvRow(v, p);
    const F w = V::Set1F(scores[p]);
    for (int32_t c = 0; c < full; c += kL) {
      V::StoreF32(out + c, V::Fma(w, LoadKv(row, head_off + c, v.f16), V::LoadF32(out + c)));
    }
    if (tail > 0) {
      V::Store(out + full, V::Fma(w, LoadKvTail(row, head_off + full, tail, v.f16), V::LoadF32Tail(out + full, tail)),
               tail);
    }
  }
}
