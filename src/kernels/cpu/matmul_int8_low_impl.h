// The int8 matmul kernels of the low-bit types: Q3_K and Q2_K (super-blocks
// of 256, 16 sub-blocks of 16), IQ4_XS (super-blocks of 256, 8 sub-blocks of
// 32) and IQ4_NL (blocks of 32). Written against V like matmul_int8_impl.h
// and included after it and matmul_int8_more_impl.h (Tile / PackedTile, Load4
// / Half / Word, Dot16Values, ByteAsFloat, StoreTile ...), inside the ISA
// namespace. Weight layouts: quant/blocks.h; packed layouts: weight_pack.h
// (Q3_K keeps d apart like Q6_K, IQ4_NL like Q4_0, the rest are all words).
//
// Activations (matmul_isa.h): the K layout (blocks of 256 with sum16 / sum32)
// for Q3_K, Q2_K and IQ4_XS; the legacy layout (blocks of 32, corr) for
// IQ4_NL, whose corr folds in the signed-dot zero point like Q8_0's.
//
// Determinism contract (per output, per lane; independent of the token tile,
// the row tile, the thread and the weight layout, and the same on avx2 and
// avx512: the integer parts differ per ISA but are exact):
//   Q3_K:   per super-block: s = 0, then for sub-blocks j in the loop's order
//           s = fma(float(I_j), (sc_j - 32) * d_w, s), I_j = sum u * qx with
//           u = q in 0..7; acc = fma(s, d_x, acc);
//           acc = acc - float(C) * ((4 * d_w) * d_x), C = sum_j (sc_j - 32) * sum_x(j)
//           (the zero point 4, as Q6_K's 32).
//   Q2_K:   per super-block: s as above with sc_j * d_w and q in 0..3;
//           acc = fma(s, d_x, acc); acc = acc - float(M) * (dmin_w * d_x),
//           M = sum_j mn_j * sum_x(j) (as Q4_K's mins, over sub-blocks of 16).
//   IQ4_XS: per super-block: s = 0, then for sub-blocks j in order
//           s = fma(float(I_j), (ls_j - 32) * d_w, s), I_j = sum t * qx exact
//           (t the table value); acc = fma(s, d_x, acc).
//   IQ4_NL: acc = fma(float(I_b), d_w(b) * d_x(b), acc) for blocks b in order
//           (as Q8_0).
// Bounds for AVX2's vpmaddubsw (16-bit pair sums): u <= 7 for Q3_K / Q2_K;
// the table values go through the signed Q8_0 dot (|t| <= 127).
//
// (No #pragma once: included once per ISA, inside a namespace. Must not include
// headers itself.)

// ---- byte operations V lacks (this file only) ------------------------------
// Xor; LookupBytes(table, idx): each byte of idx (0..15) replaced by that byte
// of the 16-byte table (pshufb, per 128-bit lane, the table in every lane).
#if defined(__AVX512BW__)
inline I Xor(I a, I b) { return _mm512_xor_si512(a, b); }
inline I LookupBytes(I table, I idx) { return _mm512_shuffle_epi8(table, idx); }
inline I BroadcastTable16(const int8_t* t) {
  return _mm512_broadcast_i32x4(_mm_loadu_si128(reinterpret_cast<const __m128i*>(t)));
}
#else
inline I Xor(I a, I b) { return _mm256_xor_si256(a, b); }
inline I LookupBytes(I table, I idx) { return _mm256_shuffle_epi8(table, idx); }
inline I BroadcastTable16(const int8_t* t) {
  return _mm256_broadcastsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(t)));
}
#endif

// The IQ4 grid as the Q8_0 dot wants its weights (V::PrepQ8: +128 on avx512).
inline I Iq4Table() { return V::PrepQ8(BroadcastTable16(kIq4NlValues)); }

