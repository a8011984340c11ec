// The int8 matmul kernels (quantized weights x int8 activations), written once
// against a vector type V (simd_avx2.h, simd_avx512.h) and compiled once per
// ISA: each *_avx*.cpp includes this file inside its own namespace with `V`
// defined. Layout of the activations: matmul_isa.h.
//
// Shape of the computation: a tile is V::kLanes weight rows, lane i = row i.
// For each weight block the rows' quants are transposed into registers (one
// 32-bit group of 4 quants per lane), then for each token of the token tile
// the 4-quant groups meet the token's broadcast activations in int8 dot
// products. Integer sums are exact, so only the float steps fix the result.
//
// Determinism contract: every output y[t][r] is made by this sequence of float
// operations, per lane, independent of the token tile (NT), the rows' tile or
// the thread:
//   Q4_0, Q8_0: acc = fma(float(I_b), d_w(b) * d_x(b), acc) for blocks b in order,
//               I_b the exact int dot (zero point folded in through corr).
//   Q4_K:       per super-block b: s = 0, then for sub-blocks j in order
//               s = fma(float(I_j), sc_j * d_w, s); then acc = fma(s, d_x, acc);
//               acc = acc - float(M) * (dmin_w * d_x), M = sum_j min_j * sum_x(j).
//   Q6_K:       per super-block: s as for Q4_K over the sub-blocks of 16 in the
//               order of the loop below; acc = fma(s, d_x, acc);
//               acc = acc - float(C) * ((32 * d_w) * d_x), C = sum_j sc_j * sum_x(j).
// A single token and the same token inside a batch of any size give the same
// bits, and so do the GGUF and the packed (weight_pack.h) weight layouts; the
// test matmul_test.cpp checks both.
//
// (No #pragma once: included once per ISA, inside a namespace. Must not include
// system headers; it pulls in its sibling matmul_tiles_impl.h.)

using I = V::I;
using F = V::F;
constexpr int kL = V::kLanes;

inline int64_t Min64(int64_t a, int64_t b) { return a < b ? a : b; }

#include "kernels/cpu/matmul_tiles_impl.h"

// Exact int dot of 8 groups of 4 quants (32 values, w[i] = values 4i ..
// 4i+3) with the activations at q, plus init (a zero-point correction).
inline I Dot32(const I* w, const int8_t* q, I init = V::Zero()) {
  I s0 = init, s1 = V::Zero();
  for (int i = 0; i < 8; i += 2) {
    s0 = V::Dot(s0, w[i], V::Bcast(q + 4 * i));
    s1 = V::Dot(s1, w[i + 1], V::Bcast(q + 4 * i + 4));
  }
  return V::Add(s0, s1);
}

// ---- Q4_0: 18-byte blocks {fp16 d, 16 bytes of nibbles} -------------------
struct KernelQ4_0 {
  static constexpr PackLayout kLayout = PackLayoutFor(GgmlType::kQ4_0);
  static constexpr int kMaxNT = kL == 16 ? 8 : 4;
  template <int NT, class T>
  static void Run(const MatMulArgs& a, const T& tl, int64_t t0) {
    const int64_t nb = a.cols / 32;
    const I m4 = V::Set1(0x0F0F0F0F);
    F acc[NT];
    for (int t = 0; t < NT; ++t) acc[t] = V::ZeroF();
    for (int64_t b = 0; b < nb; ++b) {
      if (t0 == 0) Prefetch(tl, b, nb);  // first pass over this tile
      const F dw = Half<kLayout>(tl, b);
      I g[4], w[8];
      Load4<kLayout>(tl, b, 2, g);
      for (int j = 0; j < 4; ++j) {
        w[j] = V::And(g[j], m4);                             // values 4j .. 4j+3
        w[4 + j] = V::And(V::template Srl16<4>(g[j]), m4);  // values 16+4j ..
      }
#pragma GCC unroll 16
      for (int t = 0; t < NT; ++t) {
        const int64_t xb = (t0 + t) * nb + b;
        const I sum = Dot32(w, a.acts.qs + xb * 32, V::Set1(a.acts.corr[xb]));
        acc[t] = V::Fma(V::Cvt(sum), V::Mul(dw, V::Set1F(a.acts.d[xb])), acc[t]);
      }
    }
    StoreTile<NT>(a, tl, t0, acc);
  }
};

