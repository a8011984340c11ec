// AMX-INT8 matmul for batches: Q4_0, Q8_0, Q4_K and Q6_K weights against
// groups of 16 tokens. Everything else (other types, the last n_tokens % 16 tokens)
// runs the AVX-512 kernels.
//
// Per tile of 16 weight rows the weights are unpacked once into AMX A tiles
// (16 rows x 32 int8, one per block of 32 values) in scratch; the activations
// come packed as B tiles (matmul_isa.h). For each group of 16 tokens and each
// block, one tile product gives the exact int dots of 16 rows x 16 tokens;
// the epilogue then applies the same float operations, per output, as the
// AVX-512 kernels (matmul_int8_impl.h's contract), so results are
// bit-identical to them: fma(float(I), d_w * d_x, acc) per block in order, or
// for the K types the per-super-block sum s then fma(s, d_x, acc), with the
// mins / zero-point terms computed exactly in float (every partial sum is an
// integer below 2^24).
// Tiles: 0/3 = A (16 x 32 bytes), 1/4 = B (8 x 64 bytes), 2/5/6/7 = C (16 x
// 16 int32): products run three blocks ahead of the epilogue.
#include "kernels/cpu/simd_avx512.h"  // first: see its note on warnings
#include "kernels/cpu/matmul_isa.h"

#include <type_traits>

