// AVX2 vector primitives for the kernels written once against a vector type V
// (matmul_int8_impl.h, matmul_float_impl.h). Include only from *_avx2*.cpp
// (compiled with -mavx2 -mfma -mf16c). 8 int32 / float lanes; the int8 dot
// products use vpmaddubsw + vpmaddwd (no VNNI needed).
#pragma once

#include <immintrin.h>

#include <cstdint>
#include <cstring>

namespace jarvis::kernels_internal::avx2 {
namespace {

struct V256 {
  using I = __m256i;
  using F = __m256;
  static constexpr int kLanes = 8;
  // The Q8_0 kernel multiplies |w| by sign(x, w): no zero point.
  static constexpr int kQ8_0Offset = 0;

  static I Zero() { return _mm256_setzero_si256(); }
  static I Set1(int32_t v) { return _mm256_set1_epi32(v); }
  static I Bcast(const void* p) {
    int32_t v;
    std::memcpy(&v, p, 4);
    return _mm256_set1_epi32(v);
  }
  static I And(I a, I b) { return _mm256_and_si256(a, b); }
  static I Or(I a, I b) { return _mm256_or_si256(a, b); }
  static I Add(I a, I b) { return _mm256_add_epi32(a, b); }
  template <int N> static I Srl16(I a) { return _mm256_srli_epi16(a, N); }
  template <int N> static I Sll16(I a) { return _mm256_slli_epi16(a, N); }
  template <int N> static I Srl32(I a) { return _mm256_srli_epi32(a, N); }
  template <int N> static I Sll32(I a) { return _mm256_slli_epi32(a, N); }
  template <int N> static I Sra32(I a) { return _mm256_srai_epi32(a, N); }
  template <int N> static I Sra16(I a) { return _mm256_srai_epi16(a, N); }

  // acc + sum of 4 products u8(u) * s8(s) per 32-bit lane. The 16-bit pair
  // sums cannot saturate: u <= 63 in every caller (2 * 63 * 127 < 32767).
  static I Dot(I acc, I u, I s) {
    return _mm256_add_epi32(acc, _mm256_madd_epi16(_mm256_maddubs_epi16(u, s), _mm256_set1_epi16(1)));
  }
  static I PrepQ8(I w) { return w; }
  // |w| * sign(x, w): at most 2 * 127 * 127 per 16-bit pair.
  static I DotQ8(I acc, I w, I s) {
    const I p = _mm256_maddubs_epi16(_mm256_sign_epi8(w, w), _mm256_sign_epi8(s, w));
    return _mm256_add_epi32(acc, _mm256_madd_epi16(p, _mm256_set1_epi16(1)));
  }
  static I Dot16(I acc, I a, I b) { return _mm256_add_epi32(acc, _mm256_madd_epi16(a, b)); }

  static F ZeroF() { return _mm256_setzero_ps(); }
  static F Set1F(float v) { return _mm256_set1_ps(v); }
  static F Cvt(I a) { return _mm256_cvtepi32_ps(a); }
  static F Mul(F a, F b) { return _mm256_mul_ps(a, b); }
  static F Fma(F a, F b, F c) { return _mm256_fmadd_ps(a, b, c); }
  static F Fnma(F a, F b, F c) { return _mm256_fnmadd_ps(a, b, c); }
  // 8 lanes of 16-bit values (upper halves zero) -> 8 halves -> float.
  static F Halves(I a) {
    const I packed = _mm256_permute4x64_epi64(_mm256_packus_epi32(a, a), 0x08);
    return _mm256_cvtph_ps(_mm256_castsi256_si128(packed));
  }
  static F HalfLo(I a) { return Halves(_mm256_and_si256(a, _mm256_set1_epi32(0xFFFF))); }
  static F HalfHi(I a) { return Halves(_mm256_srli_epi32(a, 16)); }

  // A whole register from p (unaligned), and 8 halves at p as float: the
  // packed-weight loads (weight_pack.h).
  static I LoadI(const uint8_t* p) { return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)); }
  static F LoadHalves(const uint8_t* p) {
    return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
  }

  static I Gather(const uint8_t* base, I off) {
    return _mm256_i32gather_epi32(reinterpret_cast<const int*>(base), off, 1);
  }
  static I Offsets(int64_t stride, int n_valid) {
    alignas(32) int32_t o[8];
    for (int i = 0; i < 8; ++i) o[i] = static_cast<int32_t>((i < n_valid ? i : n_valid - 1) * stride);
    return _mm256_load_si256(reinterpret_cast<const __m256i*>(o));
  }

