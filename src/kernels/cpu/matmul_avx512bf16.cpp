// BF16 dot-product matmul (AVX-512 BF16, vdpbf16ps) for F16 / BF16 weights
// whose WeightMatrix asks for it (bf16_dot: the encoders' matrices, see
// matmul.h). Compiled with -mavx512bf16 on top of the avx512 flags; called
// only where the CPU has it (matmul.cpp).
//
// Why: an embedding batch is thousands of tokens through small matrices, so
// it is compute-bound, and vdpbf16ps does two multiply-adds per 32-bit lane
// where an F32 FMA does one (and needs no F16 -> F32 widening in the loop).
//
// Layout. The activations are rounded once per call to BF16 (round to
// nearest even), one row of `stride` values per token (zero-padded to an
// even count). For a panel of 32 weight rows the kernel copies the rows'
// values pair by pair into L1/L2-resident scratch (16 x 16 word transposes),
// widening F16 through F32 to BF16 on the way: panel word (k, i) = row i's
// values 2k and 2k+1, so one 64-byte load is 16 rows' k-th pair. A tile is 32 rows x up to 12 tokens:
// 24 accumulators, where lane i of accumulator (h, t) is output (row 16h+i,
// token t); each step broadcasts token t's pair k and runs two vdpbf16ps.
// No horizontal sums: lanes store straight to y (16 consecutive rows).
//
// Determinism: output (t, r) is the chain of vdpbf16ps over pairs k = 0, 1,
// ... in order, starting from zero, whatever the tile, the token block or
// the thread; so it does not change with the batch or the thread count.
#include "kernels/cpu/simd_avx512.h"  // first: see its note on warnings
#include "kernels/cpu/matmul_isa.h"