namespace jarvis::kernels_internal::amx {
namespace {

using V = avx512::V512;
#include "kernels/cpu/matmul_int8_impl.h"

constexpr int kGroup = 16;     // tokens per B tile
constexpr size_t kATile = 512; // 16 rows x 32 bytes

struct TileConfig {
  uint8_t palette;
  uint8_t start_row;
  uint8_t reserved[14];
  uint16_t colsb[16];
  uint8_t rows[16];
};

// The tile instructions as asm statements that name exactly the memory they
// read or write. (GCC 12's intrinsics tell the compiler that _tile_loadconfig
// reads 8 bytes and _tile_loadd nothing, and give _tile_stored a full memory
// clobber, which would also force the accumulators out of registers.)
struct Mem64 {
  char x[64];
};
struct Mem512 {
  char x[512];
};
struct Mem1024 {
  char x[1024];
};
#define JARVIS_TILE_LOAD(t, ptr, stride)                                              \
  __asm__ volatile("tileloadd (%1,%2,1), %%tmm" #t ::"m"(*reinterpret_cast<const Mem512*>(ptr)), \
                   "r"(ptr), "r"(static_cast<long>(stride)))
#define JARVIS_TILE_STORE(t, ptr)                                                          \
  __asm__ volatile("tilestored %%tmm" #t ", (%1,%2,1)"                                    \
                   : "=m"(*reinterpret_cast<Mem1024*>(ptr))                                \
                   : "r"(ptr), "r"(64L))
#define JARVIS_TILE_ZERO(t) __asm__ volatile("tilezero %%tmm" #t ::)
#define JARVIS_TILE_DPBUSD(c, a, b) __asm__ volatile("tdpbusd %%tmm" #b ", %%tmm" #a ", %%tmm" #c ::)
#define JARVIS_TILE_DPBSSD(c, a, b) __asm__ volatile("tdpbssd %%tmm" #b ", %%tmm" #a ", %%tmm" #c ::)

// kK: bytes of K per product (32, or 16 for Q6_K's sub-blocks of 16).
void ConfigureTiles(int kK) {
  alignas(64) TileConfig cfg;
  uint8_t* p = reinterpret_cast<uint8_t*>(&cfg);
  for (size_t i = 0; i < sizeof(cfg); ++i) p[i] = 0;
  cfg.palette = 1;
  cfg.colsb[0] = static_cast<uint16_t>(kK);
  cfg.rows[0] = 16;
  cfg.colsb[1] = 64;
  cfg.rows[1] = static_cast<uint8_t>(kK / 4);
  cfg.colsb[2] = 64;
  cfg.rows[2] = 16;
  for (int t = 3; t < 6; ++t) {
    cfg.colsb[t] = cfg.colsb[t - 3];
    cfg.rows[t] = cfg.rows[t - 3];
  }
  for (int t = 6; t < 8; ++t) {  // more C tiles
    cfg.colsb[t] = 64;
    cfg.rows[t] = 16;
  }
  __asm__ volatile("ldtilecfg %0" ::"m"(*reinterpret_cast<const Mem64*>(&cfg)));
}

bool AmxType(GgmlType type) {
  return type == GgmlType::kQ4_0 || type == GgmlType::kQ8_0 || type == GgmlType::kQ4_K || type == GgmlType::kQ6_K;
}

// C (16 rows x 16 tokens int32) = A x B for one block, stored at c. Product
// slot k (0..3) uses C tile kC[k] and A/B tiles of set k % 2; tile numbers
// must be immediates, hence the template.
template <int kSlot, bool kSigned, int kK = 32>
inline void TileProduct(const uint8_t* a, const uint8_t* b, int32_t* c) {
#define JARVIS_AMX_PRODUCT(ta, tb, tc) \
  JARVIS_TILE_LOAD(ta, a, kK);         \
  JARVIS_TILE_LOAD(tb, b, 64);         \
  JARVIS_TILE_ZERO(tc);                \
  if constexpr (kSigned) {             \
    JARVIS_TILE_DPBSSD(tc, ta, tb);    \
  } else {                             \
    JARVIS_TILE_DPBUSD(tc, ta, tb);    \
  }                                    \
  JARVIS_TILE_STORE(tc, c);
  if constexpr (kSlot == 0) {
    JARVIS_AMX_PRODUCT(0, 1, 2)
  } else if constexpr (kSlot == 1) {
    JARVIS_AMX_PRODUCT(3, 4, 5)
  } else if constexpr (kSlot == 2) {
    JARVIS_AMX_PRODUCT(0, 1, 6)
  } else {
    JARVIS_AMX_PRODUCT(3, 4, 7)
  }
#undef JARVIS_AMX_PRODUCT
}

// Runs products 0..n-1 (product(slot, i, c) issues product i into the C
// buffer c) and epilogue(i, c) on each, keeping three products ahead of the
// epilogue so that the tile unit and the vector units overlap. c holds four
// C buffers of 256 int32.
template <class Product, class Epilogue>
inline void Pipeline(int64_t n, int32_t* c, const Product& product, const Epilogue& epilogue) {
  constexpr int kAhead = 3;
  auto issue = [&](int64_t i) {
    if (i >= n) return;
    int32_t* ci = c + 256 * (i % 4);
    switch (i % 4) {
      case 0:
        product(std::integral_constant<int, 0>(), i, ci);
        break;
      case 1:
        product(std::integral_constant<int, 1>(), i, ci);
        break;
      case 2:
        product(std::integral_constant<int, 2>(), i, ci);
        break;
      default:
        product(std::integral_constant<int, 3>(), i, ci);
        break;
    }
  };
  for (int64_t i = 0; i < kAhead; ++i) issue(i);
  for (int64_t i = 0; i < n; ++i) {
    issue(i + kAhead);
    epilogue(i, c + 256 * (i % 4));
  }
}

// acc[r] holds 16 tokens of row r: write y[(t0 + t) * rows + r0 + r] through
// a 16x16 transpose (32-bit, then 64-bit interleaves inside 128-bit lanes,
// then two rounds of 128-bit lane shuffles).
inline void StoreTransposed(const MatMulArgs& a, const Tile& tl, int64_t t0, const F* acc) {
  F x[16], y[16];
  for (int i = 0; i < 8; ++i) {
    x[2 * i] = _mm512_unpacklo_ps(acc[2 * i], acc[2 * i + 1]);
    x[2 * i + 1] = _mm512_unpackhi_ps(acc[2 * i], acc[2 * i + 1]);
  }
  // y[4i + k], lane m = column 4m + k of rows 4i .. 4i+3.
  for (int i = 0; i < 4; ++i) {
    const __m512d lo0 = _mm512_castps_pd(x[4 * i]), hi0 = _mm512_castps_pd(x[4 * i + 1]);
    const __m512d lo1 = _mm512_castps_pd(x[4 * i + 2]), hi1 = _mm512_castps_pd(x[4 * i + 3]);
    y[4 * i + 0] = _mm512_castpd_ps(_mm512_unpacklo_pd(lo0, lo1));
    y[4 * i + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(lo0, lo1));
    y[4 * i + 2] = _mm512_castpd_ps(_mm512_unpacklo_pd(hi0, hi1));
    y[4 * i + 3] = _mm512_castpd_ps(_mm512_unpackhi_pd(hi0, hi1));
  }
  const __mmask16 mask = static_cast<__mmask16>((1u << tl.n) - 1u);
  for (int k = 0; k < 4; ++k) {
    const F p0 = _mm512_shuffle_f32x4(y[k], y[4 + k], 0x44);
    const F q0 = _mm512_shuffle_f32x4(y[k], y[4 + k], 0xEE);
    const F p1 = _mm512_shuffle_f32x4(y[8 + k], y[12 + k], 0x44);
    const F q1 = _mm512_shuffle_f32x4(y[8 + k], y[12 + k], 0xEE);
    const F col[4] = {_mm512_shuffle_f32x4(p0, p1, 0x88), _mm512_shuffle_f32x4(p0, p1, 0xDD),
                      _mm512_shuffle_f32x4(q0, q1, 0x88), _mm512_shuffle_f32x4(q0, q1, 0xDD)};
    for (int m = 0; m < 4; ++m) {
      _mm512_mask_storeu_ps(a.y + (t0 + 4 * m + k) * a.rows + tl.r0, mask, col[m]);
    }
  }
}

// ---- legacy types: one A tile and 16 weight scales per block --------------

// Stage: A tiles [nb][16][32], then scales [nb][16] floats.
template <GgmlType kType>
void PrepLegacy(const MatMulArgs& a, const Tile& tl, uint8_t* stage) {
  const int64_t nb = a.cols / 32;
  constexpr size_t kBlock = kType == GgmlType::kQ4_0 ? 18 : 34;
  float* scales = reinterpret_cast<float*>(stage + nb * kATile);
  const __m512i m4 = _mm512_set1_epi8(0x0F);
  const __m512i m8 = _mm512_set1_epi8(8);
  // 128-bit lanes [lo0 hi0 lo1 hi1] and [lo2 hi2 lo3 hi3] of (lo, hi).
  const __m512i idx0 = _mm512_set_epi64(11, 10, 3, 2, 9, 8, 1, 0);
  const __m512i idx1 = _mm512_set_epi64(15, 14, 7, 6, 13, 12, 5, 4);
  for (int64_t b = 0; b < nb; ++b) {
    const size_t off = static_cast<size_t>(b) * kBlock;
    _mm512_store_ps(scales + 16 * b, V::HalfLo(V::Gather(tl.rows[0] + off, tl.offsets)));
    uint8_t* tile = stage + b * kATile;
    if constexpr (kType == GgmlType::kQ4_0) {
      // Four rows per register; q - 8 as signed bytes, so the product needs no
      // zero-point correction. Row r of the tile: 16 low nibbles (values
      // 0..15), then 16 high nibbles (values 16..31).
      for (int k = 0; k < 4; ++k) {
        __m512i q = _mm512_castsi128_si512(_mm_loadu_si128(reinterpret_cast<const __m128i*>(tl.rows[4 * k] + off + 2)));
        for (int i = 1; i < 4; ++i) {
          q = _mm512_inserti32x4(q, _mm_loadu_si128(reinterpret_cast<const __m128i*>(tl.rows[4 * k + i] + off + 2)), i);
        }
        const __m512i lo = _mm512_sub_epi8(_mm512_and_si512(q, m4), m8);
        const __m512i hi = _mm512_sub_epi8(_mm512_and_si512(_mm512_srli_epi16(q, 4), m4), m8);
        _mm512_store_si512(tile + 128 * k, _mm512_permutex2var_epi64(lo, idx0, hi));
        _mm512_store_si512(tile + 128 * k + 64, _mm512_permutex2var_epi64(lo, idx1, hi));
      }
    } else {
      for (int r = 0; r < 16; ++r) {
        _mm256_store_si256(reinterpret_cast<__m256i*>(tile + 32 * r),
                           _mm256_loadu_si256(reinterpret_cast<const __m256i*>(tl.rows[r] + off + 2)));
      }
    }
  }
}

template <GgmlType kType>
void GroupLegacy(const MatMulArgs& a, const Tile& tl, const uint8_t* stage, int64_t g, int32_t* cbuf) {
  const int64_t nb = a.cols / 32;
  const float* scales = reinterpret_cast<const float*>(stage + nb * kATile);
  F acc[16];
  for (int r = 0; r < 16; ++r) acc[r] = V::ZeroF();
  // Both types are staged as signed bytes (Q4_0 as q - 8).
  auto product = [&](auto set, int64_t b, int32_t* c) {
    TileProduct<decltype(set)::value, true>(stage + b * kATile, a.acts.bt + (g * nb + b) * 512, c);
  };
  auto epilogue = [&](int64_t b, const int32_t* c) {
    const F dx = _mm512_loadu_ps(a.acts.dxt + (g * nb + b) * 16);
    for (int r = 0; r < 16; ++r) {
      acc[r] = V::Fma(V::Cvt(_mm512_load_si512(c + 16 * r)), V::Mul(V::Set1F(scales[16 * b + r]), dx), acc[r]);
    }
  };
  Pipeline(nb, cbuf, product, epilogue);
  StoreTransposed(a, tl, g * kGroup, acc);
}

// ---- Q4_K: 8 A tiles per super-block, scales and mins per sub-block --------

// Stage per super-block: 8 A tiles, then sd[8][16], mins[8][16], dmin[16] floats.
constexpr size_t kQ4KStage = 8 * kATile + (8 * 16 + 8 * 16 + 16) * sizeof(float);

void PrepQ4K(const MatMulArgs& a, const Tile& tl, uint8_t* stage) {
  const int64_t nb = a.cols / 256;
  const I m4 = V::Set1(0x0F0F0F0F);
  const I m6 = V::Set1(0x3F3F3F3F);
  const I m2 = V::Set1(0x30303030);
  const __m256i m4y = _mm256_set1_epi8(0x0F);
  for (int64_t b = 0; b < nb; ++b) {
    const size_t off = static_cast<size_t>(b) * 144;
    uint8_t* st = stage + b * kQ4KStage;
    float* sd = reinterpret_cast<float*>(st + 8 * kATile);
    float* mins = sd + 8 * 16;
    float* dmin = mins + 8 * 16;
    // Scales exactly as KernelQ4_K computes them (lanes = rows).
    I h[4];
    V::LoadT(tl.rows, off, h);
    const F d = V::HalfLo(h[0]);
    _mm512_store_ps(dmin, V::HalfHi(h[0]));
    const I sc03 = V::And(h[1], m6);
    const I mn03 = V::And(h[2], m6);
    const I sc47 = V::Or(V::And(h[3], m4), V::And(V::template Srl32<2>(h[1]), m2));
    const I mn47 = V::Or(V::And(V::template Srl32<4>(h[3]), m4), V::And(V::template Srl32<2>(h[2]), m2));
    const F sdv[8] = {V::Mul(ByteAsFloat<0>(sc03), d), V::Mul(ByteAsFloat<1>(sc03), d),
                      V::Mul(ByteAsFloat<2>(sc03), d), V::Mul(ByteAsFloat<3>(sc03), d),
                      V::Mul(ByteAsFloat<0>(sc47), d), V::Mul(ByteAsFloat<1>(sc47), d),
                      V::Mul(ByteAsFloat<2>(sc47), d), V::Mul(ByteAsFloat<3>(sc47), d)};
    const F mv[8] = {ByteAsFloat<0>(mn03), ByteAsFloat<1>(mn03), ByteAsFloat<2>(mn03), ByteAsFloat<3>(mn03),
                     ByteAsFloat<0>(mn47), ByteAsFloat<1>(mn47), ByteAsFloat<2>(mn47), ByteAsFloat<3>(mn47)};
    for (int j = 0; j < 8; ++j) {
      _mm512_store_ps(sd + 16 * j, sdv[j]);
      _mm512_store_ps(mins + 16 * j, mv[j]);
    }
    // Chunk c of 32 bytes: low nibbles are sub-block 2c, high nibbles 2c+1.
    for (int r = 0; r < 16; ++r) {
      const uint8_t* qs = tl.rows[r] + off + 16;
      for (int c = 0; c < 4; ++c) {
        const __m256i q = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(qs + 32 * c));
        _mm256_store_si256(reinterpret_cast<__m256i*>(st + (2 * c) * kATile + 32 * r), _mm256_and_si256(q, m4y));
        _mm256_store_si256(reinterpret_cast<__m256i*>(st + (2 * c + 1) * kATile + 32 * r),
                           _mm256_and_si256(_mm256_srli_epi16(q, 4), m4y));
      }
    }
  }
}

void GroupQ4K(const MatMulArgs& a, const Tile& tl, const uint8_t* stage, int64_t g, int32_t* cbuf) {
  const int64_t nb = a.cols / 256;
  F acc[16], s[16];
  for (int r = 0; r < 16; ++r) acc[r] = s[r] = V::ZeroF();
  // Product i is sub-block i % 8 of super-block i / 8.
  auto product = [&](auto set, int64_t i, int32_t* c) {
    TileProduct<decltype(set)::value, false>(stage + (i / 8) * kQ4KStage + (i % 8) * kATile,
                                             a.acts.bt + (g * nb * 8 + i) * 512, c);
  };
  auto epilogue = [&](int64_t i, const int32_t* c) {
    const int64_t b = i / 8;
    const int j = static_cast<int>(i % 8);
    const uint8_t* st = stage + b * kQ4KStage;
    const float* sd = reinterpret_cast<const float*>(st + 8 * kATile);
    for (int r = 0; r < 16; ++r) {
      s[r] = V::Fma(V::Cvt(_mm512_load_si512(c + 16 * r)), V::Set1F(sd[16 * j + r]), s[r]);
    }
    if (j < 7) return;
    const int64_t gb = g * nb + b;
    const F dx = _mm512_loadu_ps(a.acts.dxt + gb * 16);
    const float* mins = sd + 8 * 16;
    const float* dmin = mins + 8 * 16;
    const float* s32 = a.acts.s32t + gb * 8 * 16;
    for (int r = 0; r < 16; ++r) {
      F m = V::Mul(V::Set1F(mins[r]), _mm512_loadu_ps(s32));
      for (int k = 1; k < 8; ++k) m = V::Fma(V::Set1F(mins[16 * k + r]), _mm512_loadu_ps(s32 + 16 * k), m);
      acc[r] = V::Fma(s[r], dx, acc[r]);
      acc[r] = V::Fnma(m, V::Mul(V::Set1F(dmin[r]), dx), acc[r]);
      s[r] = V::ZeroF();
    }
  };
  Pipeline(nb * 8, cbuf, product, epilogue);
  StoreTransposed(a, tl, g * kGroup, acc);
}

// ---- Q6_K: 16 A tiles of K = 16 per super-block ---------------------------

// Stage per super-block: 16 A tiles (16 rows x 16 values), then sd[16][16]
// (scale * d), sc[16][16] (scale) and d32[16] floats.
constexpr size_t kQ6KTile = 256;
constexpr size_t kQ6KStage = 16 * kQ6KTile + (16 * 16 + 16 * 16 + 16) * sizeof(float);

void PrepQ6K(const MatMulArgs& a, const Tile& tl, uint8_t* stage) {
  const int64_t nb = a.cols / 256;
  const __m256i m4 = _mm256_set1_epi8(0x0F);
  const __m256i m2 = _mm256_set1_epi8(0x30);
  for (int64_t b = 0; b < nb; ++b) {
    const size_t off = static_cast<size_t>(b) * 210;
    uint8_t* st = stage + b * kQ6KStage;
    float* sd = reinterpret_cast<float*>(st + 16 * kQ6KTile);
    float* sc = sd + 16 * 16;
    float* d32 = sc + 16 * 16;
    // As KernelQ6_K computes them (lanes = rows).
    const F d = V::HalfHi(V::Gather(tl.rows[0] + off + 206, tl.offsets));
    _mm512_store_ps(d32, V::Mul(d, V::Set1F(32.0f)));
    I sv[4];
    V::LoadT(tl.rows, off + 192, sv);
    for (int i = 0; i < 4; ++i) {
      const F f[4] = {SignedByteAsFloat<0>(sv[i]), SignedByteAsFloat<1>(sv[i]), SignedByteAsFloat<2>(sv[i]),
                      SignedByteAsFloat<3>(sv[i])};
      for (int k = 0; k < 4; ++k) {
        _mm512_store_ps(sc + 16 * (4 * i + k), f[k]);
        _mm512_store_ps(sd + 16 * (4 * i + k), V::Mul(f[k], d));
      }
    }
    // Values 128h + 32k + l (l < 32) are sub-blocks 8h + 2k and 8h + 2k + 1.
    for (int r = 0; r < 16; ++r) {
      const uint8_t* q = tl.rows[r] + off;
      for (int h = 0; h < 2; ++h) {
        const __m256i ql0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(q + 64 * h));
        const __m256i ql1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(q + 64 * h + 32));
        const __m256i qh = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(q + 128 + 32 * h));
        const __m256i v[4] = {
            _mm256_or_si256(_mm256_and_si256(ql0, m4), _mm256_and_si256(_mm256_slli_epi16(qh, 4), m2)),
            _mm256_or_si256(_mm256_and_si256(ql1, m4), _mm256_and_si256(_mm256_slli_epi16(qh, 2), m2)),
            _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(ql0, 4), m4), _mm256_and_si256(qh, m2)),
            _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(ql1, 4), m4),
                            _mm256_and_si256(_mm256_srli_epi16(qh, 2), m2))};
        for (int k = 0; k < 4; ++k) {
          const int j = 8 * h + 2 * k;
          _mm_store_si128(reinterpret_cast<__m128i*>(st + j * kQ6KTile + 16 * r), _mm256_castsi256_si128(v[k]));
          _mm_store_si128(reinterpret_cast<__m128i*>(st + (j + 1) * kQ6KTile + 16 * r),
                          _mm256_extracti128_si256(v[k], 1));
        }
      }
    }
  }
}

