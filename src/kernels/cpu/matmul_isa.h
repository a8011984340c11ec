// Private to kernels/cpu: the interface between the generic MatMul driver
// (matmul.cpp: dispatch, scratch, threads) and the per-ISA kernels
// (matmul_avx2.cpp, matmul_avx512.cpp, compiled with their own -m flags).
//
// Only plain structs and function declarations live here. The ISA translation
// units must not odr-use inline functions or templates shared with the rest of
// the program (std containers, std::function, WeightMatrix::row, RowSize...):
// the linker keeps one copy of each, and it could be the AVX-512 one.
//
// Activations are quantized once per MatMul call into this layout (n tokens,
// each of `cols` values, blocks of 32 for legacy weight types, of 256 with
// per-16 and per-32 sums for K types):
//   qs[t * cols + i]   int8, x ~= d[t * nb + b] * qs (b = i / block)
//   d[t * nb + b]      float scale of block b (max |x| / 127)
//   corr[t * nb + b]   legacy only: -offset * sum(qs of block b), offset the
//                      weight type's zero point folded into the int8 dot
//                      (Q4_1 / Q5_1: offset -1, so corr = +sum(qs), which
//                      the kernels scale by the block's m)
//   sum16, sum32       K only: sums of qs over 16 / 32 values, in each group
//                      of four stored as [s0, s2, s1, s3] so that one 32-bit
//                      load pairs s0 with s2 (and s1 with s3), matching how the
//                      kernels pair the weights' scales or mins.
// The AMX kernels read qs in place as A tiles (16 tokens, row stride cols).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "kernels/cpu/matmul.h"
#include "kernels/cpu/weight_pack.h"

namespace jarvis::kernels_internal {

struct QuantActs {
  int64_t n_tokens = 0;
  int64_t cols = 0;
  int64_t block = 32;       // 32 (legacy) or 256 (K)
  int8_t* qs = nullptr;     // n_tokens * cols
  float* d = nullptr;       // n_tokens * nb
  int32_t* corr = nullptr;  // n_tokens * nb (legacy)
  int16_t* sum16 = nullptr; // n_tokens * cols / 16 (K)
  int16_t* sum32 = nullptr; // n_tokens * cols / 32 (K)
};

// One MatMul call as the kernels see it.
struct MatMulArgs {
  const uint8_t* w = nullptr;  // row r at w + r * row_bytes
  GgmlType type = GgmlType::kF32;
  int64_t rows = 0;
  int64_t cols = 0;
  size_t row_bytes = 0;
  const uint8_t* packed = nullptr;  // weight_pack.h layout of w, or null
  const float* x = nullptr;    // n_tokens x cols (float kernels)
  QuantActs acts;              // int8 kernels
  int64_t n_tokens = 0;
  float* y = nullptr;          // n_tokens x rows
};

// Per ISA: which weight types have a fast kernel, whether that kernel wants
// int8 activations, the activation quantizer, the per-thread scratch the row
// kernel needs, and the row-range kernel. Rows are computed in tiles of RowTile()
// rows; MatMulRows(args, begin, end, scratch) needs begin to be a multiple of
// RowTile() (end may be anything <= rows) and ScratchBytes(args) bytes of
// 64-byte aligned scratch.
#define JARVIS_DECLARE_ISA_KERNELS(ns)                                                          \
  namespace ns {                                                                               \
  bool HasKernel(GgmlType type);                                                               \
  bool WantsInt8(GgmlType type);                                                               \
  int64_t RowTile();                                                                           \
  void QuantizeActs(GgmlType type, const float* x, int64_t t_begin, int64_t t_end, const QuantActs& out); \
  size_t ScratchBytes(const MatMulArgs& args);                                                 \
  void MatMulRows(const MatMulArgs& args, int64_t r_begin, int64_t r_end, uint8_t* scratch);   \
  }

JARVIS_DECLARE_ISA_KERNELS(avx2)
JARVIS_DECLARE_ISA_KERNELS(avx512)
JARVIS_DECLARE_ISA_KERNELS(amx)

#undef JARVIS_DECLARE_ISA_KERNELS

// The BF16 dot-product path (matmul_avx512bf16.cpp) for F16 / BF16 weights
// marked bf16_dot, on CPUs with AVX-512 BF16. Activations are converted once
// per call: token t's values at acts[t * stride], rounded to BF16, zero-padded
// to stride = ActStride(cols).
struct Bf16Args {
  const uint8_t* w = nullptr;  // row r at w + r * row_bytes
  bool f16 = true;             // F16 weights (else BF16)
  int64_t rows = 0;
  int64_t cols = 0;
  size_t row_bytes = 0;
  const uint16_t* acts = nullptr;
  int64_t stride = 0;
  int64_t n_tokens = 0;
  float* y = nullptr;  // n_tokens x rows
};

namespace avx512bf16 {
int64_t ActStride(int64_t cols);
void ConvertActs(const float* x, int64_t cols, int64_t t_begin, int64_t t_end, uint16_t* out);
// Rows per tile (MatMulRows' r_begin is a multiple) and per-thread scratch.
int64_t RowTile();
size_t ScratchBytes(int64_t cols);
void MatMulRows(const Bf16Args& args, int64_t r_begin, int64_t r_end, uint8_t* scratch);
}  // namespace avx512bf16

}  // namespace jarvis::kernels_internal
