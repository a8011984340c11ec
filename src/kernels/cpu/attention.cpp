#include "kernels/cpu/attention.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <vector>

#include "kernels/cpu/isa.h"
#include "kernels/cpu/ops.h"
#include "kernels/cpu/ops_isa.h"
#include "quant/blocks.h"
#include "quant/fp16.h"
#include "quant/quantize.h"

namespace jarvis {
namespace {

// Element `i` of cached row `row` as F32 (a Q8_0 element d * q is exact in
// F32: an 11-bit significand times a 7-bit integer).
inline float KvAt(const uint8_t* row, int64_t i, KvType type) {
  switch (type) {
    case KvType::kF16: {
      uint16_t h;
      std::memcpy(&h, row + i * 2, 2);
      return Fp16ToFp32(h);
    }
    case KvType::kQ8_0: {
      BlockQ8_0 b;
      std::memcpy(&b, row + (i / kQK) * static_cast<int64_t>(sizeof(BlockQ8_0)), sizeof b);
      return Fp16ToFp32(b.d) * static_cast<float>(b.qs[i % kQK]);
    }
    case KvType::kF32:
      break;
  }
  float f;
  std::memcpy(&f, row + i * 4, 4);
  return f;
}

// In place: x = exp(x - max(x)); returns the sum, the max in *max_out.
float ExpMinusMaxScalar(float* x, int64_t n, float* max_out) {
  float max = x[0];
  for (int64_t i = 1; i < n; ++i) max = std::max(max, x[i]);  // subtract the max: exp cannot overflow
  float sum = 0.0f;
  for (int64_t i = 0; i < n; ++i) {
    x[i] = std::exp(x[i] - max);
    sum += x[i];
  }
  *max_out = max;
  return sum;
}

void SoftmaxScalar(float* x, int64_t n) {
  float max;
  const float inv = 1.0f / ExpMinusMaxScalar(x, n, &max);
  for (int64_t i = 0; i < n; ++i) x[i] *= inv;
}

void AttentionPartialScalar(const float* q, const KvRows& k, const KvRows& v, int32_t kv_head, int32_t head_dim,
                            int32_t p0, int32_t p1, float scale, float softcap, float* scores, float* m, float* l,
                            float* out) {
  const int64_t head_offset = static_cast<int64_t>(kv_head) * head_dim;
  const int32_t n = p1 - p0;
  for (int32_t i = 0; i < n; ++i) {
    const uint8_t* krow = k.row(p0 + i);
    float dot = 0.0f;
    for (int32_t d = 0; d < head_dim; ++d) dot += q[d] * KvAt(krow, head_offset + d, k.type);
    scores[i] = dot * scale;
  }
  if (softcap > 0.0f) SoftcapInPlace(scores, n, softcap);
  *l = ExpMinusMaxScalar(scores, n, m);
  for (int32_t d = 0; d < head_dim; ++d) out[d] = 0.0f;
  for (int32_t i = 0; i < n; ++i) {
    const uint8_t* vrow = v.row(p0 + i);
    const float w = scores[i];
    for (int32_t d = 0; d < head_dim; ++d) out[d] += w * KvAt(vrow, head_offset + d, v.type);
  }
}

// Scratch of AttentionGroup's running and chunk partials (per thread: the
// layer graph calls it from the pool's threads).
std::vector<float>& PartialScratch(size_t n) {
  thread_local std::vector<float> scratch;
  if (scratch.size() < n) scratch.resize(n);
  return scratch;
}

}  // namespace

void AttentionGroupPartial(const float* q, int32_t n_heads, const KvRows& k, const KvRows& v, int32_t kv_head,
                           int32_t head_dim, int32_t p0, int32_t p1, float scale, float softcap, float* scores,
                           float* m, float* l, float* o) {
  switch (ActiveKernelIsa()) {
    case KernelIsa::kAvx512:
    case KernelIsa::kAmx:
      return kernels_internal::avx512::AttentionGroupPartial(q, n_heads, k, v, kv_head, head_dim, p0, p1, scale,
                                                             softcap, scores, m, l, o);
    case KernelIsa::kAvx2:
      return kernels_internal::avx2::AttentionGroupPartial(q, n_heads, k, v, kv_head, head_dim, p0, p1, scale, softcap,
                                                           scores, m, l, o);
    case KernelIsa::kScalar:
      break;
  }
  const int64_t n = p1 - p0;
  for (int32_t h = 0; h < n_heads; ++h) {
    AttentionPartialScalar(q + static_cast<int64_t>(h) * head_dim, k, v, kv_head, head_dim, p0, p1, scale, softcap,
                           scores + h * n, m + h, l + h, o + static_cast<int64_t>(h) * head_dim);
  }
}

void MergeAttentionPartial(int32_t n_heads, int32_t head_dim, float* m, float* l, float* o, const float* m2,
                           const float* l2, const float* o2) {
  for (int32_t h = 0; h < n_heads; ++h) {
    const float mx = std::max(m[h], m2[h]);
    const float a = std::exp(m[h] - mx);  // 0 for an empty running partial (m = -inf)
    const float b = std::exp(m2[h] - mx);
    m[h] = mx;
    l[h] = l[h] * a + l2[h] * b;
    float* oh = o + static_cast<int64_t>(h) * head_dim;
    const float* o2h = o2 + static_cast<int64_t>(h) * head_dim;
    for (int32_t d = 0; d < head_dim; ++d) oh[d] = oh[d] * a + o2h[d] * b;
  }
}

void FinishAttention(int32_t n_heads, int32_t head_dim, const float* l, const float* o, float* out) {
  for (int32_t h = 0; h < n_heads; ++h) {
    const float inv = 1.0f / l[h];
    for (int32_t d = 0; d < head_dim; ++d) {
      out[static_cast<int64_t>(h) * head_dim + d] = o[static_cast<int64_t>(h) * head_dim + d] * inv;
    }
  }
}

void AttentionGroup(const float* q, int32_t n_heads, const KvRows& k, const KvRows& v, int32_t kv_head,
                    int32_t head_dim, int32_t n_pos, float scale, float* scores, float* out, float softcap) {
  // Running partial, then the chunk's: (m, l) per head and o.
  const size_t part = static_cast<size_t>(n_heads) * (2 + static_cast<size_t>(head_dim));
  float* run = PartialScratch(2 * part).data();
  float* run_m = run;
  float* run_l = run + n_heads;
  float* run_o = run + 2 * n_heads;
  float* chunk_m = run + part;
  float* chunk_l = chunk_m + n_heads;
  float* chunk_o = chunk_m + 2 * n_heads;
  std::fill(run_m, run_m + n_heads, -std::numeric_limits<float>::infinity());
  std::fill(run_l, run_l + n_heads, 0.0f);
  std::fill(run_o, run_o + static_cast<size_t>(n_heads) * head_dim, 0.0f);
  const AttentionChunks chunks{k.first, n_pos};
  for (int32_t c = 0; c < chunks.count(); ++c) {
    AttentionGroupPartial(q, n_heads, k, v, kv_head, head_dim, chunks.begin(c), chunks.end(c), scale, softcap, scores,
                          chunk_m, chunk_l, chunk_o);
    MergeAttentionPartial(n_heads, head_dim, run_m, run_l, run_o, chunk_m, chunk_l, chunk_o);
  }
  FinishAttention(n_heads, head_dim, run_l, run_o, out);
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

void StoreKvRow(const float* src, int64_t n, KvType type, uint8_t* dst) {
  if (type == KvType::kF32) {
    std::memcpy(dst, src, static_cast<size_t>(n) * sizeof(float));
    return;
  }
  if (type == KvType::kQ8_0) {
    // The reference quantizer on every ISA: the cache holds the same bits
    // whichever ISA wrote it. (Cheap next to the projections that made the
    // row: ~n_embd_kv values per token and layer.) The block struct is
    // 2-aligned and every row starts on an even byte (34-byte blocks).
    QuantizeQ8_0(src, reinterpret_cast<BlockQ8_0*>(dst), n);
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