// Scales of a 16-sub-block super-block as the kernels use them: sd[j] =
// scale_j * d as float, and the scales as signed 16-bit pairs (s0,s2) (s1,s3)
// per group of four, matching sum16's order, from sv[i] = scales 4i .. 4i+3
// (one byte each, signed).
struct Scales16 {
  F sd[16];
  I pairs[8];
};

inline Scales16 DecodeSignedScales16(const I sv[4], F d) {
  Scales16 s;
  for (int i = 0; i < 4; ++i) {
    s.sd[4 * i + 0] = V::Mul(SignedByteAsFloat<0>(sv[i]), d);
    s.sd[4 * i + 1] = V::Mul(SignedByteAsFloat<1>(sv[i]), d);
    s.sd[4 * i + 2] = V::Mul(SignedByteAsFloat<2>(sv[i]), d);
    s.sd[4 * i + 3] = V::Mul(SignedByteAsFloat<3>(sv[i]), d);
    s.pairs[2 * i] = V::template Sra16<8>(V::template Sll16<8>(sv[i]));
    s.pairs[2 * i + 1] = V::template Sra16<8>(sv[i]);
  }
  return s;
}

// sum_j pairs_j * sum16_j over the 16 sub-blocks of activation block xb (exact).
inline I ScaledSums16(const MatMulArgs& a, const I pairs[8], int64_t xb) {
  const int16_t* s16 = a.acts.sum16 + xb * 16;
  I c = V::Zero();
  for (int i = 0; i < 8; ++i) c = V::Dot16(c, pairs[i], V::Bcast(s16 + 2 * i));
  return c;
}

// One chunk of 32 values (sub-blocks j, j + 1 of 16) of a 16-sub-block type:
// s[t] += I(u[0..3]) * sd[j] + I(u[4..7]) * sd[j + 1] for each token, the
// activations at value `first` of the super-block.
template <int NT>
inline void Chunk16x2(const MatMulArgs& a, int64_t t0, int64_t b, int64_t nb, const I u[8], const F* sd, int j,
                      int first, F* s) {
#pragma GCC unroll 16
  for (int t = 0; t < NT; ++t) {
    const int8_t* q = a.acts.qs + ((t0 + t) * nb + b) * 256 + first;
    s[t] = V::Fma(V::Cvt(Dot16Values(u, q)), sd[j], s[t]);
    s[t] = V::Fma(V::Cvt(Dot16Values(u + 4, q + 16)), sd[j + 1], s[t]);
  }
}

// ---- Q3_K: 110-byte super-blocks {hmask[32], qs[64], scales[12], d} --------
struct KernelQ3_K {
  static constexpr PackLayout kLayout = PackLayoutFor(GgmlType::kQ3_K);
  static constexpr int kMaxNT = kL == 16 ? 6 : 3;

  // The 16 six-bit scales (blocks.h, UnpackScaleK3) minus 32, one signed byte
  // each: sv[0] = scales 0..3, ... The low nibbles are bytes 0..7 (scales
  // 0..7) and their high nibbles (8..15); the top bits come from bytes 8..11
  // at bits 0-1 (scales 0..3), 2-3 (4..7), 4-5 (8..11), 6-7 (12..15).
  static void SignedScales(I w0, I w1, I w2, I sv[4]) {
    const I m4 = V::Set1(0x0F0F0F0F);
    const I m30 = V::Set1(0x30303030);
    sv[0] = V::Or(V::And(w0, m4), V::And(V::template Sll32<4>(w2), m30));
    sv[1] = V::Or(V::And(w1, m4), V::And(V::template Sll32<2>(w2), m30));
    sv[2] = V::Or(V::And(V::template Srl32<4>(w0), m4), V::And(w2, m30));
    sv[3] = V::Or(V::And(V::template Srl32<4>(w1), m4), V::And(V::template Srl32<2>(w2), m30));
    // stored - 32 as a signed byte: flip bit 5 (giving a 6-bit two's
    // complement value), then copy bit 5 into bits 6 and 7.
    const I b5 = V::Set1(0x20202020);
    for (int i = 0; i < 4; ++i) {
      const I x = Xor(sv[i], b5);
      const I sign = V::And(x, b5);
      sv[i] = V::Or(x, V::Or(V::template Sll32<1>(sign), V::template Sll32<2>(sign)));
    }
  }