void GroupQ6K(const MatMulArgs& a, const Tile& tl, const uint8_t* stage, int64_t g, int32_t* cbuf) {
  const int64_t nb = a.cols / 256;
  // KernelQ6_K's order of sub-blocks within a super-block.
  constexpr int kOrder[16] = {0, 1, 4, 5, 2, 3, 6, 7, 8, 9, 12, 13, 10, 11, 14, 15};
  F acc[16], s[16];
  for (int r = 0; r < 16; ++r) acc[r] = s[r] = V::ZeroF();
  // Sub-block j's B tile is half of the packed K = 32 tile of its 32 values.
  auto product = [&](auto set, int64_t i, int32_t* c) {
    const int64_t b = i / 16;
    const int j = kOrder[i % 16];
    TileProduct<decltype(set)::value, false, 16>(stage + b * kQ6KStage + j * kQ6KTile,
                                                 a.acts.bt + (g * nb * 8 + 8 * b + j / 2) * 512 + (j % 2) * 256, c);
  };
  auto epilogue = [&](int64_t i, const int32_t* c) {
    const int64_t b = i / 16;
    const int j = kOrder[i % 16];
    const uint8_t* st = stage + b * kQ6KStage;
    const float* sd = reinterpret_cast<const float*>(st + 16 * kQ6KTile);
    for (int r = 0; r < 16; ++r) {
      s[r] = V::Fma(V::Cvt(_mm512_load_si512(c + 16 * r)), V::Set1F(sd[16 * j + r]), s[r]);
    }
    if (i % 16 != 15) return;
    const int64_t gb = g * nb + b;
    const F dx = _mm512_loadu_ps(a.acts.dxt + gb * 16);
    // The zero point 32: C = sum_j scale_j * sum_x(j), exact in float.
    const float* sc = sd + 16 * 16;
    const float* d32 = sc + 16 * 16;
    const float* s16 = a.acts.s16t + gb * 16 * 16;
    for (int r = 0; r < 16; ++r) {
      F cf = V::Mul(V::Set1F(sc[r]), _mm512_loadu_ps(s16));
      for (int k = 1; k < 16; ++k) cf = V::Fma(V::Set1F(sc[16 * k + r]), _mm512_loadu_ps(s16 + 16 * k), cf);
      acc[r] = V::Fma(s[r], dx, acc[r]);
      acc[r] = V::Fnma(cf, V::Mul(V::Set1F(d32[r]), dx), acc[r]);
      s[r] = V::ZeroF();
    }
  };
  Pipeline(nb * 16, cbuf, product, epilogue);
  StoreTransposed(a, tl, g * kGroup, acc);
}

