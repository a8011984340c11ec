// Attention over the paged KV cache on the GPU, split-K ("flash decoding"):
//
//   1. SplitKernel, grid (split, head, token): the block takes positions
//      [split * S, min((split + 1) * S, n_pos)) of its token's sequence
//      (S = kAttentionSplit), computes their scores q.k * scale (one warp per
//      position), their max m, l = sum exp(score - m) and the unnormalized
//      o[d] = sum exp(score - m) v[d]; it writes (m, l, o) to scratch.
//   2. CombineKernel, grid (head, token): merges the splits of one head,
//      out[d] = sum_s e^(m_s - M) o_s[d] / sum_s e^(m_s - M) l_s, M = max m_s.
// A short context is one split. The oracle is kernels/cpu/attention.h's
// AttentionHead (softmax over positions 0..pos, then the weighted V sum).
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include "kernels/cuda/launchers.h"
#include "kernels/cuda/reduce.cuh"

namespace jarvis::cuda {
namespace {

constexpr int kThreads = 128;

__device__ inline const uint8_t* KvRow(const PagedKv& kv, int32_t t, int32_t pos, size_t offset) {
  const int32_t block = kv.tables[kv.table_offsets[t] + pos / kv.block_size];
  return kv.pool + static_cast<size_t>(block) * kv.block_bytes + offset +
         static_cast<size_t>(pos % kv.block_size) * kv.row_bytes;
}

__device__ inline float KvValue(const uint8_t* row, int64_t i, bool f16) {
  return f16 ? __half2float(reinterpret_cast<const __half*>(row)[i]) : reinterpret_cast<const float*>(row)[i];
}

// Scratch record of (token, head, split): [m, l, o[0..head_dim)].
__device__ inline float* Partial(float* scratch, int32_t t, int32_t h, int32_t split, int32_t n_head,
                                 int32_t n_splits, int32_t head_dim) {
  const int64_t index = (static_cast<int64_t>(t) * n_head + h) * n_splits + split;
  return scratch + index * (head_dim + 2);
}

// First position a token attends to: 0, or the start of its window.
__device__ inline int32_t FirstPos(int32_t pos, int32_t window) { return window > 0 ? max(0, pos - window + 1) : 0; }

__global__ void SplitKernel(const float* __restrict__ q, PagedKv kv, const int32_t* __restrict__ positions,
                            int32_t n_head, int32_t group, int32_t head_dim, AttentionOptions opt, float* scratch) {
  extern __shared__ float smem[];  // q_head[head_dim], scores[kAttentionSplit]
  float* q_head = smem;
  float* scores = smem + head_dim;
  const auto split = static_cast<int32_t>(blockIdx.x);
  const auto h = static_cast<int32_t>(blockIdx.y);
  const auto t = static_cast<int32_t>(blockIdx.z);
  const int tid = static_cast<int>(threadIdx.x);
  const int32_t n_pos = positions[t] + 1;
  const int32_t p0 = FirstPos(positions[t], opt.window) + split * kAttentionSplit;
  const int32_t len = min(kAttentionSplit, n_pos - p0);
  float* part = Partial(scratch, t, h, split, n_head, static_cast<int32_t>(gridDim.x), head_dim);
  if (len <= 0) return;  // past this token's context: the combine step skips it

  const int64_t head_offset = static_cast<int64_t>(h / group) * head_dim;
  const float* qt = q + (static_cast<int64_t>(t) * n_head + h) * head_dim;
  for (int d = tid; d < head_dim; d += blockDim.x) q_head[d] = qt[d];
  __syncthreads();

  const int lane = tid % 32;
  const int warp = tid / 32;
  const int n_warps = static_cast<int>(blockDim.x) / 32;
  for (int32_t j = warp; j < len; j += n_warps) {
    const uint8_t* krow = KvRow(kv, t, p0 + j, kv.k_offset);
    float dot = 0.0f;
    for (int d = lane; d < head_dim; d += 32) dot += q_head[d] * KvValue(krow, head_offset + d, kv.f16);
    dot = WarpSum(dot);
    if (lane == 0) {
      const float s = dot * opt.scale;
      scores[j] = opt.softcap > 0.0f ? opt.softcap * tanhf(s / opt.softcap) : s;
    }
  }
  __syncthreads();

  float m = -INFINITY;
  for (int32_t j = tid; j < len; j += blockDim.x) m = fmaxf(m, scores[j]);
  m = BlockMax(m);
  float l = 0.0f;
  for (int32_t j = tid; j < len; j += blockDim.x) {
    const float e = expf(scores[j] - m);
    scores[j] = e;
    l += e;
  }
  l = BlockSum(l);  // its __syncthreads also publishes the exp'd scores

  for (int d = tid; d < head_dim; d += blockDim.x) {
    float acc = 0.0f;
    for (int32_t j = 0; j < len; ++j) {
      acc += scores[j] * KvValue(KvRow(kv, t, p0 + j, kv.v_offset), head_offset + d, kv.f16);
    }
    part[2 + d] = acc;
  }
  if (tid == 0) {
    part[0] = m;
    part[1] = l;
  }
}

__global__ void CombineKernel(const int32_t* __restrict__ positions, int32_t n_head, int32_t head_dim,
                              int32_t window, int32_t n_splits, float* scratch, float* out) {
  const auto h = static_cast<int32_t>(blockIdx.x);
  const auto t = static_cast<int32_t>(blockIdx.y);
  const int32_t n_pos = positions[t] + 1 - FirstPos(positions[t], window);
  const int32_t used = (n_pos + kAttentionSplit - 1) / kAttentionSplit;
  float big_m = -INFINITY;
  for (int32_t s = 0; s < used; ++s) big_m = fmaxf(big_m, Partial(scratch, t, h, s, n_head, n_splits, head_dim)[0]);
  float big_l = 0.0f;
  for (int32_t s = 0; s < used; ++s) {
    const float* part = Partial(scratch, t, h, s, n_head, n_splits, head_dim);
    big_l += expf(part[0] - big_m) * part[1];
  }
  const float inv_l = 1.0f / big_l;
  float* o = out + (static_cast<int64_t>(t) * n_head + h) * head_dim;
  for (int d = static_cast<int>(threadIdx.x); d < head_dim; d += blockDim.x) {
    float acc = 0.0f;
    for (int32_t s = 0; s < used; ++s) {
      const float* part = Partial(scratch, t, h, s, n_head, n_splits, head_dim);
      acc += expf(part[0] - big_m) * part[2 + d];
    }
    o[d] = acc * inv_l;
  }
}

int32_t SplitsFor(int32_t max_n_pos) { return (max_n_pos + kAttentionSplit - 1) / kAttentionSplit; }

}  // namespace

size_t AttentionScratchFloats(int32_t n_tokens, int32_t n_head, int32_t head_dim, int32_t max_n_pos) {
  return static_cast<size_t>(n_tokens) * static_cast<size_t>(n_head) * static_cast<size_t>(SplitsFor(max_n_pos)) *
         static_cast<size_t>(head_dim + 2);
}

void Attention(const float* q, const PagedKv& kv, const int32_t* positions, int32_t n_tokens, int32_t n_head,
               int32_t n_head_kv, int32_t head_dim, const AttentionOptions& options, int32_t max_n_pos,
               float* scratch, float* out, Stream stream) {
  if (n_tokens <= 0 || n_head <= 0 || max_n_pos <= 0) return;
  auto s = static_cast<cudaStream_t>(stream);
  const int32_t n_splits = SplitsFor(max_n_pos);
  const dim3 grid(static_cast<unsigned>(n_splits), static_cast<unsigned>(n_head), static_cast<unsigned>(n_tokens));
  const size_t smem = static_cast<size_t>(head_dim + kAttentionSplit) * sizeof(float);
  SplitKernel<<<grid, kThreads, smem, s>>>(q, kv, positions, n_head, n_head / n_head_kv, head_dim, options, scratch);
  const dim3 combine_grid(static_cast<unsigned>(n_head), static_cast<unsigned>(n_tokens));
  CombineKernel<<<combine_grid, kThreads, 0, s>>>(positions, n_head, head_dim, options.window, n_splits, scratch,
                                                  out);
}

}  // namespace jarvis::cuda