  template <int NT, class T>
  static void Run(const MatMulArgs& a, const T& tl, int64_t t0) {
    const int64_t nb = a.cols / 256;
    const I m3 = V::Set1(0x03030303);
    const I m04 = V::Set1(0x04040404);
    F acc[NT];
    for (int t = 0; t < NT; ++t) acc[t] = V::ZeroF();
    for (int64_t b = 0; b < nb; ++b) {
      if (t0 == 0) Prefetch(tl, b, nb);  // first pass over this tile
      const F d = Half<kLayout>(tl, b);
      I sv[4];
      SignedScales(Word<kLayout>(tl, b, 96), Word<kLayout>(tl, b, 100), Word<kLayout>(tl, b, 104), sv);
      const Scales16 sc = DecodeSignedScales16(sv, d);
      F s[NT];
      for (int t = 0; t < NT; ++t) s[t] = V::ZeroF();
      I hm[8];  // hmask bytes 4i .. 4i+3 in word i
      Load4<kLayout>(tl, b, 0, hm);
      Load4<kLayout>(tl, b, 16, hm + 4);
      for (int h = 0; h < 2; ++h) {
        I q[8], hb[8], u[8];
        Load4<kLayout>(tl, b, 32 + 32 * h, q);
        Load4<kLayout>(tl, b, 48 + 32 * h, q + 4);
        // hmask bit 4h + k to bit 2 (value 4); per 16-bit shift the bits
        // crossing bytes are masked off, and no needed bit leaves the word.
        for (int i = 0; i < 8; ++i) hb[i] = h == 0 ? V::template Sll16<2>(hm[i]) : V::template Srl16<2>(hm[i]);
        for (int k = 0; k < 4; ++k) {
          for (int i = 0; i < 8; ++i) {
            u[i] = V::Or(V::And(q[i], m3), V::And(hb[i], m04));  // values 128h + 32k + 4i ..
            q[i] = V::template Srl16<2>(q[i]);
            hb[i] = V::template Srl16<1>(hb[i]);
          }
          Chunk16x2<NT>(a, t0, b, nb, u, sc.sd, 8 * h + 2 * k, 128 * h + 32 * k, s);
        }
      }
      const F d4 = V::Mul(d, V::Set1F(4.0f));
#pragma GCC unroll 16
      for (int t = 0; t < NT; ++t) {
        const int64_t xb = (t0 + t) * nb + b;
        const F dx = V::Set1F(a.acts.d[xb]);
        acc[t] = V::Fma(s[t], dx, acc[t]);
        acc[t] = V::Fnma(V::Cvt(ScaledSums16(a, sc.pairs, xb)), V::Mul(d4, dx), acc[t]);
      }
    }
    StoreTile<NT>(a, tl, t0, acc);
  }
};

// ---- Q2_K: 84-byte super-blocks {scales[16], qs[64], d, dmin} --------------
struct KernelQ2_K {
  static constexpr PackLayout kLayout = PackLayoutFor(GgmlType::kQ2_K);
  static constexpr int kMaxNT = kL == 16 ? 6 : 3;