namespace jarvis::kernels_internal::avx512bf16 {
namespace {

constexpr int kPanelRows = 32;   // two vectors of 16 lanes
constexpr int kMaxTokens = 12;   // 24 accumulators + 2 weights + 1 broadcast
// Tokens a panel is reused over before the next panel: its build (a few
// percent of the block's work) against the block's activations staying in
// L2 / L3 (768 KB at 1024 columns).
constexpr int64_t kTokenBlock = 1008;

// Values ahead of the one being read whose bytes BuildPanel prefetches.
constexpr int64_t kPrefetchValues = 4 * 32;

int64_t Pairs(int64_t cols) { return (cols + 1) / 2; }

// 32 F32 values -> 32 BF16 (RNE), as one vector of 16 pairs.
__m512i ToBf16(__m512 lo, __m512 hi) { return reinterpret_cast<__m512i>(_mm512_cvtne2ps_pbh(hi, lo)); }

// out[k] lane i = in[i] lane k: a 16 x 16 transpose of 32-bit words
// (pairs within 128-bit lanes, then quads, then the 128-bit lanes).
void Transpose16(const __m512i in[16], __m512i out[16]) {
  __m512i t[16], u[16];
  for (int i = 0; i < 16; i += 2) {
    t[i] = _mm512_unpacklo_epi32(in[i], in[i + 1]);
    t[i + 1] = _mm512_unpackhi_epi32(in[i], in[i + 1]);
  }
  // u[4q + j] lane L: word 4L + j of rows 4q .. 4q + 3.
  for (int q = 0; q < 4; ++q) {
    const __m512i* g = t + 4 * q;
    u[4 * q + 0] = _mm512_unpacklo_epi64(g[0], g[2]);
    u[4 * q + 1] = _mm512_unpackhi_epi64(g[0], g[2]);
    u[4 * q + 2] = _mm512_unpacklo_epi64(g[1], g[3]);
    u[4 * q + 3] = _mm512_unpackhi_epi64(g[1], g[3]);
  }
  for (int j = 0; j < 4; ++j) {
    const __m512i v = _mm512_shuffle_i32x4(u[j], u[4 + j], 0x88);       // lanes 0, 2
    const __m512i w = _mm512_shuffle_i32x4(u[j], u[4 + j], 0xDD);       // lanes 1, 3
    const __m512i v2 = _mm512_shuffle_i32x4(u[8 + j], u[12 + j], 0x88);
    const __m512i w2 = _mm512_shuffle_i32x4(u[8 + j], u[12 + j], 0xDD);
    out[j] = _mm512_shuffle_i32x4(v, v2, 0x88);
    out[8 + j] = _mm512_shuffle_i32x4(v, v2, 0xDD);
    out[4 + j] = _mm512_shuffle_i32x4(w, w2, 0x88);
    out[12 + j] = _mm512_shuffle_i32x4(w, w2, 0xDD);
  }
}

// 32 values of a row from value c on (fewer at the row's end: the rest
// zero), as 16 BF16 pairs.
__m512i LoadPairs(const Bf16Args& a, const uint8_t* row, int64_t c) {
  const int64_t left = a.cols - c;
  const __mmask32 m = left >= 32 ? 0xFFFFFFFFu : static_cast<__mmask32>((1u << left) - 1);
  const __m512i v = _mm512_maskz_loadu_epi16(m, row + c * 2);
  if (!a.f16) return v;
  return ToBf16(_mm512_cvtph_ps(_mm512_castsi512_si256(v)), _mm512_cvtph_ps(_mm512_extracti64x4_epi64(v, 1)));
}

// Panel words [k * 32 + i] for rows r0 + i (i < 32; rows past `n` repeat the
// last one): pairs k of the row, widened from F16 or copied from BF16, 16
// pairs of 16 rows at a time through a transpose. Padded to a multiple of 16
// pairs (the kernel never reads past its pairs).
void BuildPanel(const Bf16Args& a, int64_t r0, int n, uint32_t* panel) {
  const int64_t pairs = Pairs(a.cols);
  for (int h = 0; h < 2; ++h) {
    const uint8_t* rows[16];
    for (int i = 0; i < 16; ++i) {
      const int row = h * 16 + i < n ? h * 16 + i : n - 1;
      rows[i] = a.w + static_cast<size_t>(r0 + row) * a.row_bytes;
    }
    for (int64_t k = 0; k < pairs; k += 16) {
      __m512i in[16], out[16];
      for (int i = 0; i < 16; ++i) {
        // The rows usually come from DRAM (a model's weights exceed the
        // caches) as 16 streams, more than the hardware prefetcher follows:
        // ask for each row's bytes a few lines ahead.
        if (2 * k + kPrefetchValues < a.cols) {
          _mm_prefetch(reinterpret_cast<const char*>(rows[i] + (2 * k + kPrefetchValues) * 2), _MM_HINT_T0);
        }
        in[i] = LoadPairs(a, rows[i], 2 * k);
      }
      Transpose16(in, out);
      for (int j = 0; j < 16; ++j) _mm512_store_si512(panel + (k + j) * kPanelRows + h * 16, out[j]);
    }
  }
}

template <int NT>
void Tile(const Bf16Args& a, const uint32_t* panel, int64_t r0, int n, int64_t t0) {
  // Fully unrolled (also at -O2), so that the accumulators live in registers.
  __m512 acc[2][NT];
#pragma GCC unroll 16
  for (int t = 0; t < NT; ++t) acc[0][t] = acc[1][t] = _mm512_setzero_ps();
  const int64_t pairs = Pairs(a.cols);
  const uint32_t* x = reinterpret_cast<const uint32_t*>(a.acts) + t0 * (a.stride / 2);
  const int64_t xs = a.stride / 2;  // pairs per activation row
  for (int64_t k = 0; k < pairs; ++k) {
    const __m512bh w0 = reinterpret_cast<__m512bh>(_mm512_load_si512(panel + k * kPanelRows));
    const __m512bh w1 = reinterpret_cast<__m512bh>(_mm512_load_si512(panel + k * kPanelRows + 16));
#pragma GCC unroll 16
    for (int t = 0; t < NT; ++t) {
      const __m512bh xb = reinterpret_cast<__m512bh>(_mm512_set1_epi32(static_cast<int32_t>(x[t * xs + k])));
      acc[0][t] = _mm512_dpbf16_ps(acc[0][t], w0, xb);
      acc[1][t] = _mm512_dpbf16_ps(acc[1][t], w1, xb);
    }
  }
  const __mmask16 m0 = n >= 16 ? 0xFFFF : static_cast<__mmask16>((1u << n) - 1);
  const __mmask16 m1 = n >= 32 ? 0xFFFF : n <= 16 ? 0 : static_cast<__mmask16>((1u << (n - 16)) - 1);
#pragma GCC unroll 16
  for (int t = 0; t < NT; ++t) {
    float* y = a.y + (t0 + t) * a.rows + r0;
    _mm512_mask_storeu_ps(y, m0, acc[0][t]);
    _mm512_mask_storeu_ps(y + 16, m1, acc[1][t]);
  }
}

void Tokens(const Bf16Args& a, const uint32_t* panel, int64_t r0, int n, int64_t tb, int64_t te) {
  int64_t t = tb;
  for (; t + kMaxTokens <= te; t += kMaxTokens) Tile<kMaxTokens>(a, panel, r0, n, t);
  switch (te - t) {
    case 11: Tile<11>(a, panel, r0, n, t); break;
    case 10: Tile<10>(a, panel, r0, n, t); break;
    case 9: Tile<9>(a, panel, r0, n, t); break;
    case 8: Tile<8>(a, panel, r0, n, t); break;
    case 7: Tile<7>(a, panel, r0, n, t); break;
    case 6: Tile<6>(a, panel, r0, n, t); break;
    case 5: Tile<5>(a, panel, r0, n, t); break;
    case 4: Tile<4>(a, panel, r0, n, t); break;
    case 3: Tile<3>(a, panel, r0, n, t); break;
    case 2: Tile<2>(a, panel, r0, n, t); break;
    case 1: Tile<1>(a, panel, r0, n, t); break;
    default: break;
  }
}

}  // namespace

int64_t ActStride(int64_t cols) { return (cols + 31) / 32 * 32; }

void ConvertActs(const float* x, int64_t cols, int64_t t_begin, int64_t t_end, uint16_t* out) {
  const int64_t stride = ActStride(cols);
  for (int64_t t = t_begin; t < t_end; ++t) {
    const float* src = x + t * cols;
    uint16_t* dst = out + t * stride;
    for (int64_t c = 0; c < stride; c += 32) {
      const int64_t n = cols - c;
      const __mmask16 m0 = n >= 16 ? 0xFFFF : n <= 0 ? 0 : static_cast<__mmask16>((1u << n) - 1);
      const __mmask16 m1 = n >= 32 ? 0xFFFF : n <= 16 ? 0 : static_cast<__mmask16>((1u << (n - 16)) - 1);
      const __m512 lo = _mm512_maskz_loadu_ps(m0, src + c);
      const __m512 hi = _mm512_maskz_loadu_ps(m1, src + c + 16);
      _mm512_store_si512(dst + c, ToBf16(lo, hi));
    }
  }
}

size_t ScratchBytes(int64_t cols) {
  return static_cast<size_t>((Pairs(cols) + 15) / 16 * 16) * kPanelRows * sizeof(uint32_t);
}

int64_t RowTile() { return kPanelRows; }

void MatMulRows(const Bf16Args& a, int64_t r_begin, int64_t r_end, uint8_t* scratch) {
  auto* panel = reinterpret_cast<uint32_t*>(scratch);
  for (int64_t tb = 0; tb < a.n_tokens; tb += kTokenBlock) {
    const int64_t te = tb + kTokenBlock < a.n_tokens ? tb + kTokenBlock : a.n_tokens;
    for (int64_t r0 = r_begin; r0 < r_end; r0 += kPanelRows) {
      const int n = static_cast<int>(r_end - r0 < kPanelRows ? r_end - r0 : kPanelRows);
      BuildPanel(a, r0, n, panel);
      Tokens(a, panel, r0, n, tb, te);
    }
  }
}

}  // namespace jarvis::kernels_internal::avx512bf16
