// AVX-512 vector primitives for the kernels written once against a vector
// type V (matmul_int8_impl.h, matmul_float_impl.h). Include only from
// *_avx512*.cpp (compiled with -mavx512f -mavx512bw -mavx512vl -mavx512vnni).
// 16 int32 / float lanes; in the int8 kernels lane i is weight row i of a tile.
#pragma once

// GCC 12's AVX-512 intrinsics initialize their "undefined" vectors from
// themselves (GCC PR 105593), which -Wuninitialized reports at every use.
// Include this header first in its translation unit so that the pragmas are in
// force where <immintrin.h> is read.
#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ == 12
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <immintrin.h>

#include <cstdint>
#include <cstring>

namespace jarvis::kernels_internal::avx512 {
namespace {

struct V512 {
  using I = __m512i;
  using F = __m512;
  static constexpr int kLanes = 16;
  // Zero point the Q8_0 kernel adds to each weight (XOR 0x80 makes it unsigned
  // for vpdpbusd); the activation quantizer folds -128 * sum(x) into corr.
  static constexpr int kQ8_0Offset = 128;

  static I Zero() { return _mm512_setzero_si512(); }
  static I Set1(int32_t v) { return _mm512_set1_epi32(v); }
  static I Bcast(const void* p) {
    int32_t v;
    std::memcpy(&v, p, 4);
    return _mm512_set1_epi32(v);
  }
  static I And(I a, I b) { return _mm512_and_si512(a, b); }
  static I Or(I a, I b) { return _mm512_or_si512(a, b); }
  static I Add(I a, I b) { return _mm512_add_epi32(a, b); }
  template <int N> static I Srl16(I a) { return _mm512_srli_epi16(a, N); }
  template <int N> static I Sll16(I a) { return _mm512_slli_epi16(a, N); }
  template <int N> static I Srl32(I a) { return _mm512_srli_epi32(a, N); }
  template <int N> static I Sll32(I a) { return _mm512_slli_epi32(a, N); }
  template <int N> static I Sra32(I a) { return _mm512_srai_epi32(a, N); }
  template <int N> static I Sra16(I a) { return _mm512_srai_epi16(a, N); }

  // acc + sum of 4 products u8(u) * s8(s) per 32-bit lane.
  static I Dot(I acc, I u, I s) { return _mm512_dpbusd_epi32(acc, u, s); }
  // Q8_0 weights (signed) times signed activations, with PrepQ8 applied to w.
  static I PrepQ8(I w) { return _mm512_xor_si512(w, _mm512_set1_epi8(static_cast<char>(0x80))); }
  static I DotQ8(I acc, I wprep, I s) { return _mm512_dpbusd_epi32(acc, wprep, s); }
  // acc + sum of 2 products s16 * s16 per 32-bit lane.
  static I Dot16(I acc, I a, I b) { return _mm512_dpwssd_epi32(acc, a, b); }

  static F ZeroF() { return _mm512_setzero_ps(); }
  static F Set1F(float v) { return _mm512_set1_ps(v); }
  static F Cvt(I a) { return _mm512_cvtepi32_ps(a); }
  static F Mul(F a, F b) { return _mm512_mul_ps(a, b); }
  static F Fma(F a, F b, F c) { return _mm512_fmadd_ps(a, b, c); }    // a * b + c
  static F Fnma(F a, F b, F c) { return _mm512_fnmadd_ps(a, b, c); }  // c - a * b
  // The IEEE half in the low (high) 16 bits of each lane, as float.
  static F HalfLo(I a) { return _mm512_cvtph_ps(_mm512_cvtepi32_epi16(a)); }
  static F HalfHi(I a) { return _mm512_cvtph_ps(_mm512_cvtepi32_epi16(_mm512_srli_epi32(a, 16))); }

  // A whole register from p (unaligned), and 16 halves at p as float: the
  // packed-weight loads (weight_pack.h).
  static I LoadI(const uint8_t* p) { return _mm512_loadu_si512(p); }
  static F LoadHalves(const uint8_t* p) {
    return _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
  }

