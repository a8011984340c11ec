// Element-wise and per-row kernels of the llama layer graph on the GPU:
// RMSNorm, bias / residual adds, SwiGLU, RoPE, the paged KV store and argmax.
// Each mirrors its CPU oracle in kernels/cpu/ops.h / attention.h.
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include "kernels/cuda/launchers.h"
#include "kernels/cuda/reduce.cuh"

namespace jarvis::cuda {
namespace {

constexpr int kThreads = 256;

unsigned BlocksFor(int64_t n) { return static_cast<unsigned>((n + kThreads - 1) / kThreads); }

// One block per output row: sum of squares (block reduction), then scale.
__global__ void RmsNormKernel(const float* __restrict__ x, const float* __restrict__ weight, int64_t n, float eps,
                              const int32_t* __restrict__ row_map, float* out) {
  const int64_t i = blockIdx.x;
  const int64_t src = row_map != nullptr ? row_map[i] : i;
  const float* xr = x + src * n;
  float sum_sq = 0.0f;
  for (int64_t c = threadIdx.x; c < n; c += blockDim.x) sum_sq += xr[c] * xr[c];
  sum_sq = BlockSum(sum_sq);
  const float scale = rsqrtf(sum_sq / static_cast<float>(n) + eps);
  float* o = out + i * n;
  for (int64_t c = threadIdx.x; c < n; c += blockDim.x) o[c] = xr[c] * scale * weight[c];
}

__global__ void AddBiasKernel(float* x, const float* __restrict__ bias, int64_t n, int64_t total) {
  const int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i < total) x[i] += bias[i % n];
}

__global__ void AddKernel(float* x, const float* __restrict__ y, int64_t n) {
  const int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i < n) x[i] += y[i];
}

__global__ void SiluMulKernel(float* x, const float* __restrict__ y, int64_t n) {
  const int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i < n) x[i] = x[i] / (1.0f + expf(-x[i])) * y[i];
}

__global__ void GeluTanhMulKernel(float* x, const float* __restrict__ y, int64_t n) {
  const int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i >= n) return;
  const float v = x[i];
  x[i] = 0.5f * v * (1.0f + tanhf(0.7978845608028654f * (v + 0.044715f * v * v * v))) * y[i];
}

__global__ void SoftcapKernel(float* x, int64_t n, float cap) {
  const int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i < n) x[i] = cap * tanhf(x[i] / cap);
}

__global__ void ScaleKernel(float* x, int64_t n, float s) {
  const int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i < n) x[i] *= s;
}

// One thread per (token, head, rotated pair).
__global__ void RopeKernel(float* x, int32_t n_tokens, int32_t n_heads, int32_t head_dim,
                           const int32_t* __restrict__ positions, RopeArgs args) {
  const int32_t half = args.n_rot / 2;
  const int64_t item = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (item >= static_cast<int64_t>(n_tokens) * n_heads * half) return;
  const auto i = static_cast<int32_t>(item % half);
  const auto h = static_cast<int32_t>((item / half) % n_heads);
  const auto t = static_cast<int32_t>(item / (static_cast<int64_t>(half) * n_heads));
  const float position = static_cast<float>(positions[t]) * args.freq_scale;
  const float freq = 1.0f / powf(args.freq_base, static_cast<float>(2 * i) / static_cast<float>(args.n_rot));
  float theta = position * freq;
  if (args.freq_factors != nullptr) theta /= args.freq_factors[i];
  float s = 0.0f;
  float c = 0.0f;
  sincosf(theta, &s, &c);
  s *= args.attn_factor;
  c *= args.attn_factor;
  float* v = x + (static_cast<int64_t>(t) * n_heads + h) * head_dim;
  const int32_t a = args.neox ? i : 2 * i;
  const int32_t b = args.neox ? i + half : 2 * i + 1;
  const float x0 = v[a];
  const float x1 = v[b];
  v[a] = x0 * c - x1 * s;
  v[b] = x0 * s + x1 * c;
}

