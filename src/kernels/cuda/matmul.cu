// Matrix products of GGUF weight rows with F32 activations on the GPU.
//
// Two kernels, both templated on the weight type and both decoding weights
// with block_decode.h's DecodeChunk (32 values at a time):
//   - MatVecKernel (n_tokens <= kMatVecMaxTokens, decode): one warp per weight
//     row; lane l takes chunks l, l + 32, ... of the row, dots each with every
//     token's activations, then the warp sums its lanes. The row is read once
//     for all tokens.
//   - TiledKernel (prefill, batched decode): a 256-thread block computes a
//     64-row x 64-token tile of y; per 32-value step, 64 threads decode one
//     weight chunk each into shared memory, all threads stage the activations,
//     then each thread accumulates a 4x4 sub-tile in F32.
// Written for clarity first (no tensor cores yet).
#include <cuda_runtime.h>

#include <cstdlib>

#include "kernels/cuda/block_decode.h"
#include "kernels/cuda/launchers.h"

namespace jarvis::cuda {
namespace {

constexpr int kWarp = 32;
constexpr int kVecWarpsPerBlock = 4;

template <GgmlType T>
__global__ void MatVecKernel(const uint8_t* __restrict__ w, int64_t rows, int64_t cols, size_t row_bytes,
                             const float* __restrict__ x, int32_t n_tokens, float* __restrict__ y) {
  const int lane = static_cast<int>(threadIdx.x) % kWarp;
  const int64_t r = static_cast<int64_t>(blockIdx.x) * kVecWarpsPerBlock + threadIdx.x / kWarp;
  if (r >= rows) return;  // the whole warp leaves together
  const uint8_t* row = w + r * static_cast<int64_t>(row_bytes);
  const int64_t n_chunks = (cols + 31) / 32;
  float acc[kMatVecMaxTokens] = {};
  for (int64_t c = lane; c < n_chunks; c += kWarp) {
    float v[32];
    const int n_valid = static_cast<int>(min(static_cast<int64_t>(32), cols - 32 * c));
    DecodeChunk<T>(row, c, n_valid, v);
#pragma unroll
    for (int t = 0; t < kMatVecMaxTokens; ++t) {
      if (t < n_tokens) {
        const float* xt = x + t * cols + 32 * c;
        float sum = 0.0f;
#pragma unroll
        for (int i = 0; i < 32; ++i) {
          if (i < n_valid) sum += v[i] * xt[i];
        }
        acc[t] += sum;
      }
    }
  }
#pragma unroll
  for (int t = 0; t < kMatVecMaxTokens; ++t) {
    float sum = acc[t];
    for (int offset = kWarp / 2; offset > 0; offset /= 2) sum += __shfl_down_sync(0xffffffffu, sum, offset);
    if (lane == 0 && t < n_tokens) y[t * rows + r] = sum;
  }
}

constexpr int kTileRows = 64;
constexpr int kTileTokens = 64;
constexpr int kTileThreads = 256;  // 16 x 16 threads, 4 x 4 outputs each

template <GgmlType T>
__global__ void TiledKernel(const uint8_t* __restrict__ w, int64_t rows, int64_t cols, size_t row_bytes,
                            const float* __restrict__ x, int32_t n_tokens, float* __restrict__ y) {
  __shared__ float ws[kTileRows][33];    // +1: fewer bank conflicts
  __shared__ float xs[kTileTokens][33];
  const int tid = static_cast<int>(threadIdx.x);
  const int64_t row0 = static_cast<int64_t>(blockIdx.x) * kTileRows;
  const int64_t tok0 = static_cast<int64_t>(blockIdx.y) * kTileTokens;
  const int tr = tid / 16;  // rows 4*tr .. 4*tr+3 of the tile
  const int tc = tid % 16;  // tokens 4*tc .. 4*tc+3
  float acc[4][4] = {};
  const int64_t n_chunks = (cols + 31) / 32;
  for (int64_t c = 0; c < n_chunks; ++c) {
    const int n_valid = static_cast<int>(min(static_cast<int64_t>(32), cols - 32 * c));
    if (tid < kTileRows) {
      float v[32];
      const int64_t r = row0 + tid;
      if (r < rows) {
        DecodeChunk<T>(w + r * static_cast<int64_t>(row_bytes), c, n_valid, v);
      } else {
#pragma unroll
        for (int i = 0; i < 32; ++i) v[i] = 0.0f;
      }
#pragma unroll
      for (int i = 0; i < 32; ++i) ws[tid][i] = v[i];
    }
    for (int e = tid; e < kTileTokens * 32; e += kTileThreads) {
      const int tok = e / 32;
      const int i = e % 32;
      const int64_t t = tok0 + tok;
      xs[tok][i] = (t < n_tokens && i < n_valid) ? x[t * cols + 32 * c + i] : 0.0f;
    }
    __syncthreads();
#pragma unroll 4
    for (int i = 0; i < 32; ++i) {
      float a[4];
      float b[4];
#pragma unroll
      for (int m = 0; m < 4; ++m) a[m] = ws[4 * tr + m][i];
#pragma unroll
      for (int n = 0; n < 4; ++n) b[n] = xs[4 * tc + n][i];
#pragma unroll
      for (int m = 0; m < 4; ++m) {
#pragma unroll
        for (int n = 0; n < 4; ++n) acc[m][n] += a[m] * b[n];
      }
    }
    __syncthreads();
  }
#pragma unroll
  for (int m = 0; m < 4; ++m) {
#pragma unroll
    for (int n = 0; n < 4; ++n) {
      const int64_t r = row0 + 4 * tr + m;
      const int64_t t = tok0 + 4 * tc + n;
      if (r < rows && t < n_tokens) y[t * rows + r] = acc[m][n];
    }
  }
}

template <GgmlType T>
void Launch(const uint8_t* w, int64_t rows, int64_t cols, size_t row_bytes, const float* x, int32_t n_tokens,
            float* y, cudaStream_t stream) {
  if (rows <= 0 || n_tokens <= 0) return;
  if (n_tokens <= kMatVecMaxTokens) {
    const auto blocks = static_cast<unsigned>((rows + kVecWarpsPerBlock - 1) / kVecWarpsPerBlock);
    MatVecKernel<T><<<blocks, kVecWarpsPerBlock * kWarp, 0, stream>>>(w, rows, cols, row_bytes, x, n_tokens, y);
    return;
  }
  const dim3 grid(static_cast<unsigned>((rows + kTileRows - 1) / kTileRows),
                  static_cast<unsigned>((n_tokens + kTileTokens - 1) / kTileTokens));
  TiledKernel<T><<<grid, kTileThreads, 0, stream>>>(w, rows, cols, row_bytes, x, n_tokens, y);
}

}  // namespace

// The types with a case in MatMul below. nvcc compiles this file as C++17,
// so it cannot see the registry (quant/quant_types.h); its `cuda` flag is
// checked against this list by gpu/cuda_types_test.cpp instead.
bool HasMatMulKernel(GgmlType type) {
  switch (type) {
    case GgmlType::kF32:
    case GgmlType::kF16:
    case GgmlType::kBF16:
    case GgmlType::kQ4_0:
    case GgmlType::kQ4_1:
    case GgmlType::kQ5_0:
    case GgmlType::kQ5_1:
    case GgmlType::kQ8_0:
    case GgmlType::kQ4_K:
    case GgmlType::kQ5_K:
    case GgmlType::kQ6_K:
      return true;
    default:
      return false;
  }
}

void MatMul(GgmlType type, const uint8_t* w, int64_t rows, int64_t cols, size_t row_bytes, const float* x,
            int32_t n_tokens, float* y, Stream stream) {
  auto s = static_cast<cudaStream_t>(stream);
  switch (type) {
    case GgmlType::kF32: return Launch<GgmlType::kF32>(w, rows, cols, row_bytes, x, n_tokens, y, s);
    case GgmlType::kF16: return Launch<GgmlType::kF16>(w, rows, cols, row_bytes, x, n_tokens, y, s);
    case GgmlType::kBF16: return Launch<GgmlType::kBF16>(w, rows, cols, row_bytes, x, n_tokens, y, s);
    case GgmlType::kQ4_0: return Launch<GgmlType::kQ4_0>(w, rows, cols, row_bytes, x, n_tokens, y, s);
    case GgmlType::kQ4_1: return Launch<GgmlType::kQ4_1>(w, rows, cols, row_bytes, x, n_tokens, y, s);
    case GgmlType::kQ5_0: return Launch<GgmlType::kQ5_0>(w, rows, cols, row_bytes, x, n_tokens, y, s);
    case GgmlType::kQ5_1: return Launch<GgmlType::kQ5_1>(w, rows, cols, row_bytes, x, n_tokens, y, s);
    case GgmlType::kQ8_0: return Launch<GgmlType::kQ8_0>(w, rows, cols, row_bytes, x, n_tokens, y, s);
    case GgmlType::kQ4_K: return Launch<GgmlType::kQ4_K>(w, rows, cols, row_bytes, x, n_tokens, y, s);
    case GgmlType::kQ5_K: return Launch<GgmlType::kQ5_K>(w, rows, cols, row_bytes, x, n_tokens, y, s);
    case GgmlType::kQ6_K: return Launch<GgmlType::kQ6_K>(w, rows, cols, row_bytes, x, n_tokens, y, s);
    default: std::abort();  // excluded by HasMatMulKernel: never skip y silently
  }
}

}  // namespace jarvis::cuda
