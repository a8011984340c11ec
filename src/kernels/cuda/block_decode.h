// Per-block decode math of the GGUF weight types, shared by the CUDA kernels
// (device) and their CPU unit test (host): fp16 / bf16 bits to float, and
// DecodeChunk<type>, which turns 32 consecutive values of a weight row into
// floats. Plain C++ for the host compiler (JARVIS_HD is then empty), so the test
// checks these exact functions against quant/quantize.h's DequantizeRow.
//
// A "chunk" is values [32c, 32c + 32) of a row: one block of the legacy types
// (q4_0, q4_1, q5_0, q5_1, q8_0), one 32-value sub-block of the K types (eight
// per 256-value super-block), 32 plain values of f32 / f16 / bf16. Only the
// float types allow a row length that is not a multiple of 32: their last chunk
// has n_valid < 32 values (the others of `out` are set to 0).
//
// Layouts: quant/blocks.h. The float expressions follow quant/'s reference
// dequantizers term by term, so on the host the results are bit-identical (on
// the device nvcc may fuse multiply-adds: last-bit differences).
//
// Thread safety: pure functions.
#pragma once

#include <cstdint>
#include <cstring>

#include "quant/blocks.h"
#include "quant/ggml_type.h"

#if defined(__CUDACC__)
#define JARVIS_HD __host__ __device__
#else
#define JARVIS_HD
#endif