// grid.x = token; threads stride over the row's elements, K then V.
__global__ void StoreKvKernel(const float* __restrict__ k, const float* __restrict__ v, int64_t n,
                              const int32_t* __restrict__ positions, PagedKv kv) {
  const int32_t t = static_cast<int32_t>(blockIdx.x);
  const int32_t pos = positions[t];
  const int32_t block = kv.tables[kv.table_offsets[t] + pos / kv.block_size];
  uint8_t* base = kv.pool + static_cast<size_t>(block) * kv.block_bytes +
                  static_cast<size_t>(pos % kv.block_size) * kv.row_bytes;
  const float* kt = k + static_cast<int64_t>(t) * n;
  const float* vt = v + static_cast<int64_t>(t) * n;
  for (int64_t c = threadIdx.x; c < n; c += blockDim.x) {
    if (kv.f16) {
      reinterpret_cast<__half*>(base + kv.k_offset)[c] = __float2half_rn(kt[c]);
      reinterpret_cast<__half*>(base + kv.v_offset)[c] = __float2half_rn(vt[c]);
    } else {
      reinterpret_cast<float*>(base + kv.k_offset)[c] = kt[c];
      reinterpret_cast<float*>(base + kv.v_offset)[c] = vt[c];
    }
  }
}

// One block per row; ties go to the lower index (as std::max_element).
__global__ void ArgMaxKernel(const float* __restrict__ x, int64_t n, int32_t* out) {
  const float* row = x + static_cast<int64_t>(blockIdx.x) * n;
  float best = -INFINITY;
  int64_t best_i = n;  // "none yet": loses every comparison
  for (int64_t i = threadIdx.x; i < n; i += blockDim.x) {
    if (row[i] > best || best_i == n) {
      best = row[i];
      best_i = i;
    }
  }
  BlockArgMax(&best, &best_i);
  if (threadIdx.x == 0) out[blockIdx.x] = static_cast<int32_t>(best_i);
}

}  // namespace

void RmsNorm(const float* x, const float* weight, int64_t n, float eps, const int32_t* row_map, int32_t n_rows,
             float* out, Stream stream) {
  if (n_rows <= 0) return;
  RmsNormKernel<<<n_rows, kThreads, 0, static_cast<cudaStream_t>(stream)>>>(x, weight, n, eps, row_map, out);
}

void AddBias(float* x, const float* bias, int64_t n, int32_t n_rows, Stream stream) {
  const int64_t total = n * n_rows;
  if (total <= 0) return;
  AddBiasKernel<<<BlocksFor(total), kThreads, 0, static_cast<cudaStream_t>(stream)>>>(x, bias, n, total);
}

void Add(float* x, const float* y, int64_t n, Stream stream) {
  if (n <= 0) return;
  AddKernel<<<BlocksFor(n), kThreads, 0, static_cast<cudaStream_t>(stream)>>>(x, y, n);
}

void SiluMul(float* x, const float* y, int64_t n, Stream stream) {
  if (n <= 0) return;
  SiluMulKernel<<<BlocksFor(n), kThreads, 0, static_cast<cudaStream_t>(stream)>>>(x, y, n);
}

void GeluTanhMul(float* x, const float* y, int64_t n, Stream stream) {
  if (n <= 0) return;
  GeluTanhMulKernel<<<BlocksFor(n), kThreads, 0, static_cast<cudaStream_t>(stream)>>>(x, y, n);
}

void Softcap(float* x, int64_t n, float cap, Stream stream) {
  if (n <= 0 || !(cap > 0.0f)) return;
  SoftcapKernel<<<BlocksFor(n), kThreads, 0, static_cast<cudaStream_t>(stream)>>>(x, n, cap);
}

void Scale(float* x, int64_t n, float s, Stream stream) {
  if (n <= 0) return;
  ScaleKernel<<<BlocksFor(n), kThreads, 0, static_cast<cudaStream_t>(stream)>>>(x, n, s);
}

void Rope(float* x, int32_t n_tokens, int32_t n_heads, int32_t head_dim, const int32_t* positions,
          const RopeArgs& args, Stream stream) {
  const int64_t items = static_cast<int64_t>(n_tokens) * n_heads * (args.n_rot / 2);
  if (items <= 0) return;
  RopeKernel<<<BlocksFor(items), kThreads, 0, static_cast<cudaStream_t>(stream)>>>(x, n_tokens, n_heads, head_dim,
                                                                                    positions, args);
}

void StoreKv(const float* k, const float* v, int64_t n_embd_kv, int32_t n_tokens, const int32_t* positions,
             const PagedKv& kv, Stream stream) {
  if (n_tokens <= 0) return;
  StoreKvKernel<<<n_tokens, kThreads, 0, static_cast<cudaStream_t>(stream)>>>(k, v, n_embd_kv, positions, kv);
}

void ArgMax(const float* x, int32_t n_rows, int64_t n, int32_t* out, Stream stream) {
  if (n_rows <= 0 || n <= 0) return;
  ArgMaxKernel<<<n_rows, kThreads, 0, static_cast<cudaStream_t>(stream)>>>(x, n, out);
}

}  // namespace jarvis::cuda
