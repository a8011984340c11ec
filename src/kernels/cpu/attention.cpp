#include "kernels/cpu/attention.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>

#include "kernels/cpu/isa.h"
#include "kernels/cpu/ops.h"
#include "kernels/cpu/ops_isa.h"
#include "quant/fp16.h"

namespace jarvis {
namespace {

// Element `i` of cached row `row` as F32.
inline float KvAt(const uint8_t* row, int64_t i, bool f16) {
  if (f16) {
    uint16_t h;
    std::memcpy(&h, row + i * 2, 2);
    return Fp16ToFp32(h);
  }
  float f;
  std::memcpy(&f, row + i * 4, 4);
  return f;
}

void SoftmaxScalar(float* x, int64_t n) {
  float max = x[0];
  for (int64_t i = 1; i < n; ++i) max = std::max(max, x[i]);  // subtract the max: exp cannot overflow
  float sum = 0.0f;
  for (int64_t i = 0; i < n; ++i) {
    x[i] = std::exp(x[i] - max);
    sum += x[i];
  }
  const float inv = 1.0f / sum;
  for (int64_t i = 0; i < n; ++i) x[i] *= inv;
}

void AttentionHeadScalar(const float* q, const KvRows& k, const KvRows& v, int32_t kv_head, int32_t head_dim,
                         int32_t n_pos, float scale, float softcap, float* scores, float* out) {
  const int64_t head_offset = static_cast<int64_t>(kv_head) * head_dim;
  for (int32_t p = 0; p < n_pos; ++p) {
    const uint8_t* krow = k.row(p);
    float dot = 0.0f;
    for (int32_t d = 0; d < head_dim; ++d) dot += q[d] * KvAt(krow, head_offset + d, k.f16);
    scores[p] = dot * scale;
  }
  if (softcap > 0.0f) SoftcapInPlace(scores, n_pos, softcap);
  SoftmaxScalar(scores, n_pos);
  for (int32_t d = 0; d < head_dim; ++d) out[d] = 0.0f;
  for (int32_t p = 0; p < n_pos; ++p) {
    const uint8_t* vrow = v.row(p);
    const float w = scores[p];
    for (int32_t d = 0; d < head_dim; ++d) out[d] += w * KvAt(vrow, head_offset + d, v.f16);
  }
}

}  // namespace

void AttentionGroup(const float* q, int32_t n_heads, const KvRows& k, const KvRows& v, int32_t kv_head,
                    int32_t head_dim, int32_t n_pos, float scale, float* scores, float* out, float softcap) {
  switch (ActiveKernelIsa()) {
    case KernelIsa::kAvx512:
    case KernelIsa::kAmx:
      return kernels_internal::avx512::AttentionGroup(q, n_heads, k, v, kv_head, head_dim, n_pos, scale, scores, out,
                                                      softcap);
    case KernelIsa::kAvx2:
      return kernels_internal::avx2::AttentionGroup(q, n_heads, k, v, kv_head, head_dim, n_pos, scale, scores, out,
                                                    softcap);
    case KernelIsa::kScalar:
      break;
  }
  for (int32_t h = 0; h < n_heads; ++h) {
    AttentionHeadScalar(q + static_cast<int64_t>(h) * head_dim, k, v, kv_head, head_dim, n_pos, scale, softcap,
                        scores + static_cast<int64_t>(h) * n_pos, out + static_cast<int64_t>(h) * head_dim);
  }
}

void AttentionHead(const float* q, const KvRows& k, const KvRows& v, int32_t kv_head, int32_t head_dim,
                   int32_t n_pos, float scale, float* scores, float* out, float softcap) {
  AttentionGroup(q, 1, k, v, kv_head, head_dim, n_pos, scale, scores, out, softcap);
}

void AttentionDense(const float* q, int64_t q_stride, const float* k, const float* v, int64_t kv_stride, int32_t n,
                    int32_t head_dim, float scale, float softcap, float* kt, float* scores, float* out,
                    int64_t out_stride) {
  switch (ActiveKernelIsa()) {
    case KernelIsa::kAvx512:
    case KernelIsa::kAmx:
      return kernels_internal::avx512::AttentionDense(q, q_stride, k, v, kv_stride, n, head_dim, scale, softcap, kt,
                                                      scores, out, out_stride);
    case KernelIsa::kAvx2:
      return kernels_internal::avx2::AttentionDense(q, q_stride, k, v, kv_stride, n, head_dim, scale, softcap, kt,
                                                    scores, out, out_stride);
    case KernelIsa::kScalar:
      break;
  }
  (void)kt;  // the scalar path reads K in place
  for (int32_t i = 0; i < n; ++i) {
    const float* qi = q + i * q_stride;
    for (int32_t j = 0; j < n; ++j) {
      float dot = 0.0f;
      for (int32_t d = 0; d < head_dim; ++d) dot += qi[d] * k[j * kv_stride + d];
      scores[j] = dot * scale;
    }
    if (softcap > 0.0f) SoftcapInPlace(scores, n, softcap);
    SoftmaxScalar(scores, n);
    float* oi = out + i * out_stride;
    for (int32_t d = 0; d < head_dim; ++d) oi[d] = 0.0f;
    for (int32_t j = 0; j < n; ++j) {
      for (int32_t d = 0; d < head_dim; ++d) oi[d] += scores[j] * v[j * kv_stride + d];
    }
  }
}

void SoftcapInPlace(float* s, int64_t n, float cap) {
  const float inv = 1.0f / cap;
  for (int64_t i = 0; i < n; ++i) s[i] = cap * std::tanh(s[i] * inv);
}

void StoreKvRow(const float* src, int64_t n, bool f16, uint8_t* dst) {
  if (!f16) {
    std::memcpy(dst, src, static_cast<size_t>(n) * sizeof(float));
    return;
  }
  // Both paths round to nearest even (F16C's conversion is IEEE), so the cache
  // holds the same bits whichever ISA wrote it.
  if (ActiveKernelIsa() != KernelIsa::kScalar && reinterpret_cast<uintptr_t>(dst) % 2 == 0) {
    auto* out = reinterpret_cast<uint16_t*>(dst);
    if (ActiveKernelIsa() != KernelIsa::kAvx2) return kernels_internal::avx512::StoreKvRowF16(src, n, out);
    return kernels_internal::avx2::StoreKvRowF16(src, n, out);
  }
  for (int64_t i = 0; i < n; ++i) {
    const uint16_t h = Fp32ToFp16(src[i]);
    std::memcpy(dst + i * 2, &h, 2);
  }
}

}  // namespace jarvis