namespace jarvis::cuda {

JARVIS_HD inline float FloatFromBits(uint32_t u) {
#if defined(__CUDA_ARCH__)
  return __uint_as_float(u);
#else
  float f;
  std::memcpy(&f, &u, sizeof f);
  return f;
#endif
}

// IEEE binary16 bits to float (same cases as quant/fp16.h's Fp16ToFp32).
JARVIS_HD inline float HalfToFloat(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
  const uint32_t exponent = (h >> 10) & 0x1fu;
  const uint32_t mantissa = h & 0x3ffu;
  if (exponent == 0) {  // zero or subnormal: mantissa * 2^-24, exact
    const float magnitude = static_cast<float>(mantissa) * 5.9604644775390625e-8f;
    return sign != 0 ? -magnitude : magnitude;
  }
  if (exponent == 0x1f) return FloatFromBits(sign | 0x7f800000u | (mantissa << 13));
  return FloatFromBits(sign | ((exponent + 112u) << 23) | (mantissa << 13));
}

JARVIS_HD inline float Bf16ToFloat(uint16_t b) { return FloatFromBits(static_cast<uint32_t>(b) << 16); }

// Little-endian u16 at p (p may be odd-aligned inside a block).
JARVIS_HD inline uint16_t LoadU16(const uint8_t* p) {
  return static_cast<uint16_t>(p[0] | (p[1] << 8));
}

// Scale and min of sub-block j (0..7) of a Q4_K / Q5_K super-block (see
// UnpackScaleMinK4 in quant/blocks.h for the packing).
JARVIS_HD inline void ScaleMinK4(int j, const uint8_t* packed, int* scale, int* min) {
  if (j < 4) {
    *scale = packed[j] & 63;
    *min = packed[j + 4] & 63;
  } else {
    *scale = (packed[j + 4] & 0x0f) | ((packed[j - 4] >> 6) << 4);
    *min = (packed[j + 4] >> 4) | ((packed[j] >> 6) << 4);
  }
}

// Values [32 * chunk, 32 * chunk + 32) of `row` into out[0..32).
template <GgmlType T>
JARVIS_HD inline void DecodeChunk(const uint8_t* row, int64_t chunk, int n_valid, float* out);

template <>
JARVIS_HD inline void DecodeChunk<GgmlType::kF32>(const uint8_t* row, int64_t chunk, int n_valid, float* out) {
  const float* p = reinterpret_cast<const float*>(row) + 32 * chunk;
  for (int i = 0; i < 32; ++i) out[i] = i < n_valid ? p[i] : 0.0f;
}

template <>
JARVIS_HD inline void DecodeChunk<GgmlType::kF16>(const uint8_t* row, int64_t chunk, int n_valid, float* out) {
  const uint16_t* p = reinterpret_cast<const uint16_t*>(row) + 32 * chunk;
  for (int i = 0; i < 32; ++i) out[i] = i < n_valid ? HalfToFloat(p[i]) : 0.0f;
}

template <>
JARVIS_HD inline void DecodeChunk<GgmlType::kBF16>(const uint8_t* row, int64_t chunk, int n_valid, float* out) {
  const uint16_t* p = reinterpret_cast<const uint16_t*>(row) + 32 * chunk;
  for (int i = 0; i < 32; ++i) out[i] = i < n_valid ? Bf16ToFloat(p[i]) : 0.0f;
}

// Legacy 4/5-bit blocks: byte j of qs holds value j (low nibble) and j + 16 (high).
template <>
JARVIS_HD inline void DecodeChunk<GgmlType::kQ4_0>(const uint8_t* row, int64_t chunk, int, float* out) {
  const uint8_t* b = row + chunk * sizeof(BlockQ4_0);
  const float d = HalfToFloat(LoadU16(b));
  const uint8_t* qs = b + 2;
  for (int j = 0; j < 16; ++j) {
    out[j] = d * static_cast<float>((qs[j] & 0x0f) - 8);
    out[j + 16] = d * static_cast<float>((qs[j] >> 4) - 8);
  }
}

template <>
JARVIS_HD inline void DecodeChunk<GgmlType::kQ4_1>(const uint8_t* row, int64_t chunk, int, float* out) {
  const uint8_t* b = row + chunk * sizeof(BlockQ4_1);
  const float d = HalfToFloat(LoadU16(b));
  const float m = HalfToFloat(LoadU16(b + 2));
  const uint8_t* qs = b + 4;
  for (int j = 0; j < 16; ++j) {
    out[j] = d * static_cast<float>(qs[j] & 0x0f) + m;
    out[j + 16] = d * static_cast<float>(qs[j] >> 4) + m;
  }
}

template <>
JARVIS_HD inline void DecodeChunk<GgmlType::kQ5_0>(const uint8_t* row, int64_t chunk, int, float* out) {
  const uint8_t* b = row + chunk * sizeof(BlockQ5_0);
  const float d = HalfToFloat(LoadU16(b));
  const uint32_t qh = static_cast<uint32_t>(b[2]) | (static_cast<uint32_t>(b[3]) << 8) |
                      (static_cast<uint32_t>(b[4]) << 16) | (static_cast<uint32_t>(b[5]) << 24);
  const uint8_t* qs = b + 6;
  for (int j = 0; j < 16; ++j) {
    const int lo = (qs[j] & 0x0f) | static_cast<int>(((qh >> j) & 1u) << 4);
    const int hi = (qs[j] >> 4) | static_cast<int>(((qh >> (j + 16)) & 1u) << 4);
    out[j] = d * static_cast<float>(lo - 16);
    out[j + 16] = d * static_cast<float>(hi - 16);
  }
}

template <>
JARVIS_HD inline void DecodeChunk<GgmlType::kQ5_1>(const uint8_t* row, int64_t chunk, int, float* out) {
  const uint8_t* b = row + chunk * sizeof(BlockQ5_1);
  const float d = HalfToFloat(LoadU16(b));
  const float m = HalfToFloat(LoadU16(b + 2));
  const uint32_t qh = static_cast<uint32_t>(b[4]) | (static_cast<uint32_t>(b[5]) << 8) |
                      (static_cast<uint32_t>(b[6]) << 16) | (static_cast<uint32_t>(b[7]) << 24);
  const uint8_t* qs = b + 8;
  for (int j = 0; j < 16; ++j) {
    const int lo = (qs[j] & 0x0f) | static_cast<int>(((qh >> j) & 1u) << 4);
    const int hi = (qs[j] >> 4) | static_cast<int>(((qh >> (j + 16)) & 1u) << 4);
    out[j] = d * static_cast<float>(lo) + m;
    out[j + 16] = d * static_cast<float>(hi) + m;
  }
}

template <>
JARVIS_HD inline void DecodeChunk<GgmlType::kQ8_0>(const uint8_t* row, int64_t chunk, int, float* out) {
  const uint8_t* b = row + chunk * sizeof(BlockQ8_0);
  const float d = HalfToFloat(LoadU16(b));
  const int8_t* qs = reinterpret_cast<const int8_t*>(b + 2);
  for (int j = 0; j < 32; ++j) out[j] = d * static_cast<float>(qs[j]);
}

// Q4_K / Q5_K: sub-block j = chunk % 8 of super-block chunk / 8 is the low
// (j even) or high (j odd) nibbles of qs bytes [32 * (j / 2), + 32).
template <>
JARVIS_HD inline void DecodeChunk<GgmlType::kQ4_K>(const uint8_t* row, int64_t chunk, int, float* out) {
  const uint8_t* b = row + (chunk / 8) * sizeof(BlockQ4_K);
  const int j = static_cast<int>(chunk % 8);
  const float d = HalfToFloat(LoadU16(b));
  const float dmin = HalfToFloat(LoadU16(b + 2));
  int sc = 0;
  int mn = 0;
  ScaleMinK4(j, b + 4, &sc, &mn);
  const uint8_t* qs = b + 4 + kKScaleBytes + 32 * (j / 2);
  const int shift = 4 * (j % 2);
  for (int l = 0; l < 32; ++l) {
    out[l] = d * static_cast<float>(sc) * static_cast<float>((qs[l] >> shift) & 0x0f) -
             dmin * static_cast<float>(mn);
  }
}

template <>
JARVIS_HD inline void DecodeChunk<GgmlType::kQ5_K>(const uint8_t* row, int64_t chunk, int, float* out) {
  const uint8_t* b = row + (chunk / 8) * sizeof(BlockQ5_K);
  const int j = static_cast<int>(chunk % 8);
  const float d = HalfToFloat(LoadU16(b));
  const float dmin = HalfToFloat(LoadU16(b + 2));
  int sc = 0;
  int mn = 0;
  ScaleMinK4(j, b + 4, &sc, &mn);
  const uint8_t* qh = b + 4 + kKScaleBytes;
  const uint8_t* qs = qh + kQKK / 8 + 32 * (j / 2);
  const int shift = 4 * (j % 2);
  for (int l = 0; l < 32; ++l) {
    const int q = ((qs[l] >> shift) & 0x0f) | (((qh[l] >> j) & 1) << 4);  // qh bit 2c (+1) = bit j
    out[l] = d * static_cast<float>(sc) * static_cast<float>(q) - dmin * static_cast<float>(mn);
  }
}

// Q6_K: chunk j = chunk % 8 covers values 32j.. of the super-block: half
// h = j / 4, quarter k = j % 4 (see BlockQ6_K); scales[2j] for its first 16
// values, scales[2j + 1] for the next 16.
template <>
JARVIS_HD inline void DecodeChunk<GgmlType::kQ6_K>(const uint8_t* row, int64_t chunk, int, float* out) {
  const uint8_t* b = row + (chunk / 8) * sizeof(BlockQ6_K);
  const int j = static_cast<int>(chunk % 8);
  const int h = j / 4;
  const int k = j % 4;
  const uint8_t* ql = b + 64 * h + (k % 2) * 32;
  const uint8_t* qh = b + kQKK / 2 + 32 * h;
  const int8_t* scales = reinterpret_cast<const int8_t*>(b + kQKK / 2 + kQKK / 4);
  const float d = HalfToFloat(LoadU16(b + kQKK / 2 + kQKK / 4 + kQKK / 16));
  const int lo_shift = 4 * (k / 2);
  for (int l = 0; l < 32; ++l) {
    const int q = (((ql[l] >> lo_shift) & 0x0f) | (((qh[l] >> (2 * k)) & 3) << 4)) - 32;
    out[l] = d * static_cast<float>(scales[2 * j + l / 16]) * static_cast<float>(q);
  }
}

}  // namespace jarvis::cuda
