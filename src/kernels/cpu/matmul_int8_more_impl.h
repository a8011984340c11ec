// More int8 matmul kernels: Q4_1, Q5_0, Q5_1 (blocks of 32) and Q5_K
// (super-blocks of 256), written against V like matmul_int8_impl.h and
// included right after it (its Tile / PackedTile, Load4 / Half, Dot32,
// RunInt8Rows ...), inside the ISA namespace. Weight layouts: quant/blocks.h;
// packed layouts: weight_pack.h (Q4_1 / Q5_1 / Q5_K keep every byte as words,
// {d, m} or {d, dmin} being word 0; Q5_0 stores d apart like Q4_0).
//
// Activations (matmul_isa.h): blocks of 32 with corr = -16 * sum(qs) for Q5_0
// (the zero point folded into the int dot, as Q4_0) and corr = +sum(qs) for
// Q4_1 / Q5_1 (offset -1 in LegacyZeroPoint below: the sum that multiplies
// the block's m); Q5_K uses the K layout (blocks of 256, sum32) like Q4_K.
//
// Determinism contract (per output, per lane; independent of the token tile,
// the row tile, the thread and the weight layout, and the same on avx2 and
// avx512: the integer parts differ per ISA but are exact):
//   Q5_0:       acc = fma(float(I_b), d_w(b) * d_x(b), acc) for blocks b in
//               order, I_b = sum (q - 16) * qx exact (as Q4_0).
//   Q4_1, Q5_1: acc = fma(float(I_b), d_w * d_x, acc);
//               acc = fma(float(S_b), m_w * d_x, acc), I_b = sum q * qx,
//               S_b = sum qx (both exact), per block in order.
//   Q5_K:       exactly Q4_K's sequence (matmul_int8_impl.h) with 5-bit q.
// Bounds for AVX2's vpmaddubsw (16-bit pair sums): q <= 31, |qx| <= 127, so
// 2 * 31 * 127 = 7874 < 32767.
//
// (No #pragma once: included once per ISA, inside a namespace. Must not include
// headers itself.)

// ---- the few byte operations V lacks (this file only) ----------------------
// BroadcastByte<S>: byte S of each 32-bit lane copied to its 4 bytes (pshufb,
// which works inside 128-bit lanes on both ISAs). WithFifthBit(nib, bc, pat):
// nib + 16 in each byte where bc & pat is nonzero. WithBit<P>(nib, h): nib +
// 16 in each byte whose byte of h has bit P set. (AVX-512 tests bits into a
// mask and adds under it; AVX2 compares or shifts.)
#if defined(__AVX512BW__)
template <int S>
inline I BroadcastByte(I v) {
  const __m128i idx = _mm_setr_epi32(S * 0x01010101, (4 + S) * 0x01010101, (8 + S) * 0x01010101,
                                     (12 + S) * 0x01010101);
  return _mm512_shuffle_epi8(v, _mm512_broadcast_i32x4(idx));
}
inline I WithFifthBit(I nib, I bc, I pat) {
  return _mm512_mask_add_epi8(nib, _mm512_test_epi8_mask(bc, pat), nib, _mm512_set1_epi8(16));
}
template <int P>
inline I WithBit(I nib, I h) {
  return WithFifthBit(nib, h, _mm512_set1_epi8(static_cast<char>(1 << P)));
}
#else
template <int S>
inline I BroadcastByte(I v) {
  const __m128i idx = _mm_setr_epi32(S * 0x01010101, (4 + S) * 0x01010101, (8 + S) * 0x01010101,
                                     (12 + S) * 0x01010101);
  return _mm256_shuffle_epi8(v, _mm256_broadcastsi128_si256(idx));
}
inline I WithFifthBit(I nib, I bc, I pat) {
  const I hit = _mm256_cmpeq_epi8(_mm256_and_si256(bc, pat), pat);
  return _mm256_or_si256(nib, _mm256_and_si256(hit, _mm256_set1_epi8(16)));
}
template <int P>
inline I WithBit(I nib, I h) {
  // Bit P to bit 4 with one 16-bit shift (bits of the other byte that move
  // in are masked off), then or.
  I at4 = h;
  if constexpr (P < 4) at4 = _mm256_slli_epi16(h, 4 - P);
  if constexpr (P > 4) at4 = _mm256_srli_epi16(h, P - 4);
  return _mm256_or_si256(nib, _mm256_and_si256(at4, _mm256_set1_epi8(16)));
}
#endif

