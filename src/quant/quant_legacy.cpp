// The 32-value block formats: Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q8_1.
//
// Scales are computed in FP32 from the block's extremes and stored as fp16;
// the quants are computed with the FP32 scale (as llama.cpp does), so a block
// round-trips through quantize -> dequantize -> quantize unchanged.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "quant/fp16.h"
#include "quant/quantize.h"

namespace jarvis {
namespace {

// The value of largest magnitude, with its sign (0 for an all-zero block).
float SignedAbsMax(const float* x, int n) {
  float amax = 0.0f;
  float max = 0.0f;
  for (int i = 0; i < n; ++i) {
    if (std::fabs(x[i]) > amax) {
      amax = std::fabs(x[i]);
      max = x[i];
    }
  }
  return max;
}

// Truncates v (already offset by +0.5 for rounding) into [0, hi]. Clamping in
// float first keeps NaN and huge inputs well-defined.
int TruncClamp(float v, int hi) {
  v = std::min(static_cast<float>(hi), std::max(0.0f, v));
  return static_cast<int>(v);
}

uint32_t LoadU32(const uint8_t bytes[4]) {
  return static_cast<uint32_t>(bytes[0]) | static_cast<uint32_t>(bytes[1]) << 8 |
         static_cast<uint32_t>(bytes[2]) << 16 | static_cast<uint32_t>(bytes[3]) << 24;
}

void StoreU32(uint32_t v, uint8_t bytes[4]) {
  for (int i = 0; i < 4; ++i) bytes[i] = static_cast<uint8_t>(v >> (8 * i));
}

// Symmetric formats: the value of largest magnitude maps to -2^(bits-1), the
// most negative level, so the full range of levels on that side is used.
// Writes quants 0..2^bits-1 (with the offset 2^(bits-1) already added).
float QuantizeSymmetric(const float* x, int bits, uint8_t* q) {
  const int levels = 1 << bits;
  const float half = static_cast<float>(levels / 2);
  const float d = SignedAbsMax(x, kQK) / -half;
  const float id = d != 0.0f ? 1.0f / d : 0.0f;
  for (int i = 0; i < kQK; ++i)
    q[i] = static_cast<uint8_t>(TruncClamp(x[i] * id + half + 0.5f, levels - 1));
  return d;
}

// Asymmetric formats: [min, max] is cut into 2^bits - 1 steps.
void QuantizeAsymmetric(const float* x, int bits, uint8_t* q, float* d_out, float* min_out) {
  const int top = (1 << bits) - 1;
  float min = x[0];
  float max = x[0];
  for (int i = 1; i < kQK; ++i) {
    min = std::min(min, x[i]);
    max = std::max(max, x[i]);
  }
  const float d = (max - min) / static_cast<float>(top);
  const float id = d != 0.0f ? 1.0f / d : 0.0f;
  for (int i = 0; i < kQK; ++i)
    q[i] = static_cast<uint8_t>(TruncClamp((x[i] - min) * id + 0.5f, top));
  *d_out = d;
  *min_out = min;
}

// Value j in the low nibble of byte j, value j + 16 in the high nibble.
void PackNibbles(const uint8_t* q, uint8_t* qs) {
  for (int j = 0; j < kQK / 2; ++j)
    qs[j] = static_cast<uint8_t>((q[j] & 0x0f) | ((q[j + kQK / 2] & 0x0f) << 4));
}

uint32_t FifthBits(const uint8_t* q) {
  uint32_t qh = 0;
  for (int j = 0; j < kQK; ++j) qh |= static_cast<uint32_t>((q[j] >> 4) & 1) << j;
  return qh;
}

// The 5-bit (or 4-bit when qh == 0) quant of value j.
int UnpackQuant(const uint8_t* qs, uint32_t qh, int j) {
  const int nibble = j < kQK / 2 ? (qs[j] & 0x0f) : (qs[j - kQK / 2] >> 4);
  return nibble | static_cast<int>(((qh >> j) & 1) << 4);
}

}  // namespace

void QuantizeQ4_0(const float* x, BlockQ4_0* y, int64_t n) {
  uint8_t q[kQK];
  for (int64_t b = 0; b < n / kQK; ++b, x += kQK) {
    y[b].d = Fp32ToFp16(QuantizeSymmetric(x, 4, q));
    PackNibbles(q, y[b].qs);
  }
}

void DequantizeQ4_0(const BlockQ4_0* x, float* y, int64_t n) {
  for (int64_t b = 0; b < n / kQK; ++b, y += kQK) {
    const float d = Fp16ToFp32(x[b].d);
    for (int j = 0; j < kQK; ++j) y[j] = d * static_cast<float>(UnpackQuant(x[b].qs, 0, j) - 8);
  }
}

void QuantizeQ4_1(const float* x, BlockQ4_1* y, int64_t n) {
  uint8_t q[kQK];
  for (int64_t b = 0; b < n / kQK; ++b, x += kQK) {
    float d = 0.0f;
    float min = 0.0f;
    QuantizeAsymmetric(x, 4, q, &d, &min);
    y[b].d = Fp32ToFp16(d);
    y[b].m = Fp32ToFp16(min);
    PackNibbles(q, y[b].qs);
  }
}

void DequantizeQ4_1(const BlockQ4_1* x, float* y, int64_t n) {
  for (int64_t b = 0; b < n / kQK; ++b, y += kQK) {
    const float d = Fp16ToFp32(x[b].d);
    const float m = Fp16ToFp32(x[b].m);
    for (int j = 0; j < kQK; ++j) y[j] = d * static_cast<float>(UnpackQuant(x[b].qs, 0, j)) + m;
  }
}

void QuantizeQ5_0(const float* x, BlockQ5_0* y, int64_t n) {
  uint8_t q[kQK];
  for (int64_t b = 0; b < n / kQK; ++b, x += kQK) {
    y[b].d = Fp32ToFp16(QuantizeSymmetric(x, 5, q));
    StoreU32(FifthBits(q), y[b].qh);
    PackNibbles(q, y[b].qs);
  }
}

void DequantizeQ5_0(const BlockQ5_0* x, float* y, int64_t n) {
  for (int64_t b = 0; b < n / kQK; ++b, y += kQK) {
    const float d = Fp16ToFp32(x[b].d);
    const uint32_t qh = LoadU32(x[b].qh);
    for (int j = 0; j < kQK; ++j) y[j] = d * static_cast<float>(UnpackQuant(x[b].qs, qh, j) - 16);
  }
}

void QuantizeQ5_1(const float* x, BlockQ5_1* y, int64_t n) {
  uint8_t q[kQK];
  for (int64_t b = 0; b < n / kQK; ++b, x += kQK) {
    float d = 0.0f;
    float min = 0.0f;
    QuantizeAsymmetric(x, 5, q, &d, &min);
    y[b].d = Fp32ToFp16(d);
    y[b].m = Fp32ToFp16(min);
    StoreU32(FifthBits(q), y[b].qh);
    PackNibbles(q, y[b].qs);
  }
}

void DequantizeQ5_1(const BlockQ5_1* x, float* y, int64_t n) {
  for (int64_t b = 0; b < n / kQK; ++b, y += kQK) {
    const float d = Fp16ToFp32(x[b].d);
    const float m = Fp16ToFp32(x[b].m);
    const uint32_t qh = LoadU32(x[b].qh);
    for (int j = 0; j < kQK; ++j) y[j] = d * static_cast<float>(UnpackQuant(x[b].qs, qh, j)) + m;
  }
}

namespace {

// Q8_0 and Q8_1: d = amax / 127, q = round(x / d) (ties away from zero).
// Returns the FP32 scale and the sum of the quants.
float QuantizeQ8Block(const float* x, int8_t* qs, int* sum) {
  float amax = 0.0f;
  for (int i = 0; i < kQK; ++i) amax = std::max(amax, std::fabs(x[i]));
  const float d = amax / 127.0f;
  const float id = d != 0.0f ? 1.0f / d : 0.0f;
  *sum = 0;
  for (int i = 0; i < kQK; ++i) {
    const float v = std::min(127.0f, std::max(-127.0f, x[i] * id));  // NaN -> -127..127 range
    qs[i] = static_cast<int8_t>(std::round(v));
    *sum += qs[i];
  }
  return d;
}

}  // namespace

void QuantizeQ8_0(const float* x, BlockQ8_0* y, int64_t n) {
  for (int64_t b = 0; b < n / kQK; ++b, x += kQK) {
    int sum = 0;
    y[b].d = Fp32ToFp16(QuantizeQ8Block(x, y[b].qs, &sum));
  }
}

void DequantizeQ8_0(const BlockQ8_0* x, float* y, int64_t n) {
  for (int64_t b = 0; b < n / kQK; ++b, y += kQK) {
    const float d = Fp16ToFp32(x[b].d);
    for (int j = 0; j < kQK; ++j) y[j] = d * static_cast<float>(x[b].qs[j]);
  }
}

void QuantizeQ8_1(const float* x, BlockQ8_1* y, int64_t n) {
  for (int64_t b = 0; b < n / kQK; ++b, x += kQK) {
    int sum = 0;
    const float d = QuantizeQ8Block(x, y[b].qs, &sum);
    y[b].d = Fp32ToFp16(d);
    y[b].s = Fp32ToFp16(d * static_cast<float>(sum));
  }
}

void DequantizeQ8_1(const BlockQ8_1* x, float* y, int64_t n) {
  for (int64_t b = 0; b < n / kQK; ++b, y += kQK) {
    const float d = Fp16ToFp32(x[b].d);
    for (int j = 0; j < kQK; ++j) y[j] = d * static_cast<float>(x[b].qs[j]);
  }
}

}  // namespace jarvis