  template <int NT, class T>
  static void Run(const MatMulArgs& a, const T& tl, int64_t t0) {
    const int64_t nb = a.cols / 256;
    const I m3 = V::Set1(0x03030303);
    const I m4 = V::Set1(0x0F0F0F0F);
    const I m8 = V::Set1(0x00FF00FF);
    F acc[NT];
    for (int t = 0; t < NT; ++t) acc[t] = V::ZeroF();
    for (int64_t b = 0; b < nb; ++b) {
      if (t0 == 0) Prefetch(tl, b, nb);  // first pass over this tile
      const I dm = Word<kLayout>(tl, b, 80);
      const F d = V::HalfLo(dm);
      const F dmin = V::HalfHi(dm);
      I sv[4];  // scale bytes 4i .. 4i+3: scale in the low nibble, min in the high
      Load4<kLayout>(tl, b, 0, sv);
      F sd[16];
      I mp[8];  // mins as 16-bit pairs (m0,m2) (m1,m3) per group of four, as sum16
      for (int i = 0; i < 4; ++i) {
        const I sc = V::And(sv[i], m4);
        const I mn = V::And(V::template Srl16<4>(sv[i]), m4);
        sd[4 * i + 0] = V::Mul(ByteAsFloat<0>(sc), d);
        sd[4 * i + 1] = V::Mul(ByteAsFloat<1>(sc), d);
        sd[4 * i + 2] = V::Mul(ByteAsFloat<2>(sc), d);
        sd[4 * i + 3] = V::Mul(ByteAsFloat<3>(sc), d);
        mp[2 * i] = V::And(mn, m8);
        mp[2 * i + 1] = V::template Srl16<8>(mn);
      }
      F s[NT];
      for (int t = 0; t < NT; ++t) s[t] = V::ZeroF();
      for (int h = 0; h < 2; ++h) {
        I q[8], u[8];
        Load4<kLayout>(tl, b, 16 + 32 * h, q);
        Load4<kLayout>(tl, b, 32 + 32 * h, q + 4);
        for (int k = 0; k < 4; ++k) {
          for (int i = 0; i < 8; ++i) {
            u[i] = V::And(q[i], m3);  // values 128h + 32k + 4i ..
            q[i] = V::template Srl16<2>(q[i]);
          }
          Chunk16x2<NT>(a, t0, b, nb, u, sd, 8 * h + 2 * k, 128 * h + 32 * k, s);
        }
      }
#pragma GCC unroll 16
      for (int t = 0; t < NT; ++t) {
        const int64_t xb = (t0 + t) * nb + b;
        const F dx = V::Set1F(a.acts.d[xb]);
        acc[t] = V::Fma(s[t], dx, acc[t]);
        acc[t] = V::Fnma(V::Cvt(ScaledSums16(a, mp, xb)), V::Mul(dmin, dx), acc[t]);
      }
    }
    StoreTile<NT>(a, tl, t0, acc);
  }
};

// Exact signed dot of 32 table values (w[i] = values 4i .. 4i+3, prepared by
// Iq4Table) with the activations at q, plus init (the zero-point correction).
inline I DotIq4(const I* w, const int8_t* q, I init) {
  I s0 = init, s1 = V::Zero();
  for (int j = 0; j < 8; j += 2) {
    s0 = V::DotQ8(s0, w[j], V::Bcast(q + 4 * j));
    s1 = V::DotQ8(s1, w[j + 1], V::Bcast(q + 4 * j + 4));
  }
  return V::Add(s0, s1);
}

// The 32 values of 16 nibble bytes (g: 4 words; low nibbles are values 0..15,
// high nibbles 16..31) as prepared table values.
inline void LookupIq4(const I g[4], I table, I w[8]) {
  const I m4 = V::Set1(0x0F0F0F0F);
  for (int j = 0; j < 4; ++j) {
    w[j] = LookupBytes(table, V::And(g[j], m4));
    w[4 + j] = LookupBytes(table, V::And(V::template Srl16<4>(g[j]), m4));
  }
}