// Lane i = the 32-bit word at byte `off` of block b of row i.
template <PackLayout L>
inline I Word(const Tile& t, int64_t b, int off) {
  return V::Gather(t.rows[0] + static_cast<size_t>(b) * L.block_bytes + off, t.offsets);
}
template <PackLayout L>
inline I Word(const PackedTile& t, int64_t b, int off) {
  return V::LoadI(t.base + b * t.block_stride + L.word_off + 16 * (off - L.word_begin) + t.word_lane_off);
}

// The activation quantizer's per-block offset for a legacy weight type:
// corr = -offset * sum(qs) (matmul_isa.h).
inline int32_t LegacyZeroPoint(GgmlType type) {
  switch (type) {
    case GgmlType::kQ4_0:
      return 8;
    case GgmlType::kQ5_0:
      return 16;
    case GgmlType::kQ4_1:
    case GgmlType::kQ5_1:
      return -1;  // corr = +sum(qs), scaled by the block's m
    default:  // Q8_0 and IQ4_NL: the signed dot's zero point
      return V::kQ8_0Offset;
  }
}

// ---- Q4_1 {d, m, qs[16]}, Q5_0 {d, qh[4], qs[16]}, Q5_1 {d, m, qh[4], qs[16]}
template <GgmlType kType>
struct KernelLegacyMore {
  static constexpr PackLayout kLayout = PackLayoutFor(kType);
  static constexpr bool kHasMin = kType == GgmlType::kQ4_1 || kType == GgmlType::kQ5_1;
  static constexpr bool kHasQh = kType == GgmlType::kQ5_0 || kType == GgmlType::kQ5_1;
  static constexpr int kQhAt = kType == GgmlType::kQ5_0 ? 2 : 4;
  static constexpr int kQsAt = kType == GgmlType::kQ4_1 ? 4 : kType == GgmlType::kQ5_0 ? 6 : 8;
  static constexpr int kMaxNT = kL == 16 ? 8 : 4;

  template <int NT, class T>
  static void Run(const MatMulArgs& a, const T& tl, int64_t t0) {
    const int64_t nb = a.cols / 32;
    const I m4 = V::Set1(0x0F0F0F0F);
    const I bits_lo = V::Set1(0x08040201);  // byte k: qh bit k of the broadcast byte
    const I bits_hi = V::Set1(static_cast<int32_t>(0x80402010u));  // byte k: bit 4 + k
    F acc[NT];
    for (int t = 0; t < NT; ++t) acc[t] = V::ZeroF();
    for (int64_t b = 0; b < nb; ++b) {
      if (t0 == 0) Prefetch(tl, b, nb);  // first pass over this tile
      F dw, mw = V::ZeroF();
      if constexpr (kHasMin) {
        const I dm = Word<kLayout>(tl, b, 0);
        dw = V::HalfLo(dm);
        mw = V::HalfHi(dm);
      } else {
        dw = Half<kLayout>(tl, b);
      }
      I g[4], w[8];  // w[j]: values 4j .. 4j+3
      I* lo = w;
      I* hi = w + 4;
      Load4<kLayout>(tl, b, kQsAt, g);
      for (int j = 0; j < 4; ++j) {
        lo[j] = V::And(g[j], m4);                        // values 4j .. 4j+3
        hi[j] = V::And(V::template Srl16<4>(g[j]), m4);  // values 16+4j ..
      }
      if constexpr (kHasQh) {
        // Value v's fifth bit is qh bit v: byte v / 8, bit v % 8.
        const I qh = Word<kLayout>(tl, b, kQhAt);
        const I b0 = BroadcastByte<0>(qh), b1 = BroadcastByte<1>(qh);
        const I b2 = BroadcastByte<2>(qh), b3 = BroadcastByte<3>(qh);
        lo[0] = WithFifthBit(lo[0], b0, bits_lo);
        lo[1] = WithFifthBit(lo[1], b0, bits_hi);
        lo[2] = WithFifthBit(lo[2], b1, bits_lo);
        lo[3] = WithFifthBit(lo[3], b1, bits_hi);
        hi[0] = WithFifthBit(hi[0], b2, bits_lo);
        hi[1] = WithFifthBit(hi[1], b2, bits_hi);
        hi[2] = WithFifthBit(hi[2], b3, bits_lo);
        hi[3] = WithFifthBit(hi[3], b3, bits_hi);
      }
#pragma GCC unroll 16
      for (int t = 0; t < NT; ++t) {
        const int64_t xb = (t0 + t) * nb + b;
        const I sum = Dot32(w, a.acts.qs + xb * 32, kHasMin ? V::Zero() : V::Set1(a.acts.corr[xb]));
        const F dx = V::Set1F(a.acts.d[xb]);
        acc[t] = V::Fma(V::Cvt(sum), V::Mul(dw, dx), acc[t]);
        if constexpr (kHasMin) {
          acc[t] = V::Fma(V::Set1F(static_cast<float>(a.acts.corr[xb])), V::Mul(mw, dx), acc[t]);
        }
      }
    }
    StoreTile<NT>(a, tl, t0, acc);
  }
};

