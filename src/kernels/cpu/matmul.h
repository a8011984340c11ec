// Matrix products of GGUF weights with F32 activations: the arithmetic of
// every linear layer. The weight stays in its on-disk block format (zero-copy
// from the mapped file).
//
// Determinism contract: y[t][r] depends only on row r of W and row t of X,
// computed by one thread with a fixed reduction order, so results do not change
// with the thread count or with which other tokens share the batch.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "kernels/cpu/isa.h"
#include "quant/ggml_type.h"
#include "util/thread_pool.h"

namespace jarvis {

// A 2-D weight: `rows` rows of `cols` elements (cols = GGUF dims[0]).
struct WeightMatrix {
  GgmlType type = GgmlType::kF32;
  const uint8_t* data = nullptr;
  int64_t rows = 0;
  int64_t cols = 0;
  size_t row_bytes = 0;
  // Optional lane-interleaved copy of `data` for the int8 kernels
  // (weight_pack.h); `data` stays the source of truth for everything else.
  const uint8_t* packed = nullptr;
  // F16 / BF16 weights only: compute with BF16 dot products (activations
  // rounded to BF16, two products per F32 lane and step) where the CPU has
  // them (AVX-512 BF16 under the avx512 or amx kernels), else as usual in F32
  // arithmetic. Set for the encoders' matrices (model/weights.cpp): an
  // embedding batch is compute-bound, and BF16 rounding moves an embedding's
  // direction by ~1e-5 (cosine). Per matrix, so every call on it takes the
  // same path whatever the batch (batch invariance).
  bool bf16_dot = false;

  const uint8_t* row(int64_t r) const { return data + static_cast<size_t>(r) * row_bytes; }
};

// Weight types the engine computes with.
bool IsComputeWeightType(GgmlType type);
// "f32, f16, bf16, q8_0, ..." for error messages.
std::string ComputeWeightTypeList();

// y[t * w.rows + r] = sum_c W[r][c] * x[t * w.cols + c], for t < n_tokens,
// on the kernels of ActiveKernelIsa() (kernels/cpu/isa.h):
//   - scalar: MatMulReference below.
//   - avx2 / avx512 / amx: F32, F16 and BF16 weights in F32 arithmetic
//     (vector lanes, fixed reduction tree), or with BF16 dot products for
//     matrices marked bf16_dot on CPUs with AVX-512 BF16; Q4_0, Q4_1, Q5_0, Q5_1, Q8_0,
//     Q4_K, Q5_K and Q6_K weights against activations quantized to int8 on
//     the fly (blocks of 32 for the legacy types, of 256 for the K types),
//     with exact integer dot products,
//     so results differ from the reference by the int8 rounding of x
//     (relative error around 1e-2 of the row's magnitude). amx runs groups of
//     16 tokens of packed Q4_0 / Q8_0 / Q4_K / Q5_K / Q6_K weights (w.packed) on
//     AMX tiles (other types: the avx512 kernels) with the same
//     per-output float operations as avx512 (bit-identical); avx2 and avx512
//     also give identical bits, on either weight layout. Other types fall
//     back to the reference.
// Within one ISA the determinism contract above holds for every path.
// Allocates nothing once its per-thread scratch has grown to the largest call.
// REQUIRES: IsComputeWeightType(w.type); x and y do not overlap.
void MatMul(const WeightMatrix& w, const float* x, int64_t n_tokens, float* y, ThreadPool& pool);

// The scalar reference: dequantize each weight row to F32, plain F32 dot
// products. The oracle the fast paths are tested against.
void MatMulReference(const WeightMatrix& w, const float* x, int64_t n_tokens, float* y, ThreadPool& pool);

// Whether MatMul has a fast kernel for `type` on `isa` (else it runs the reference).
bool HasFastMatMul(GgmlType type, KernelIsa isa);

// Whether MatMul runs `w` with BF16 dot products now (w.bf16_dot, its type,
// the active ISA and the CPU).
bool UsesBf16Dot(const WeightMatrix& w);

// Copies row `r` of `w` into dst as F32 (embedding lookup).
void DequantizeWeightRow(const WeightMatrix& w, int64_t r, float* dst);

}  // namespace jarvis