  // g[j] lane i = 32-bit word j of the 16 bytes at rows[i] + off (rows k and
  // k+4 share a register, then a 4x4 transpose inside each 128-bit lane).
  static void LoadT(const uint8_t* const* rows, size_t off, I g[4]) {
    I z[4];
    for (int k = 0; k < 4; ++k) {
      const I v = _mm256_castsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(rows[k] + off)));
      z[k] = _mm256_inserti128_si256(v, _mm_loadu_si128(reinterpret_cast<const __m128i*>(rows[k + 4] + off)), 1);
    }
    const I t0 = _mm256_unpacklo_epi32(z[0], z[1]);
    const I t1 = _mm256_unpackhi_epi32(z[0], z[1]);
    const I t2 = _mm256_unpacklo_epi32(z[2], z[3]);
    const I t3 = _mm256_unpackhi_epi32(z[2], z[3]);
    g[0] = _mm256_unpacklo_epi64(t0, t2);
    g[1] = _mm256_unpackhi_epi64(t0, t2);
    g[2] = _mm256_unpacklo_epi64(t1, t3);
    g[3] = _mm256_unpackhi_epi64(t1, t3);
  }

  static I TailMask(int n) {
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
  }
  static void Store(float* p, F v, int n) {
    if (n == 8) {
      _mm256_storeu_ps(p, v);
    } else {
      _mm256_maskstore_ps(p, TailMask(n), v);
    }
  }

  static F LoadF32(const float* p) { return _mm256_loadu_ps(p); }
  static F LoadF32Tail(const float* p, int n) { return _mm256_maskload_ps(p, TailMask(n)); }
  static F LoadF16(const uint16_t* p) {
    return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
  }
  // 8 int8 as floats (exact).
  static F LoadI8(const int8_t* p) {
    int64_t b;
    std::memcpy(&b, p, 8);
    return _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_cvtsi64_si128(b)));
  }
  static F LoadF16Tail(const uint16_t* p, int n) {
    uint16_t tmp[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    std::memcpy(tmp, p, static_cast<size_t>(n) * 2);
    return LoadF16(tmp);
  }
  static F LoadBF16(const uint16_t* p) {
    const I w = _mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
    return _mm256_castsi256_ps(_mm256_slli_epi32(w, 16));
  }
  static F LoadBF16Tail(const uint16_t* p, int n) {
    uint16_t tmp[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    std::memcpy(tmp, p, static_cast<size_t>(n) * 2);
    return LoadBF16(tmp);
  }
  static float ReduceAdd(F v) {
    const __m128 q = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    const __m128 e = _mm_add_ps(q, _mm_movehl_ps(q, q));
    return _mm_cvtss_f32(_mm_add_ss(e, _mm_movehdup_ps(e)));
  }
  static F MaxAbs(F m, F v) {
    return _mm256_max_ps(m, _mm256_and_ps(v, _mm256_castsi256_ps(_mm256_set1_epi32(0x7FFFFFFF))));
  }
  static float ReduceMax(F v) {
    const __m128 q = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    const __m128 e = _mm_max_ps(q, _mm_movehl_ps(q, q));
    return _mm_cvtss_f32(_mm_max_ss(e, _mm_movehdup_ps(e)));
  }
  // q[i] = round-to-nearest-even(x[i] * id) for 16 values (|x * id| <= 127); returns sum q.
  static int32_t Quant16(const float* x, float id, int8_t* q) {
    const __m256 s = _mm256_set1_ps(id);
    const I a = _mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps(x), s));
    const I b = _mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps(x + 8), s));
    const I w16 = _mm256_permute4x64_epi64(_mm256_packs_epi32(a, b), 0xD8);  // a0..a7 | b0..b7
    const I w8 = _mm256_permute4x64_epi64(_mm256_packs_epi16(w16, w16), 0x08);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(q), _mm256_castsi256_si128(w8));
    const I sum = _mm256_add_epi32(a, b);
    const __m128i h = _mm_add_epi32(_mm256_castsi256_si128(sum), _mm256_extracti128_si256(sum, 1));
    const __m128i e = _mm_add_epi32(h, _mm_unpackhi_epi64(h, h));
    return _mm_cvtsi128_si32(_mm_add_epi32(e, _mm_shuffle_epi32(e, 1)));
  }

  // Lane i = sum of the lanes of v[i] (8 vectors).
  static F TransposeSum(const F* v) {
    F a[4], b[2];
    for (int i = 0; i < 4; ++i) {
      a[i] = _mm256_add_ps(_mm256_unpacklo_ps(v[2 * i], v[2 * i + 1]), _mm256_unpackhi_ps(v[2 * i], v[2 * i + 1]));
    }
    for (int i = 0; i < 2; ++i) {
      const __m256d x = _mm256_castps_pd(a[2 * i]), y = _mm256_castps_pd(a[2 * i + 1]);
      b[i] = _mm256_add_ps(_mm256_castpd_ps(_mm256_unpacklo_pd(x, y)), _mm256_castpd_ps(_mm256_unpackhi_pd(x, y)));
    }
    // b[i] 128-bit lane m: sums of v[4i .. 4i+3] over lane m; add the halves.
    return _mm256_add_ps(_mm256_permute2f128_ps(b[0], b[1], 0x20), _mm256_permute2f128_ps(b[0], b[1], 0x31));
  }

  // ---- row operations ---------------------------------------------------
  static F Add(F a, F b) { return _mm256_add_ps(a, b); }
  static F Sub(F a, F b) { return _mm256_sub_ps(a, b); }
  static F Div(F a, F b) { return _mm256_div_ps(a, b); }
  static F Neg(F a) { return _mm256_sub_ps(_mm256_setzero_ps(), a); }
  static F MinF(F a, F b) { return _mm256_min_ps(a, b); }
  static F MaxF(F a, F b) { return _mm256_max_ps(a, b); }
  static F Round(F a) { return _mm256_round_ps(a, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC); }
  // a * 2^n for integral n in [-126, 127] (exact).
  static F Scale2(F a, F n) {
    const __m256i e = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
    return _mm256_mul_ps(a, _mm256_castsi256_ps(e));
  }
  static F Mask(F v, int n) { return _mm256_and_ps(v, _mm256_castsi256_ps(TailMask(n))); }
  static void StoreF32(float* p, F v) { _mm256_storeu_ps(p, v); }
  static void StoreF16(uint16_t* p, F v) {
    _mm_storeu_si128(reinterpret_cast<__m128i*>(p), _mm256_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT));
  }
};

}  // namespace
}  // namespace jarvis::kernels_internal::avx2