  // 32-bit loads at base + off[i] (off in bytes).
  static I Gather(const uint8_t* base, I off) { return _mm512_i32gather_epi32(off, base, 1); }
  static I Offsets(int64_t stride, int n_valid) {
    alignas(64) int32_t o[16];
    for (int i = 0; i < 16; ++i) o[i] = static_cast<int32_t>((i < n_valid ? i : n_valid - 1) * stride);
    return _mm512_load_si512(o);
  }

  // g[j] lane i = 32-bit word j of the 16 bytes at rows[i] + off: a 16x16-byte
  // transpose. Loads rows k, k+4, k+8, k+12 into one register, then a 4x4
  // transpose of 32-bit words inside each 128-bit lane leaves row i in lane i.
  static void LoadT(const uint8_t* const* rows, size_t off, I g[4]) {
    I z[4];
    for (int k = 0; k < 4; ++k) {
      I v = _mm512_castsi128_si512(_mm_loadu_si128(reinterpret_cast<const __m128i*>(rows[k] + off)));
      v = _mm512_inserti32x4(v, _mm_loadu_si128(reinterpret_cast<const __m128i*>(rows[k + 4] + off)), 1);
      v = _mm512_inserti32x4(v, _mm_loadu_si128(reinterpret_cast<const __m128i*>(rows[k + 8] + off)), 2);
      v = _mm512_inserti32x4(v, _mm_loadu_si128(reinterpret_cast<const __m128i*>(rows[k + 12] + off)), 3);
      z[k] = v;
    }
    Transpose4x4(z, g);
  }

  // 4x4 transposes of 32-bit words inside each 128-bit lane: g[j] word i of
  // lane m = z[i] word j of lane m. Its own inverse.
  static void Transpose4x4(const I z[4], I g[4]) {
    const I t0 = _mm512_unpacklo_epi32(z[0], z[1]);
    const I t1 = _mm512_unpackhi_epi32(z[0], z[1]);
    const I t2 = _mm512_unpacklo_epi32(z[2], z[3]);
    const I t3 = _mm512_unpackhi_epi32(z[2], z[3]);
    g[0] = _mm512_unpacklo_epi64(t0, t2);
    g[1] = _mm512_unpackhi_epi64(t0, t2);
    g[2] = _mm512_unpacklo_epi64(t1, t3);
    g[3] = _mm512_unpackhi_epi64(t1, t3);
  }

  // Stores the first n (1..16) lanes.
  static void Store(float* p, F v, int n) {
    _mm512_mask_storeu_ps(p, static_cast<__mmask16>((1u << n) - 1u), v);
  }