// ---- Q8_0: 34-byte blocks {fp16 d, 32 int8} -------------------------------
struct KernelQ8_0 {
  static constexpr PackLayout kLayout = PackLayoutFor(GgmlType::kQ8_0);
  static constexpr int kMaxNT = kL == 16 ? 8 : 4;
  template <int NT, class T>
  static void Run(const MatMulArgs& a, const T& tl, int64_t t0) {
    const int64_t nb = a.cols / 32;
    F acc[NT];
    for (int t = 0; t < NT; ++t) acc[t] = V::ZeroF();
    for (int64_t b = 0; b < nb; ++b) {
      if (t0 == 0) Prefetch(tl, b, nb);  // first pass over this tile
      const F dw = Half<kLayout>(tl, b);
      I g[8];
      Load4<kLayout>(tl, b, 2, g);
      Load4<kLayout>(tl, b, 18, g + 4);
      for (int j = 0; j < 8; ++j) g[j] = V::PrepQ8(g[j]);
#pragma GCC unroll 16
      for (int t = 0; t < NT; ++t) {
        const int64_t xb = (t0 + t) * nb + b;
        const int8_t* q = a.acts.qs + xb * 32;
        I s0 = V::Set1(a.acts.corr[xb]);
        I s1 = V::Zero();
        for (int j = 0; j < 8; j += 2) {
          s0 = V::DotQ8(s0, g[j], V::Bcast(q + 4 * j));
          s1 = V::DotQ8(s1, g[j + 1], V::Bcast(q + 4 * j + 4));
        }
        acc[t] = V::Fma(V::Cvt(V::Add(s0, s1)), V::Mul(dw, V::Set1F(a.acts.d[xb])), acc[t]);
      }
    }
    StoreTile<NT>(a, tl, t0, acc);
  }
};

// Same for 4 groups (16 values).
inline I Dot16Values(const I* w, const int8_t* q) {
  I s0 = V::Dot(V::Zero(), w[0], V::Bcast(q));
  I s1 = V::Dot(V::Zero(), w[1], V::Bcast(q + 4));
  s0 = V::Dot(s0, w[2], V::Bcast(q + 8));
  s1 = V::Dot(s1, w[3], V::Bcast(q + 12));
  return V::Add(s0, s1);
}

// Byte k of each lane, as float.
template <int K>
inline F ByteAsFloat(I v) {
  return V::Cvt(V::And(V::template Srl32<8 * K>(v), V::Set1(0xFF)));
}

// The 16-byte head shared by Q4_K and Q5_K super-blocks ({d, dmin, 12 bytes
// of 6-bit scales and mins}, words 0..3 in h), per lane: sd[j] = scale_j * d
// and the mins as 16-bit pairs (m0,m2) (m1,m3) (m4,m6) (m5,m7), matching
// sum32's order.
struct KHead {
  F sd[8];
  F dmin;
  I mp[4];
};

inline KHead DecodeKHead(const I h[4]) {
  const I m4 = V::Set1(0x0F0F0F0F);
  const I m6 = V::Set1(0x3F3F3F3F);
  const I m2 = V::Set1(0x30303030);
  const I m8 = V::Set1(0x00FF00FF);
  KHead k;
  const F d = V::HalfLo(h[0]);
  k.dmin = V::HalfHi(h[0]);
  const I sc03 = V::And(h[1], m6);
  const I mn03 = V::And(h[2], m6);
  const I sc47 = V::Or(V::And(h[3], m4), V::And(V::template Srl32<2>(h[1]), m2));
  const I mn47 = V::Or(V::And(V::template Srl32<4>(h[3]), m4), V::And(V::template Srl32<2>(h[2]), m2));
  k.sd[0] = V::Mul(ByteAsFloat<0>(sc03), d);
  k.sd[1] = V::Mul(ByteAsFloat<1>(sc03), d);
  k.sd[2] = V::Mul(ByteAsFloat<2>(sc03), d);
  k.sd[3] = V::Mul(ByteAsFloat<3>(sc03), d);
  k.sd[4] = V::Mul(ByteAsFloat<0>(sc47), d);
  k.sd[5] = V::Mul(ByteAsFloat<1>(sc47), d);
  k.sd[6] = V::Mul(ByteAsFloat<2>(sc47), d);
  k.sd[7] = V::Mul(ByteAsFloat<3>(sc47), d);
  k.mp[0] = V::And(mn03, m8);
  k.mp[1] = V::template Srl16<8>(mn03);
  k.mp[2] = V::And(mn47, m8);
  k.mp[3] = V::template Srl16<8>(mn47);
  return k;
}

