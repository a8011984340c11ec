// Warp and block reductions shared by the CUDA kernels. REQUIRES: blockDim.x
// is a multiple of 32 (at most 1024) and every thread of the block calls the
// block functions (they contain __syncthreads).
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

namespace jarvis::cuda {

__device__ inline float WarpSum(float v) {
  for (int offset = 16; offset > 0; offset /= 2) v += __shfl_xor_sync(0xffffffffu, v, offset);
  return v;
}

__device__ inline float WarpMax(float v) {
  for (int offset = 16; offset > 0; offset /= 2) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, offset));
  return v;
}

// The sum of `v` over the block, returned to every thread.
__device__ inline float BlockSum(float v) {
  __shared__ float partial[32];
  const int lane = static_cast<int>(threadIdx.x) % 32;
  const int warp = static_cast<int>(threadIdx.x) / 32;
  const int n_warps = static_cast<int>(blockDim.x) / 32;
  v = WarpSum(v);
  __syncthreads();  // `partial` may still be read by a previous call
  if (lane == 0) partial[warp] = v;
  __syncthreads();
  v = lane < n_warps ? partial[lane] : 0.0f;
  return WarpSum(v);
}

// The block's max of `v`, returned to every thread.
__device__ inline float BlockMax(float v) {
  __shared__ float partial[32];
  const int lane = static_cast<int>(threadIdx.x) % 32;
  const int warp = static_cast<int>(threadIdx.x) / 32;
  const int n_warps = static_cast<int>(blockDim.x) / 32;
  v = WarpMax(v);
  __syncthreads();
  if (lane == 0) partial[warp] = v;
  __syncthreads();
  v = lane < n_warps ? partial[lane] : -INFINITY;
  return WarpMax(v);
}

// (value, index) pairs: the larger value wins, the lower index on ties.
__device__ inline void ArgMaxMerge(float* value, int64_t* index, float other_value, int64_t other_index) {
  if (other_value > *value || (other_value == *value && other_index < *index)) {
    *value = other_value;
    *index = other_index;
  }
}

// The block's best (value, index), left in thread 0's *value / *index.
__device__ inline void BlockArgMax(float* value, int64_t* index) {
  __shared__ float values[32];
  __shared__ int64_t indices[32];
  const int lane = static_cast<int>(threadIdx.x) % 32;
  const int warp = static_cast<int>(threadIdx.x) / 32;
  const int n_warps = static_cast<int>(blockDim.x) / 32;
  for (int offset = 16; offset > 0; offset /= 2) {
    const float v = __shfl_xor_sync(0xffffffffu, *value, offset);
    const auto i = static_cast<int64_t>(__shfl_xor_sync(0xffffffffu, static_cast<long long>(*index), offset));
    ArgMaxMerge(value, index, v, i);
  }
  __syncthreads();
  if (lane == 0) {
    values[warp] = *value;
    indices[warp] = *index;
  }
  __syncthreads();
  if (threadIdx.x == 0) {
    for (int w = 1; w < n_warps; ++w) ArgMaxMerge(value, index, values[w], indices[w]);
  }
}

}  // namespace jarvis::cuda
