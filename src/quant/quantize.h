// Reference (scalar) quantization and dequantization of one row of values.
//
// QuantizeRow turns n FP32 values into the bytes of `type` (RowSize(type, n)
// bytes, the GGUF / llama.cpp block layout of quant/blocks.h); DequantizeRow is
// the inverse. n must be a multiple of the type's block size. Supported: the
// types of the registry in quant/quant_types.h (both directions).
// Anything else is Status::Unsupported naming the type; a bad n is
// InvalidArgument. These functions are the definition of "correct" that the
// fast kernels are tested against: readable first, fast enough for tools.
//
// The quantizers of the older formats follow the same rounding rules and scale
// searches as llama.cpp's reference quantizers (no importance matrix), so the
// error of a file we write is what a llama.cpp user would expect; those of
// Q3_K, Q2_K, IQ4_NL and IQ4_XS are our own least-squares scale searches
// (quant_k_low.cpp, quant_iq4.cpp), bounded in quantize_test.cpp.
//
// Thread safety: all functions are pure; call them from any thread.
#pragma once

#include <bit>
#include <cstdint>

#include "jarvis/status.h"
#include "quant/blocks.h"
#include "quant/ggml_type.h"

namespace jarvis {

bool CanQuantize(GgmlType type);
bool CanDequantize(GgmlType type);

// REQUIRES: src has n floats, dst has RowSize(type, n) bytes.
Status QuantizeRow(GgmlType type, const float* src, void* dst, int64_t n);
// REQUIRES: src has RowSize(type, n) bytes, dst has n floats.
Status DequantizeRow(GgmlType type, const void* src, float* dst, int64_t n);

// The float formats (F32 is a copy).
void QuantizeF32(const float* x, void* y, int64_t n);
void QuantizeF16(const float* x, void* y, int64_t n);
void QuantizeBF16(const float* x, void* y, int64_t n);
void DequantizeF32(const void* x, float* y, int64_t n);
void DequantizeF16(const void* x, float* y, int64_t n);
void DequantizeBF16(const void* x, float* y, int64_t n);

// Per-type entry points for kernels and tests. n is the number of values and
// must be a multiple of the block size (32 or 256); not checked here.
void QuantizeQ4_0(const float* x, BlockQ4_0* y, int64_t n);
void QuantizeQ4_1(const float* x, BlockQ4_1* y, int64_t n);
void QuantizeQ5_0(const float* x, BlockQ5_0* y, int64_t n);
void QuantizeQ5_1(const float* x, BlockQ5_1* y, int64_t n);
void QuantizeQ8_0(const float* x, BlockQ8_0* y, int64_t n);
void QuantizeQ8_1(const float* x, BlockQ8_1* y, int64_t n);
void QuantizeQ4_K(const float* x, BlockQ4_K* y, int64_t n);
void QuantizeQ5_K(const float* x, BlockQ5_K* y, int64_t n);
void QuantizeQ6_K(const float* x, BlockQ6_K* y, int64_t n);
void QuantizeQ8_K(const float* x, BlockQ8_K* y, int64_t n);
void QuantizeQ3_K(const float* x, BlockQ3_K* y, int64_t n);
void QuantizeQ2_K(const float* x, BlockQ2_K* y, int64_t n);
void QuantizeIQ4_NL(const float* x, BlockIQ4_NL* y, int64_t n);
void QuantizeIQ4_XS(const float* x, BlockIQ4_XS* y, int64_t n);

void DequantizeQ4_0(const BlockQ4_0* x, float* y, int64_t n);
void DequantizeQ4_1(const BlockQ4_1* x, float* y, int64_t n);
void DequantizeQ5_0(const BlockQ5_0* x, float* y, int64_t n);
void DequantizeQ5_1(const BlockQ5_1* x, float* y, int64_t n);
void DequantizeQ8_0(const BlockQ8_0* x, float* y, int64_t n);
void DequantizeQ8_1(const BlockQ8_1* x, float* y, int64_t n);
void DequantizeQ4_K(const BlockQ4_K* x, float* y, int64_t n);
void DequantizeQ5_K(const BlockQ5_K* x, float* y, int64_t n);
void DequantizeQ6_K(const BlockQ6_K* x, float* y, int64_t n);
void DequantizeQ8_K(const BlockQ8_K* x, float* y, int64_t n);
void DequantizeQ3_K(const BlockQ3_K* x, float* y, int64_t n);
void DequantizeQ2_K(const BlockQ2_K* x, float* y, int64_t n);
void DequantizeIQ4_NL(const BlockIQ4_NL* x, float* y, int64_t n);
void DequantizeIQ4_XS(const BlockIQ4_XS* x, float* y, int64_t n);

// Round to nearest, ties to even, for |x| < 2^22 (the range every quantizer
// here works in). Branch-free and vectorizable, unlike std::nearbyint without
// SSE4.1: adding 1.5 * 2^23 leaves the rounded integer in the low mantissa bits.
inline int NearestInt(float x) {
  const auto bits = std::bit_cast<int32_t>(x + 12582912.0f);
  return (bits & 0x007fffff) - 0x00400000;
}

}  // namespace jarvis
