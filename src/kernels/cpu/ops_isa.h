// Private to kernels/cpu: per-ISA versions of the row operations and of
// attention (ops_avx2.cpp, ops_avx512.cpp, built from vector_ops_impl.h). The
// public functions in ops.cpp / attention.cpp dispatch to them unless the
// active ISA is scalar. Same rules as matmul_isa.h: plain declarations only.
#pragma once

#include <cstdint>

#include "kernels/cpu/attention.h"

namespace jarvis::kernels_internal {

// Where AttentionGroupPartial's rows are, without KvRows' inline helpers.
#define JARVIS_DECLARE_ISA_OPS(ns)                                                                  \
  namespace ns {                                                                                   \
  void SiluMul(float* x, const float* y, int64_t n);                                               \
  void GeluTanhMul(float* x, const float* y, int64_t n);                                           \
  void GeluTanh(float* x, int64_t n);                                                              \
  void Softmax(float* x, int64_t n);                                                               \
  void AttentionGroupPartial(const float* q, int32_t n_heads, const KvRows& k, const KvRows& v,           \
                             int32_t kv_head, int32_t head_dim, int32_t p0, int32_t p1, float scale,   \
                             float softcap, float* scores, float* m, float* l, float* out);            \
  void StoreKvRowF16(const float* src, int64_t n, uint16_t* dst);                                  \
  void AttentionDense(const float* q, int64_t q_stride, const float* k, const float* v, int64_t kv_stride, \
                      int32_t n, int32_t head_dim, float scale, float softcap, float* kt, float* scores,    \
                      float* out, int64_t out_stride);                                             \
  }

JARVIS_DECLARE_ISA_OPS(avx2)
JARVIS_DECLARE_ISA_OPS(avx512)

#undef JARVIS_DECLARE_ISA_OPS

}  // namespace jarvis::kernels_internal