// Scratch: the staged weights of one row tile, then the C buffers.
size_t StageBytes(const MatMulArgs& a) {
  if (a.type == GgmlType::kQ4_K) return static_cast<size_t>(a.cols / 256) * kQ4KStage;
  if (a.type == GgmlType::kQ6_K) return static_cast<size_t>(a.cols / 256) * kQ6KStage;
  return static_cast<size_t>(a.cols / 32) * (kATile + 16 * sizeof(float));
}

}  // namespace

bool HasKernel(GgmlType type) { return avx512::HasKernel(type); }
bool WantsInt8(GgmlType type) { return avx512::WantsInt8(type); }
int64_t RowTile() { return avx512::RowTile(); }

void QuantizeActs(GgmlType type, const float* x, int64_t t_begin, int64_t t_end, const QuantActs& out) {
  avx512::QuantizeActs(type, x, t_begin, t_end, out);
}

int64_t PackedGroups(GgmlType type, int64_t n_tokens) { return AmxType(type) ? n_tokens / kGroup : 0; }

void PackActs(GgmlType /*type*/, int64_t g_begin, int64_t g_end, const QuantActs& acts) {
  const int64_t cols = acts.cols;
  const int64_t nk = cols / 32;
  const int64_t nb = cols / acts.block;
  for (int64_t g = g_begin; g < g_end; ++g) {
    const uint8_t* rows[16];
    for (int t = 0; t < 16; ++t) rows[t] = reinterpret_cast<const uint8_t*>(acts.qs + (kGroup * g + t) * cols);
    for (int64_t k = 0; k < nk; ++k) {
      I tile[8];
      V::LoadT(rows, static_cast<size_t>(32 * k), tile);
      V::LoadT(rows, static_cast<size_t>(32 * k + 16), tile + 4);
      for (int j = 0; j < 8; ++j) _mm512_store_si512(acts.bt + ((g * nk + k) * 8 + j) * 64, tile[j]);
    }
    for (int64_t b = 0; b < nb; ++b) {
      for (int t = 0; t < 16; ++t) {
        const int64_t xb = (kGroup * g + t) * nb + b;
        acts.dxt[(g * nb + b) * 16 + t] = acts.d[xb];
        if (acts.block == 256) {
          // sum16 / sum32 hold each group of four as [s0, s2, s1, s3].
          constexpr int kSlot[4] = {0, 2, 1, 3};
          for (int j = 0; j < 8; ++j) {
            acts.s32t[((g * nb + b) * 8 + j) * 16 + t] =
                static_cast<float>(acts.sum32[xb * 8 + 4 * (j / 4) + kSlot[j % 4]]);
          }
          for (int j = 0; j < 16; ++j) {
            acts.s16t[((g * nb + b) * 16 + j) * 16 + t] =
                static_cast<float>(acts.sum16[xb * 16 + 4 * (j / 4) + kSlot[j % 4]]);
          }
        }
      }
    }
  }
}