// The end of a Q4_K / Q5_K super-block for activation block xb: acc gets the
// scaled sum s, minus the mins term M = sum_j min_j * sum_x(j) (exact).
inline F FinishKSuperBlock(const MatMulArgs& a, const KHead& k, int64_t xb, F s, F acc) {
  const int16_t* s32 = a.acts.sum32 + xb * 8;
  I m = V::Dot16(V::Zero(), k.mp[0], V::Bcast(s32));
  m = V::Dot16(m, k.mp[1], V::Bcast(s32 + 2));
  m = V::Dot16(m, k.mp[2], V::Bcast(s32 + 4));
  m = V::Dot16(m, k.mp[3], V::Bcast(s32 + 6));
  const F dx = V::Set1F(a.acts.d[xb]);
  acc = V::Fma(s, dx, acc);
  return V::Fnma(V::Cvt(m), V::Mul(k.dmin, dx), acc);
}

// ---- Q4_K: 144-byte super-blocks {d, dmin, 12 scale bytes, 128 nibbles} --
struct KernelQ4_K {
  static constexpr PackLayout kLayout = PackLayoutFor(GgmlType::kQ4_K);
  static constexpr int kMaxNT = kL == 16 ? 6 : 3;
  template <int NT, class T>
  static void Run(const MatMulArgs& a, const T& tl, int64_t t0) {
    const int64_t nb = a.cols / 256;
    const I m4 = V::Set1(0x0F0F0F0F);
    F acc[NT];
    for (int t = 0; t < NT; ++t) acc[t] = V::ZeroF();
    for (int64_t b = 0; b < nb; ++b) {
      if (t0 == 0) Prefetch(tl, b, nb);  // first pass over this tile
      F s[NT];
      for (int t = 0; t < NT; ++t) s[t] = V::ZeroF();
      I h[4];
      Load4<kLayout>(tl, b, 0, h);
      const KHead k = DecodeKHead(h);
      for (int c = 0; c < 4; ++c) {
        I g[8], lo[8], hi[8];
        Load4<kLayout>(tl, b, 16 + 32 * c, g);
        Load4<kLayout>(tl, b, 32 + 32 * c, g + 4);
        for (int i = 0; i < 8; ++i) {
          lo[i] = V::And(g[i], m4);                        // values 64c + 4i ..
          hi[i] = V::And(V::template Srl16<4>(g[i]), m4);  // values 64c + 32 + 4i ..
        }
#pragma GCC unroll 16
        for (int t = 0; t < NT; ++t) {
          const int8_t* q = a.acts.qs + ((t0 + t) * nb + b) * 256 + 64 * c;
          s[t] = V::Fma(V::Cvt(Dot32(lo, q)), k.sd[2 * c], s[t]);
          s[t] = V::Fma(V::Cvt(Dot32(hi, q + 32)), k.sd[2 * c + 1], s[t]);
        }
      }
#pragma GCC unroll 16
      for (int t = 0; t < NT; ++t) acc[t] = FinishKSuperBlock(a, k, (t0 + t) * nb + b, s[t], acc[t]);
    }
    StoreTile<NT>(a, tl, t0, acc);
  }
};

// Signed byte k of each lane, as float.
template <int K>
inline F SignedByteAsFloat(I v) {
  return V::Cvt(V::template Sra32<24>(V::template Sll32<24 - 8 * K>(v)));
}

