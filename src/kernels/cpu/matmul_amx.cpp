// AMX-INT8 matmul for batches on packed weights (weight_pack.h): Q4_0, Q8_0,
// Q4_K, Q5_K and Q6_K against groups of 16 tokens. Everything else (GGUF-layout
// weights, other types, the last n_tokens % 16 tokens) runs the AVX-512
// kernels.
//
// Roles: A = 16 tokens x K bytes of the int8 activations, read in place (row
// stride = cols); B = 16 weight rows: one 64-byte word line of the packed
// layout is exactly one B-tile row (4 consecutive values of each of the 16
// rows), so Q8_0 blocks are multiplied in place and the 4-/6-bit types only
// have their nibbles split into a stage, once per row tile. C row t = token t,
// lane r = weight row r: the AVX-512 kernels' lanes, so the epilogue below is
// their float sequence verbatim (matmul_int8_impl.h's contract) and results
// are bit-identical to them. Tiles: 0/3 = A, 1/4 = B, 2/5/6/7 = C; products
// run three blocks ahead of the epilogue.
#include "kernels/cpu/simd_avx512.h"  // first: see its note on warnings
#include "kernels/cpu/matmul_isa.h"

#include <type_traits>

namespace jarvis::kernels_internal::amx {
namespace {

using V = avx512::V512;
#include "kernels/cpu/matmul_int8_impl.h"
#include "kernels/cpu/matmul_int8_more_impl.h"

constexpr int kGroup = 16;  // tokens per A tile

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
#define JARVIS_TILE_DPBSUD(c, a, b) __asm__ volatile("tdpbsud %%tmm" #b ", %%tmm" #a ", %%tmm" #c ::)
#define JARVIS_TILE_DPBSSD(c, a, b) __asm__ volatile("tdpbssd %%tmm" #b ", %%tmm" #a ", %%tmm" #c ::)

// kK: bytes of K per product (32, or 16 for Q6_K's sub-blocks of 16).
void ConfigureTiles(int kK) {
  alignas(64) TileConfig cfg;
  uint8_t* p = reinterpret_cast<uint8_t*>(&cfg);
  for (size_t i = 0; i < sizeof(cfg); ++i) p[i] = 0;
  cfg.palette = 1;
  cfg.colsb[0] = static_cast<uint16_t>(kK);  // A: 16 tokens x kK bytes
  cfg.rows[0] = 16;
  cfg.colsb[1] = 64;  // B: kK / 4 rows of 16 x 4 bytes
  cfg.rows[1] = static_cast<uint8_t>(kK / 4);
  cfg.colsb[2] = 64;  // C: 16 tokens x 16 int32
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

// The types with a case in MatMulRows below; the registry's `amx` flag
// (quant/quant_types.h) must name exactly these.
constexpr bool AmxImplemented(GgmlType type) {
  switch (type) {
    case GgmlType::kQ4_0:
    case GgmlType::kQ8_0:
    case GgmlType::kQ4_K:
    case GgmlType::kQ5_K:
    case GgmlType::kQ6_K:
      return true;
    default:
      return false;
  }
}
static_assert(TableMatches(&QuantType::amx, AmxImplemented), "quant_types.h `amx` and the AMX kernels disagree");


// C (16 tokens x 16 rows int32) = A x B for one block, stored at c. A is read
// with row stride a_stride, B with 64. Product slot k (0..3) uses C tile kC[k]
// and A/B tiles of set k % 2; tile numbers must be immediates, hence the
// template. kSignedB: B holds signed bytes (else unsigned).
template <int kSlot, bool kSignedB>
inline void TileProduct(const int8_t* a, int64_t a_stride, const uint8_t* b, int32_t* c) {
#define JARVIS_AMX_PRODUCT(ta, tb, tc) \
  JARVIS_TILE_LOAD(ta, a, a_stride);   \
  JARVIS_TILE_LOAD(tb, b, 64);         \
  JARVIS_TILE_ZERO(tc);                \
  if constexpr (kSignedB) {            \
    JARVIS_TILE_DPBSSD(tc, ta, tb);    \
  } else {                             \
    JARVIS_TILE_DPBSUD(tc, ta, tb);    \
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

// Token t's row of a C buffer, as float lanes (= weight rows).
inline F CRow(const int32_t* c, int t) { return V::Cvt(_mm512_load_si512(c + 16 * t)); }

// ---- stages: the B tiles of one row tile, 16 * cols bytes -----------------
// Q4_0: per block, B rows [lo(w0..w3) - 8, hi(w0..w3) - 8] (values 0..31).
// Q4_K: per super-block, 8 sub-blocks x 8 rows: sub-block 2c = low nibbles of
//       words 4 + 8c .. 4 + 8c + 7, sub-block 2c + 1 = their high nibbles.
// Q5_K: as Q4_K (its quants are words 12 + 8c ..), plus the fifth bits from
//       qh (bit 2c for the low nibbles, 2c + 1 for the high ones).
// Q6_K: per super-block, 16 sub-blocks of 16 values x 4 rows (values 0..63),
//       assembled as KernelQ6_K does. Q8_0 needs no stage.
constexpr size_t kBRow = 64;

void StageQ4_0(const MatMulArgs& a, const PackedTile& tl, uint8_t* stage) {
  constexpr PackLayout L = KernelQ4_0::kLayout;
  const I m4 = V::Set1(0x0F0F0F0F);
  const __m512i m8 = _mm512_set1_epi8(8);
  for (int64_t b = 0; b < a.cols / 32; ++b) {
    I g[4];
    Load4<L>(tl, b, 2, g);
    uint8_t* st = stage + b * 8 * kBRow;
    for (int j = 0; j < 4; ++j) {
      _mm512_store_si512(st + j * kBRow, _mm512_sub_epi8(V::And(g[j], m4), m8));
      _mm512_store_si512(st + (4 + j) * kBRow, _mm512_sub_epi8(V::And(V::template Srl16<4>(g[j]), m4), m8));
    }
  }
}

void StageQ4_K(const MatMulArgs& a, const PackedTile& tl, uint8_t* stage) {
  constexpr PackLayout L = KernelQ4_K::kLayout;
  const I m4 = V::Set1(0x0F0F0F0F);
  for (int64_t b = 0; b < a.cols / 256; ++b) {
    uint8_t* st = stage + b * 64 * kBRow;
    for (int c = 0; c < 4; ++c) {
      I g[8];
      Load4<L>(tl, b, 16 + 32 * c, g);
      Load4<L>(tl, b, 32 + 32 * c, g + 4);
      for (int i = 0; i < 8; ++i) {
        _mm512_store_si512(st + (16 * c + i) * kBRow, V::And(g[i], m4));
        _mm512_store_si512(st + (16 * c + 8 + i) * kBRow, V::And(V::template Srl16<4>(g[i]), m4));
      }
    }
  }
}

template <int C>
void StageQ5_KChunk(const PackedTile& tl, int64_t b, const I* qh, uint8_t* st) {
  constexpr PackLayout L = KernelQ5_K::kLayout;
  const I m4 = V::Set1(0x0F0F0F0F);
  I g[8];
  Load4<L>(tl, b, 48 + 32 * C, g);
  Load4<L>(tl, b, 64 + 32 * C, g + 4);
  for (int i = 0; i < 8; ++i) {
    _mm512_store_si512(st + (16 * C + i) * kBRow, WithBit<2 * C>(V::And(g[i], m4), qh[i]));
    _mm512_store_si512(st + (16 * C + 8 + i) * kBRow,
                       WithBit<2 * C + 1>(V::And(V::template Srl16<4>(g[i]), m4), qh[i]));
  }
}

void StageQ5_K(const MatMulArgs& a, const PackedTile& tl, uint8_t* stage) {
  constexpr PackLayout L = KernelQ5_K::kLayout;
  for (int64_t b = 0; b < a.cols / 256; ++b) {
    uint8_t* st = stage + b * 64 * kBRow;
    I qh[8];
    Load4<L>(tl, b, 16, qh);
    Load4<L>(tl, b, 32, qh + 4);
    StageQ5_KChunk<0>(tl, b, qh, st);
    StageQ5_KChunk<1>(tl, b, qh, st);
    StageQ5_KChunk<2>(tl, b, qh, st);
    StageQ5_KChunk<3>(tl, b, qh, st);
  }
}

void StageQ6_K(const MatMulArgs& a, const PackedTile& tl, uint8_t* stage) {
  constexpr PackLayout L = KernelQ6_K::kLayout;
  const I m4 = V::Set1(0x0F0F0F0F);
  const I m2 = V::Set1(0x30303030);
  for (int64_t b = 0; b < a.cols / 256; ++b) {
    uint8_t* st = stage + b * 64 * kBRow;
    for (int half = 0; half < 2; ++half) {
      I qh[8];
      Load4<L>(tl, b, 128 + 32 * half, qh);
      Load4<L>(tl, b, 144 + 32 * half, qh + 4);
      for (int p = 0; p < 2; ++p) {
        I ql[8];
        Load4<L>(tl, b, 64 * half + 32 * p, ql);
        Load4<L>(tl, b, 64 * half + 32 * p + 16, ql + 4);
        const int j_lo = 8 * half + 2 * p;  // sub-blocks j_lo, j_lo + 1, j_lo + 4, j_lo + 5
        for (int i = 0; i < 8; ++i) {
          const I hl = p == 0 ? V::template Sll16<4>(qh[i]) : V::template Sll16<2>(qh[i]);
          const I hh = p == 0 ? qh[i] : V::template Srl16<2>(qh[i]);
          const I lo = V::Or(V::And(ql[i], m4), V::And(hl, m2));
          const I hi = V::Or(V::And(V::template Srl16<4>(ql[i]), m4), V::And(hh, m2));
          // Word i covers values 4i .. 4i + 3 of the 32: sub-block i / 4, row i % 4.
          _mm512_store_si512(st + (4 * (j_lo + i / 4) + i % 4) * kBRow, lo);
          _mm512_store_si512(st + (4 * (j_lo + 4 + i / 4) + i % 4) * kBRow, hi);
        }
      }
    }
  }
}

// ---- groups: 16 tokens x the row tile -------------------------------------

template <GgmlType kType>
void GroupLegacy(const MatMulArgs& a, const PackedTile& tl, const uint8_t* stage, int64_t t0, int32_t* cbuf) {
  // (Layouts are named through the kernels' static members: GCC 12 fails on a
  // local constexpr struct used inside these lambdas.)
  using K = std::conditional_t<kType == GgmlType::kQ8_0, KernelQ8_0, KernelQ4_0>;
  const int64_t nb = a.cols / 32;
  F acc[16];
  for (int t = 0; t < 16; ++t) acc[t] = V::ZeroF();
  auto product = [&](auto set, int64_t b, int32_t* c) {
    if constexpr (kType == GgmlType::kQ8_0) Prefetch(tl, b, nb);  // B straight from memory
    const uint8_t* w = kType == GgmlType::kQ8_0 ? tl.base + b * tl.block_stride + K::kLayout.word_off : stage + b * 8 * kBRow;
    TileProduct<decltype(set)::value, true>(a.acts.qs + t0 * a.cols + 32 * b, a.cols, w, c);
  };
  auto epilogue = [&](int64_t b, const int32_t* c) {
    const F dw = Half<K::kLayout>(tl, b);
    for (int t = 0; t < 16; ++t) {
      acc[t] = V::Fma(CRow(c, t), V::Mul(dw, V::Set1F(a.acts.d[(t0 + t) * nb + b])), acc[t]);
    }
  };
  Pipeline(nb, cbuf, product, epilogue);
  StoreTile<16>(a, tl, t0, acc);
}

// Q4_K and Q5_K (K = KernelQ4_K or KernelQ5_K): the same head and epilogue.
template <class K>
void GroupK(const MatMulArgs& a, const PackedTile& tl, const uint8_t* stage, int64_t t0, int32_t* cbuf) {
  const int64_t nb = a.cols / 256;
  F acc[16], s[16];
  for (int t = 0; t < 16; ++t) acc[t] = s[t] = V::ZeroF();
  KHead k;
  // Product i is sub-block i % 8 of super-block i / 8.
  auto product = [&](auto set, int64_t i, int32_t* c) {
    TileProduct<decltype(set)::value, false>(a.acts.qs + t0 * a.cols + 32 * i, a.cols, stage + i * 8 * kBRow, c);
  };
  auto epilogue = [&](int64_t i, const int32_t* c) {
    const int64_t b = i / 8;
    const int j = static_cast<int>(i % 8);
    if (j == 0) {  // the super-block's scales and mins, as KernelQ4_K / KernelQ5_K
      I h[4];
      Load4<K::kLayout>(tl, b, 0, h);
      k = DecodeKHead(h);
    }
    for (int t = 0; t < 16; ++t) s[t] = V::Fma(CRow(c, t), k.sd[j], s[t]);
    if (j < 7) return;
    for (int t = 0; t < 16; ++t) {
      acc[t] = FinishKSuperBlock(a, k, (t0 + t) * nb + b, s[t], acc[t]);
      s[t] = V::ZeroF();
    }
  };
  Pipeline(nb * 8, cbuf, product, epilogue);
  StoreTile<16>(a, tl, t0, acc);
}

void GroupQ6_K(const MatMulArgs& a, const PackedTile& tl, const uint8_t* stage, int64_t t0, int32_t* cbuf) {
  // KernelQ6_K's order of sub-blocks within a super-block.
  constexpr int kOrder[16] = {0, 1, 4, 5, 2, 3, 6, 7, 8, 9, 12, 13, 10, 11, 14, 15};
  const int64_t nb = a.cols / 256;
  F acc[16], s[16];
  for (int t = 0; t < 16; ++t) acc[t] = s[t] = V::ZeroF();
  F sd[16], d32;
  I sp[8];
  auto product = [&](auto set, int64_t i, int32_t* c) {
    const int64_t b = i / 16;
    const int j = kOrder[i % 16];
    TileProduct<decltype(set)::value, false>(a.acts.qs + t0 * a.cols + 256 * b + 16 * j, a.cols,
                                             stage + (b * 16 + j) * 4 * kBRow, c);
  };
  auto epilogue = [&](int64_t i, const int32_t* c) {
    const int64_t b = i / 16;
    const int j = kOrder[i % 16];
    if (i % 16 == 0) {  // the super-block's scales, as KernelQ6_K
      const F d = Half<KernelQ6_K::kLayout>(tl, b);
      I sv[4];
      Load4<KernelQ6_K::kLayout>(tl, b, 192, sv);
      for (int k = 0; k < 4; ++k) {
        sd[4 * k + 0] = V::Mul(SignedByteAsFloat<0>(sv[k]), d);
        sd[4 * k + 1] = V::Mul(SignedByteAsFloat<1>(sv[k]), d);
        sd[4 * k + 2] = V::Mul(SignedByteAsFloat<2>(sv[k]), d);
        sd[4 * k + 3] = V::Mul(SignedByteAsFloat<3>(sv[k]), d);
        sp[2 * k] = V::template Sra16<8>(V::template Sll16<8>(sv[k]));
        sp[2 * k + 1] = V::template Sra16<8>(sv[k]);
      }
      d32 = V::Mul(d, V::Set1F(32.0f));
    }
    for (int t = 0; t < 16; ++t) s[t] = V::Fma(CRow(c, t), sd[j], s[t]);
    if (i % 16 != 15) return;
    for (int t = 0; t < 16; ++t) {
      const int64_t xb = (t0 + t) * nb + b;
      const int16_t* s16 = a.acts.sum16 + xb * 16;
      I cz = V::Zero();
      for (int k = 0; k < 8; ++k) cz = V::Dot16(cz, sp[k], V::Bcast(s16 + 2 * k));
      const F dx = V::Set1F(a.acts.d[xb]);
      acc[t] = V::Fma(s[t], dx, acc[t]);
      acc[t] = V::Fnma(V::Cvt(cz), V::Mul(d32, dx), acc[t]);
      s[t] = V::ZeroF();
    }
  };
  Pipeline(nb * 16, cbuf, product, epilogue);
  StoreTile<16>(a, tl, t0, acc);
}

// Stage bytes for one row tile (Q8_0: none) and the four C buffers.
size_t StageBytes(const MatMulArgs& a) { return a.type == GgmlType::kQ8_0 ? 0 : static_cast<size_t>(16 * a.cols); }
constexpr size_t kCBytes = 4 * 16 * 16 * sizeof(int32_t);

bool UsesAmx(const MatMulArgs& a) { return a.packed != nullptr && IsAmxType(a.type) && a.n_tokens >= kGroup; }

}  // namespace

bool HasKernel(GgmlType type) { return avx512::HasKernel(type); }
bool WantsInt8(GgmlType type) { return avx512::WantsInt8(type); }
int64_t RowTile() { return avx512::RowTile(); }

void QuantizeActs(GgmlType type, const float* x, int64_t t_begin, int64_t t_end, const QuantActs& out) {
  avx512::QuantizeActs(type, x, t_begin, t_end, out);
}

size_t ScratchBytes(const MatMulArgs& a) { return UsesAmx(a) ? kCBytes + StageBytes(a) : 0; }

void MatMulRows(const MatMulArgs& a, int64_t r_begin, int64_t r_end, uint8_t* scratch) {
  const int64_t n_groups = UsesAmx(a) ? a.n_tokens / kGroup : 0;
  if (n_groups > 0) {
    auto* cbuf = reinterpret_cast<int32_t*>(scratch);  // four C tiles
    uint8_t* stage = scratch + kCBytes;
    ConfigureTiles(a.type == GgmlType::kQ6_K ? 16 : 32);
    // Token groups in blocks whose activations (16 * cols bytes per group)
    // stay in L2 while the row tiles pass over them; each row tile is staged
    // once per block.
    const int64_t block = Min64(n_groups, Min64(32, 4 + (1 << 20) / (16 * a.cols)));
    for (int64_t g0 = 0; g0 < n_groups; g0 += block) {
      const int64_t g1 = Min64(n_groups, g0 + block);
      for (int64_t r0 = r_begin; r0 < r_end; r0 += 16) {
        const int n = static_cast<int>(Min64(16, r_end - r0));
        switch (a.type) {
          case GgmlType::kQ4_0: {
            const PackedTile tl = MakePackedTile(a, r0, n, KernelQ4_0::kLayout.block_bytes);
            StageQ4_0(a, tl, stage);
            for (int64_t g = g0; g < g1; ++g) GroupLegacy<GgmlType::kQ4_0>(a, tl, stage, g * kGroup, cbuf);
            break;
          }
          case GgmlType::kQ8_0: {
            const PackedTile tl = MakePackedTile(a, r0, n, KernelQ8_0::kLayout.block_bytes);
            for (int64_t g = g0; g < g1; ++g) GroupLegacy<GgmlType::kQ8_0>(a, tl, stage, g * kGroup, cbuf);
            break;
          }
          case GgmlType::kQ4_K: {
            const PackedTile tl = MakePackedTile(a, r0, n, KernelQ4_K::kLayout.block_bytes);
            StageQ4_K(a, tl, stage);
            for (int64_t g = g0; g < g1; ++g) GroupK<KernelQ4_K>(a, tl, stage, g * kGroup, cbuf);
            break;
          }
          case GgmlType::kQ5_K: {
            const PackedTile tl = MakePackedTile(a, r0, n, KernelQ5_K::kLayout.block_bytes);
            StageQ5_K(a, tl, stage);
            for (int64_t g = g0; g < g1; ++g) GroupK<KernelQ5_K>(a, tl, stage, g * kGroup, cbuf);
            break;
          }
          case GgmlType::kQ6_K: {
            const PackedTile tl = MakePackedTile(a, r0, n, KernelQ6_K::kLayout.block_bytes);
            StageQ6_K(a, tl, stage);
            for (int64_t g = g0; g < g1; ++g) GroupQ6_K(a, tl, stage, g * kGroup, cbuf);
            break;
          }
          default:
            // Not reachable: UsesAmx admits only IsAmxType types, and the
            // static_assert above ties those to the cases here. Never fall
            // into another type's kernel.
            std::abort();
        }
      }
    }
    __asm__ volatile("tilerelease" ::);
  }
  // The remaining tokens (or every token, without AMX) on AVX-512.
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