size_t ScratchBytes(const MatMulArgs& a) {
  if (!AmxType(a.type) || a.acts.n_groups == 0) return 0;
  return StageBytes(a) + 4 * 16 * 16 * sizeof(int32_t);
}

void MatMulRows(const MatMulArgs& a, int64_t r_begin, int64_t r_end, uint8_t* scratch) {
  const int64_t n_groups = AmxType(a.type) ? a.acts.n_groups : 0;
  if (n_groups > 0) {
    uint8_t* stage = scratch;
    auto* cbuf = reinterpret_cast<int32_t*>(scratch + StageBytes(a));  // four C tiles
    ConfigureTiles(a.type == GgmlType::kQ6_K ? 16 : 32);
    // Token groups in blocks whose packed activations (16 * cols bytes per
    // group) stay in L2 while the row tiles pass over them; each row tile's
    // weights are staged once per block.
    const int64_t block = Min64(n_groups, Min64(32, 4 + (1 << 20) / (16 * a.cols)));
    for (int64_t g0 = 0; g0 < n_groups; g0 += block) {
      const int64_t g1 = Min64(n_groups, g0 + block);
      for (int64_t r0 = r_begin; r0 < r_end; r0 += 16) {
        const Tile tl = MakeTile(a, r0, static_cast<int>(Min64(16, r_end - r0)));
        switch (a.type) {
          case GgmlType::kQ4_0:
            PrepLegacy<GgmlType::kQ4_0>(a, tl, stage);
            for (int64_t g = g0; g < g1; ++g) GroupLegacy<GgmlType::kQ4_0>(a, tl, stage, g, cbuf);
            break;
          case GgmlType::kQ8_0:
            PrepLegacy<GgmlType::kQ8_0>(a, tl, stage);
            for (int64_t g = g0; g < g1; ++g) GroupLegacy<GgmlType::kQ8_0>(a, tl, stage, g, cbuf);
            break;
          case GgmlType::kQ4_K:
            PrepQ4K(a, tl, stage);
            for (int64_t g = g0; g < g1; ++g) GroupQ4K(a, tl, stage, g, cbuf);
            break;
          default:
            PrepQ6K(a, tl, stage);
            for (int64_t g = g0; g < g1; ++g) GroupQ6K(a, tl, stage, g, cbuf);
            break;
        }
      }
    }
    __asm__ volatile("tilerelease" ::);
  }
  // The remaining tokens (or every token for the other types) on AVX-512.
  const int64_t t0 = n_groups * kGroup;
  if (t0 >= a.n_tokens) return;
  MatMulArgs rest = a;
  rest.n_tokens = a.n_tokens - t0;
  rest.y = a.y + t0 * a.rows;
  rest.x = a.x + t0 * a.cols;
  const int64_t nb = a.cols / a.acts.block;
  if (a.acts.qs != nullptr) {
    rest.acts.qs = a.acts.qs + t0 * a.cols;
    rest.acts.d = a.acts.d + t0 * nb;
    if (a.acts.corr != nullptr) rest.acts.corr = a.acts.corr + t0 * nb;
    if (a.acts.sum16 != nullptr) rest.acts.sum16 = a.acts.sum16 + t0 * (a.cols / 16);
    if (a.acts.sum32 != nullptr) rest.acts.sum32 = a.acts.sum32 + t0 * (a.cols / 32);
  }
  avx512::MatMulRows(rest, r_begin, r_end, nullptr);
}

}  // namespace jarvis::kernels_internal::amx