// ---- Q6_K: 210-byte super-blocks {ql[128], qh[64], int8 scales[16], d} ----
struct KernelQ6_K {
  static constexpr PackLayout kLayout = PackLayoutFor(GgmlType::kQ6_K);
  static constexpr int kMaxNT = kL == 16 ? 6 : 3;
  template <int NT, class T>
  static void Run(const MatMulArgs& a, const T& tl, int64_t t0) {
    const int64_t nb = a.cols / 256;
    const I m4 = V::Set1(0x0F0F0F0F);
    const I m2 = V::Set1(0x30303030);
    F acc[NT];
    for (int t = 0; t < NT; ++t) acc[t] = V::ZeroF();
    for (int64_t b = 0; b < nb; ++b) {
      if (t0 == 0) Prefetch(tl, b, nb);  // first pass over this tile
      F s[NT];
      for (int t = 0; t < NT; ++t) s[t] = V::ZeroF();
      const F d = Half<kLayout>(tl, b);
      I sv[4];
      Load4<kLayout>(tl, b, 192, sv);  // sv[i] = scales 4i .. 4i+3
      F sd[16];
      for (int i = 0; i < 4; ++i) {
        sd[4 * i + 0] = V::Mul(SignedByteAsFloat<0>(sv[i]), d);
        sd[4 * i + 1] = V::Mul(SignedByteAsFloat<1>(sv[i]), d);
        sd[4 * i + 2] = V::Mul(SignedByteAsFloat<2>(sv[i]), d);
        sd[4 * i + 3] = V::Mul(SignedByteAsFloat<3>(sv[i]), d);
      }
      for (int half = 0; half < 2; ++half) {
        I qh[8];
        Load4<kLayout>(tl, b, 128 + 32 * half, qh);
        Load4<kLayout>(tl, b, 144 + 32 * half, qh + 4);
        for (int p = 0; p < 2; ++p) {
          // ql bytes 32p .. 32p+31 of this half: low nibbles are values
          // 128h + 32p + l, high nibbles 128h + 64 + 32p + l; the two high bits
          // sit in qh at bit 2p (low) and 4 + 2p (high).
          I ql[8], lo[8], hi[8];
          Load4<kLayout>(tl, b, 64 * half + 32 * p, ql);
          Load4<kLayout>(tl, b, 64 * half + 32 * p + 16, ql + 4);
          for (int i = 0; i < 8; ++i) {
            const I hl = p == 0 ? V::template Sll16<4>(qh[i]) : V::template Sll16<2>(qh[i]);
            const I hh = p == 0 ? qh[i] : V::template Srl16<2>(qh[i]);
            lo[i] = V::Or(V::And(ql[i], m4), V::And(hl, m2));
            hi[i] = V::Or(V::And(V::template Srl16<4>(ql[i]), m4), V::And(hh, m2));
          }
          const int j_lo = 8 * half + 2 * p;  // sub-blocks of 16 values
          const int j_hi = j_lo + 4;
#pragma GCC unroll 16
          for (int t = 0; t < NT; ++t) {
            const int8_t* q = a.acts.qs + ((t0 + t) * nb + b) * 256 + 128 * half + 32 * p;
            s[t] = V::Fma(V::Cvt(Dot16Values(lo, q)), sd[j_lo], s[t]);
            s[t] = V::Fma(V::Cvt(Dot16Values(lo + 4, q + 16)), sd[j_lo + 1], s[t]);
            s[t] = V::Fma(V::Cvt(Dot16Values(hi, q + 64)), sd[j_hi], s[t]);
            s[t] = V::Fma(V::Cvt(Dot16Values(hi + 4, q + 80)), sd[j_hi + 1], s[t]);
          }
        }
      }
      // The zero point 32: subtract 32 * sum_j scale_j * sum_x(j), with the
      // scales as 16-bit pairs (s0,s2) (s1,s3) matching sum16's order.
      const F d32 = V::Mul(d, V::Set1F(32.0f));
      I sp[8];
      for (int i = 0; i < 4; ++i) {
        sp[2 * i] = V::template Sra16<8>(V::template Sll16<8>(sv[i]));
        sp[2 * i + 1] = V::template Sra16<8>(sv[i]);
      }
#pragma GCC unroll 16
      for (int t = 0; t < NT; ++t) {
        const int64_t xb = (t0 + t) * nb + b;
        const int16_t* s16 = a.acts.sum16 + xb * 16;
        I c = V::Zero();
        for (int i = 0; i < 8; ++i) c = V::Dot16(c, sp[i], V::Bcast(s16 + 2 * i));
        const F dx = V::Set1F(a.acts.d[xb]);
        acc[t] = V::Fma(s[t], dx, acc[t]);
        acc[t] = V::Fnma(V::Cvt(c), V::Mul(d32, dx), acc[t]);
      }
    }
    StoreTile<NT>(a, tl, t0, acc);
  }
};

// ---- driver ---------------------------------------------------------------

template <class K, int N, class T>
void RunTokens(int n, const MatMulArgs& a, const T& tl, int64_t t0) {
  if constexpr (N > 1) {
    if (n < N) {
      RunTokens<K, N - 1>(n, a, tl, t0);
      return;
    }
  }
  K::template Run<N>(a, tl, t0);
}