using KernelQ4_1 = KernelLegacyMore<GgmlType::kQ4_1>;
using KernelQ5_0 = KernelLegacyMore<GgmlType::kQ5_0>;
using KernelQ5_1 = KernelLegacyMore<GgmlType::kQ5_1>;

// ---- Q5_K: 176-byte super-blocks {d, dmin, 12 scale bytes, qh[32], qs[128]}
struct KernelQ5_K {
  static constexpr PackLayout kLayout = PackLayoutFor(GgmlType::kQ5_K);
  static constexpr int kMaxNT = kL == 16 ? 6 : 3;

  // Chunk C: values 64C + l (low nibbles of qs[32C + l], qh bit 2C) and
  // 64C + 32 + l (high nibbles, qh bit 2C + 1), l = 4i + k in word i.
  template <int C, int NT, class T>
  static void Chunk(const MatMulArgs& a, const T& tl, int64_t t0, int64_t b, int64_t nb, const I* qh, const F* sd,
                    F* s) {
    const I m4 = V::Set1(0x0F0F0F0F);
    I g[8], lo[8], hi[8];
    Load4<kLayout>(tl, b, 48 + 32 * C, g);
    Load4<kLayout>(tl, b, 64 + 32 * C, g + 4);
    for (int i = 0; i < 8; ++i) {
      lo[i] = WithBit<2 * C>(V::And(g[i], m4), qh[i]);
      hi[i] = WithBit<2 * C + 1>(V::And(V::template Srl16<4>(g[i]), m4), qh[i]);
    }
#pragma GCC unroll 16
    for (int t = 0; t < NT; ++t) {
      const int8_t* q = a.acts.qs + ((t0 + t) * nb + b) * 256 + 64 * C;
      s[t] = V::Fma(V::Cvt(Dot32(lo, q)), sd[2 * C], s[t]);
      s[t] = V::Fma(V::Cvt(Dot32(hi, q + 32)), sd[2 * C + 1], s[t]);
    }
  }

  template <int NT, class T>
  static void Run(const MatMulArgs& a, const T& tl, int64_t t0) {
    const int64_t nb = a.cols / 256;
    F acc[NT];
    for (int t = 0; t < NT; ++t) acc[t] = V::ZeroF();
    for (int64_t b = 0; b < nb; ++b) {
      if (t0 == 0) Prefetch(tl, b, nb);  // first pass over this tile
      F s[NT];
      for (int t = 0; t < NT; ++t) s[t] = V::ZeroF();
      I h[4];  // scales and mins: the same 16-byte head as Q4_K
      Load4<kLayout>(tl, b, 0, h);
      const KHead k = DecodeKHead(h);
      I qh[8];  // qh bytes 4i .. 4i+3 in word i
      Load4<kLayout>(tl, b, 16, qh);
      Load4<kLayout>(tl, b, 32, qh + 4);
      Chunk<0, NT>(a, tl, t0, b, nb, qh, k.sd, s);
      Chunk<1, NT>(a, tl, t0, b, nb, qh, k.sd, s);
      Chunk<2, NT>(a, tl, t0, b, nb, qh, k.sd, s);
      Chunk<3, NT>(a, tl, t0, b, nb, qh, k.sd, s);
#pragma GCC unroll 16
      for (int t = 0; t < NT; ++t) acc[t] = FinishKSuperBlock(a, k, (t0 + t) * nb + b, s[t], acc[t]);
    }
    StoreTile<NT>(a, tl, t0, acc);
  }
};