  // ---- float kernels: kLanes consecutive values of one row -----------------
  static F LoadF32(const float* p) { return _mm512_loadu_ps(p); }
  static F LoadF32Tail(const float* p, int n) {
    return _mm512_maskz_loadu_ps(static_cast<__mmask16>((1u << n) - 1u), p);
  }
  static F LoadF16(const uint16_t* p) {
    return _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
  }
  // 16 int8 as floats (exact).
  static F LoadI8(const int8_t* p) {
    return _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p))));
  }
  static F LoadF16Tail(const uint16_t* p, int n) {
    return _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(static_cast<__mmask16>((1u << n) - 1u), p));
  }
  static F LoadBF16(const uint16_t* p) {
    const __m512i w = _mm512_cvtepu16_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
    return _mm512_castsi512_ps(_mm512_slli_epi32(w, 16));
  }
  static F LoadBF16Tail(const uint16_t* p, int n) {
    const __m512i w = _mm512_cvtepu16_epi32(_mm256_maskz_loadu_epi16(static_cast<__mmask16>((1u << n) - 1u), p));
    return _mm512_castsi512_ps(_mm512_slli_epi32(w, 16));
  }
  // Sum of the lanes in a fixed order (halving tree). (Written with shuffles:
  // GCC 12's _mm512_reduce_* trip -Wmaybe-uninitialized.)
  static float ReduceAdd(F v) {
    v = _mm512_add_ps(v, _mm512_shuffle_f32x4(v, v, 0x4E));
    v = _mm512_add_ps(v, _mm512_shuffle_f32x4(v, v, 0xB1));
    const __m128 q = _mm512_castps512_ps128(v);
    const __m128 e = _mm_add_ps(q, _mm_movehl_ps(q, q));
    return _mm_cvtss_f32(_mm_add_ss(e, _mm_movehdup_ps(e)));
  }
  static F MaxAbs(F m, F v) { return _mm512_max_ps(m, _mm512_abs_ps(v)); }
  static float ReduceMax(F v) {
    v = _mm512_max_ps(v, _mm512_shuffle_f32x4(v, v, 0x4E));
    v = _mm512_max_ps(v, _mm512_shuffle_f32x4(v, v, 0xB1));
    const __m128 q = _mm512_castps512_ps128(v);
    const __m128 e = _mm_max_ps(q, _mm_movehl_ps(q, q));
    return _mm_cvtss_f32(_mm_max_ss(e, _mm_movehdup_ps(e)));
  }
  // q[i] = round-to-nearest-even(x[i] * id) for 16 values (|x * id| <= 127); returns sum q.
  static int32_t Quant16(const float* x, float id, int8_t* q) {
    const __m512i v = _mm512_cvtps_epi32(_mm512_mul_ps(_mm512_loadu_ps(x), _mm512_set1_ps(id)));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(q), _mm512_cvtsepi32_epi8(v));
    __m512i t = _mm512_add_epi32(v, _mm512_shuffle_i32x4(v, v, 0x4E));
    t = _mm512_add_epi32(t, _mm512_shuffle_i32x4(t, t, 0xB1));
    const __m128i h = _mm512_castsi512_si128(t);
    const __m128i e = _mm_add_epi32(h, _mm_unpackhi_epi64(h, h));
    return _mm_cvtsi128_si32(_mm_add_epi32(e, _mm_shuffle_epi32(e, 1)));
  }

  // Lane i = sum of the lanes of v[i] (16 vectors): pairwise interleave-adds
  // inside 128-bit lanes, then across them.
  static F TransposeSum(const F* v) {
    F a[8], b[4];
    for (int i = 0; i < 8; ++i) {
      a[i] = _mm512_add_ps(_mm512_unpacklo_ps(v[2 * i], v[2 * i + 1]), _mm512_unpackhi_ps(v[2 * i], v[2 * i + 1]));
    }
    for (int i = 0; i < 4; ++i) {
      const __m512d x = _mm512_castps_pd(a[2 * i]), y = _mm512_castps_pd(a[2 * i + 1]);
      b[i] = _mm512_add_ps(_mm512_castpd_ps(_mm512_unpacklo_pd(x, y)), _mm512_castpd_ps(_mm512_unpackhi_pd(x, y)));
    }
    const F c0 = _mm512_add_ps(_mm512_shuffle_f32x4(b[0], b[1], 0x88), _mm512_shuffle_f32x4(b[0], b[1], 0xDD));
    const F c1 = _mm512_add_ps(_mm512_shuffle_f32x4(b[2], b[3], 0x88), _mm512_shuffle_f32x4(b[2], b[3], 0xDD));
    return _mm512_add_ps(_mm512_shuffle_f32x4(c0, c1, 0x88), _mm512_shuffle_f32x4(c0, c1, 0xDD));
  }

  // ---- row operations ---------------------------------------------------
  static F Add(F a, F b) { return _mm512_add_ps(a, b); }
  static F Sub(F a, F b) { return _mm512_sub_ps(a, b); }
  static F Div(F a, F b) { return _mm512_div_ps(a, b); }
  static F Neg(F a) { return _mm512_sub_ps(_mm512_setzero_ps(), a); }
  static F MinF(F a, F b) { return _mm512_min_ps(a, b); }
  static F MaxF(F a, F b) { return _mm512_max_ps(a, b); }
  static F Round(F a) { return _mm512_roundscale_ps(a, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC); }
  // a * 2^n for integral n in [-126, 127] (exact).
  static F Scale2(F a, F n) {
    const __m512i e = _mm512_slli_epi32(_mm512_add_epi32(_mm512_cvtps_epi32(n), _mm512_set1_epi32(127)), 23);
    return _mm512_mul_ps(a, _mm512_castsi512_ps(e));
  }
  static F Mask(F v, int n) { return _mm512_maskz_mov_ps(static_cast<__mmask16>((1u << n) - 1u), v); }
  static void StoreF32(float* p, F v) { _mm512_storeu_ps(p, v); }
  static void StoreF16(uint16_t* p, F v) {
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(p), _mm512_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT));
  }
};

}  // namespace
}  // namespace jarvis::kernels_internal::avx512