// Rows [r_begin, r_end) for every token. Tokens go in blocks of 64 (their
// activations stay in L2 while a tile of weight rows is reused), then tiles of
// kL rows, then token tiles of up to K::kMaxNT.
template <class K>
void RunInt8Rows(const MatMulArgs& a, int64_t r_begin, int64_t r_end) {
  constexpr int64_t kTokenBlock = 64;
  for (int64_t tb = 0; tb < a.n_tokens; tb += kTokenBlock) {
    const int64_t te = Min64(a.n_tokens, tb + kTokenBlock);
    for (int64_t r0 = r_begin; r0 < r_end; r0 += kL) {
      const int n = static_cast<int>(Min64(kL, r_end - r0));
      if (a.packed != nullptr) {
        const PackedTile tl = MakePackedTile(a, r0, n, K::kLayout.block_bytes);
        for (int64_t t0 = tb; t0 < te; t0 += K::kMaxNT) {
          RunTokens<K, K::kMaxNT>(static_cast<int>(Min64(K::kMaxNT, te - t0)), a, tl, t0);
        }
      } else {
        const Tile tl = MakeTile(a, r0, n);
        for (int64_t t0 = tb; t0 < te; t0 += K::kMaxNT) {
          RunTokens<K, K::kMaxNT>(static_cast<int>(Min64(K::kMaxNT, te - t0)), a, tl, t0);
        }
      }
    }
  }
}

// ---- activation quantizer -------------------------------------------------

// Quantizes n (a multiple of 16) values with scale 1/id; returns max |x|.
inline float MaxAbs(const float* x, int64_t n) {
  F m = V::ZeroF();
  for (int64_t i = 0; i < n; i += kL) m = V::MaxAbs(m, V::LoadF32(x + i));
  return V::ReduceMax(m);
}

// Canonical per block: amax = max |x|, d = amax / 127, q = round-to-even(x * (127 / amax)).
inline void QuantizeLegacyRow(const float* x, int64_t cols, int32_t offset, int8_t* qs, float* d, int32_t* corr) {
  for (int64_t b = 0; b < cols / 32; ++b) {
    const float amax = MaxAbs(x + 32 * b, 32);
    const float id = amax > 0.0f ? 127.0f / amax : 0.0f;
    d[b] = amax / 127.0f;
    const int32_t sum = V::Quant16(x + 32 * b, id, qs + 32 * b) + V::Quant16(x + 32 * b + 16, id, qs + 32 * b + 16);
    corr[b] = -offset * sum;
  }
}

inline void QuantizeKRow(const float* x, int64_t cols, int8_t* qs, float* d, int16_t* sum16, int16_t* sum32) {
  for (int64_t b = 0; b < cols / 256; ++b) {
    const float amax = MaxAbs(x + 256 * b, 256);
    const float id = amax > 0.0f ? 127.0f / amax : 0.0f;
    d[b] = amax / 127.0f;
    int32_t s16[16];
    for (int g = 0; g < 16; ++g) s16[g] = V::Quant16(x + 256 * b + 16 * g, id, qs + 256 * b + 16 * g);
    // Groups of four stored as [s0, s2, s1, s3] (see matmul_isa.h).
    for (int g = 0; g < 16; g += 4) {
      sum16[16 * b + g + 0] = static_cast<int16_t>(s16[g + 0]);
      sum16[16 * b + g + 1] = static_cast<int16_t>(s16[g + 2]);
      sum16[16 * b + g + 2] = static_cast<int16_t>(s16[g + 1]);
      sum16[16 * b + g + 3] = static_cast<int16_t>(s16[g + 3]);
    }
    int32_t s32[8];
    for (int j = 0; j < 8; ++j) s32[j] = s16[2 * j] + s16[2 * j + 1];
    for (int j = 0; j < 8; j += 4) {
      sum32[8 * b + j + 0] = static_cast<int16_t>(s32[j + 0]);
      sum32[8 * b + j + 1] = static_cast<int16_t>(s32[j + 2]);
      sum32[8 * b + j + 2] = static_cast<int16_t>(s32[j + 1]);
      sum32[8 * b + j + 3] = static_cast<int16_t>(s32[j + 3]);
    }
  }
}