// ---- IQ4_NL: 18-byte blocks {fp16 d, 16 bytes of nibbles} ------------------
struct KernelIQ4_NL {
  static constexpr PackLayout kLayout = PackLayoutFor(GgmlType::kIQ4_NL);
  static constexpr int kMaxNT = kL == 16 ? 8 : 4;
  template <int NT, class T>
  static void Run(const MatMulArgs& a, const T& tl, int64_t t0) {
    const int64_t nb = a.cols / 32;
    const I table = Iq4Table();
    F acc[NT];
    for (int t = 0; t < NT; ++t) acc[t] = V::ZeroF();
    for (int64_t b = 0; b < nb; ++b) {
      if (t0 == 0) Prefetch(tl, b, nb);  // first pass over this tile
      const F dw = Half<kLayout>(tl, b);
      I g[4], w[8];
      Load4<kLayout>(tl, b, 2, g);
      LookupIq4(g, table, w);
#pragma GCC unroll 16
      for (int t = 0; t < NT; ++t) {
        const int64_t xb = (t0 + t) * nb + b;
        const I sum = DotIq4(w, a.acts.qs + xb * 32, V::Set1(a.acts.corr[xb]));
        acc[t] = V::Fma(V::Cvt(sum), V::Mul(dw, V::Set1F(a.acts.d[xb])), acc[t]);
      }
    }
    StoreTile<NT>(a, tl, t0, acc);
  }
};

// ---- IQ4_XS: 136-byte super-blocks {d, scales_h, scales_l[4], qs[128]} -----
struct KernelIQ4_XS {
  static constexpr PackLayout kLayout = PackLayoutFor(GgmlType::kIQ4_XS);
  static constexpr int kMaxNT = kL == 16 ? 6 : 3;

  // (ls_J - 32) * d: the low 4 bits of ls_J are nibble J of scales_l (w1),
  // the high 2 bits are bits 2J, 2J+1 of scales_h (the top half of w0).
  template <int J>
  static F SubScale(I w0, I w1, F d) {
    const I ls = V::Or(V::And(V::template Srl32<4 * J>(w1), V::Set1(0x0F)),
                       V::And(V::template Srl32<12 + 2 * J>(w0), V::Set1(0x30)));
    return V::Mul(V::Cvt(V::Add(ls, V::Set1(-32))), d);
  }

  template <int NT, class T>
  static void Run(const MatMulArgs& a, const T& tl, int64_t t0) {
    const int64_t nb = a.cols / 256;
    const I table = Iq4Table();
    F acc[NT];
    for (int t = 0; t < NT; ++t) acc[t] = V::ZeroF();
    for (int64_t b = 0; b < nb; ++b) {
      if (t0 == 0) Prefetch(tl, b, nb);  // first pass over this tile
      const I w0 = Word<kLayout>(tl, b, 0);  // d | scales_h << 16
      const I w1 = Word<kLayout>(tl, b, 4);  // scales_l
      const F d = V::HalfLo(w0);
      const F sd[8] = {SubScale<0>(w0, w1, d), SubScale<1>(w0, w1, d), SubScale<2>(w0, w1, d),
                       SubScale<3>(w0, w1, d), SubScale<4>(w0, w1, d), SubScale<5>(w0, w1, d),
                       SubScale<6>(w0, w1, d), SubScale<7>(w0, w1, d)};
      F s[NT];
      for (int t = 0; t < NT; ++t) s[t] = V::ZeroF();
      for (int j = 0; j < 8; ++j) {
        I g[4], w[8];
        Load4<kLayout>(tl, b, 8 + 16 * j, g);
        LookupIq4(g, table, w);
        // sum32 holds each group of four sub-blocks as [s0, s2, s1, s3].
        const int sum_at = (j & ~3) + (j & 1) * 2 + ((j >> 1) & 1);
#pragma GCC unroll 16
        for (int t = 0; t < NT; ++t) {
          const int64_t xb = (t0 + t) * nb + b;
          I init = V::Zero();
          if constexpr (V::kQ8_0Offset != 0) init = V::Set1(-V::kQ8_0Offset * a.acts.sum32[xb * 8 + sum_at]);
          const I sum = DotIq4(w, a.acts.qs + xb * 256 + 32 * j, init);
          s[t] = V::Fma(V::Cvt(sum), sd[j], s[t]);
        }
      }
#pragma GCC unroll 16
      for (int t = 0; t < NT; ++t) acc[t] = V::Fma(s[t], V::Set1F(a.acts.d[(t0 + t) * nb + b]), acc[t]);
    }
    StoreTile<NT>(a, tl, t0, acc);
  }
};
