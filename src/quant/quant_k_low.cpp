// The low-bit super-block formats: Q3_K and Q2_K (256 values, 16 sub-blocks
// of 16). Quantized like the other K formats (quant_k.cpp): a best FP32 scale
// (and min) per sub-block, those quantized against an fp16 super-scale, then
// every value re-quantized with the scale it will be decoded with.
#include <algorithm>
#include <cmath>

#include "quant/fp16.h"
#include "quant/quant_fit.h"
#include "quant/quantize.h"

namespace jarvis {
namespace {

constexpr int kSub = 16;  // values per sub-block

// Value v of a super-block lives, in the shared 2-bit packing (blocks.h), in
// byte 32 * (v / 128) + v % 32 at bit 2 * ((v / 32) % 4).
inline int TwoBitByte(int v) { return 32 * (v / 128) + v % 32; }
inline int TwoBitShift(int v) { return 2 * ((v / 32) % 4); }

}  // namespace

void QuantizeQ3_K(const float* x, BlockQ3_K* y, int64_t n) {
  for (int64_t b = 0; b < n / kQKK; ++b, x += kQKK) {
    BlockQ3_K& out = y[b];
    out = BlockQ3_K{};
    float scales[kQKK / kSub];
    float max_scale = 0.0f;  // signed, of largest magnitude
    for (int j = 0; j < kQKK / kSub; ++j) {
      scales[j] = quant_fit::FitSymmetricScale(x + kSub * j, kSub, 4);
      if (std::fabs(scales[j]) > std::fabs(max_scale)) max_scale = scales[j];
    }
    if (std::fabs(max_scale) < quant_fit::kTinyGroup) continue;  // d = 0 decodes to 0
    // The largest scale maps to -32, the end of the 6-bit range with room.
    const float inv = -32.0f / max_scale;
    out.d = Fp32ToFp16(1.0f / inv);
    uint8_t stored[kQKK / kSub];
    for (int j = 0; j < kQKK / kSub; ++j) {
      stored[j] = static_cast<uint8_t>(std::clamp(NearestInt(inv * scales[j]), -32, 31) + 32);
    }
    PackScalesK3(stored, out.scales);

    const float d = Fp16ToFp32(out.d);
    for (int v = 0; v < kQKK; ++v) {
      const float ds = d * static_cast<float>(stored[v / kSub] - 32);
      const int q = (ds != 0.0f ? std::clamp(NearestInt(x[v] / ds), -4, 3) : 0) + 4;  // 0..7
      out.qs[TwoBitByte(v)] = static_cast<uint8_t>(out.qs[TwoBitByte(v)] | ((q & 3) << TwoBitShift(v)));
      if (q >= 4) out.hmask[v % 32] = static_cast<uint8_t>(out.hmask[v % 32] | (1 << (v / 32)));
    }
  }
}

void DequantizeQ3_K(const BlockQ3_K* x, float* y, int64_t n) {
  for (int64_t b = 0; b < n / kQKK; ++b, y += kQKK) {
    const float d = Fp16ToFp32(x[b].d);
    for (int j = 0; j < kQKK / kSub; ++j) {
      const float dl = d * static_cast<float>(UnpackScaleK3(j, x[b].scales) - 32);
      for (int v = kSub * j; v < kSub * (j + 1); ++v) {
        const int low = (x[b].qs[TwoBitByte(v)] >> TwoBitShift(v)) & 3;
        const int high = (x[b].hmask[v % 32] >> (v / 32)) & 1;  // bit 4h + k, v / 32 = 4h + k
        y[v] = dl * static_cast<float>((low | (high << 2)) - 4);
      }
    }
  }
}

void QuantizeQ2_K(const float* x, BlockQ2_K* y, int64_t n) {
  for (int64_t b = 0; b < n / kQKK; ++b, x += kQKK) {
    BlockQ2_K& out = y[b];
    out = BlockQ2_K{};
    float scales[kQKK / kSub];
    float mins[kQKK / kSub];
    uint8_t L[kQKK];
    const quant_fit::SubBlockFit fit =
        quant_fit::FitSubBlocks(x, kQKK, kSub, 3, {-0.5f, 0.1f, 15}, scales, mins, L);
    const float max_scale = fit.max_scale;
    const float max_min = fit.max_offset;
    const float inv_scale = max_scale > 0.0f ? 15.0f / max_scale : 0.0f;
    const float inv_min = max_min > 0.0f ? 15.0f / max_min : 0.0f;
    for (int j = 0; j < kQKK / kSub; ++j) {
      const int ls = std::clamp(NearestInt(inv_scale * scales[j]), 0, 15);
      const int lm = std::clamp(NearestInt(inv_min * mins[j]), 0, 15);
      out.scales[j] = static_cast<uint8_t>(ls | (lm << 4));
    }
    out.d = Fp32ToFp16(max_scale / 15.0f);
    out.dmin = Fp32ToFp16(max_min / 15.0f);

    const float d = Fp16ToFp32(out.d);
    const float dmin = Fp16ToFp32(out.dmin);
    for (int v = 0; v < kQKK; ++v) {
      const uint8_t sc = out.scales[v / kSub];
      const float ds = d * static_cast<float>(sc & 0x0f);
      const float dm = dmin * static_cast<float>(sc >> 4);
      const int q = ds != 0.0f ? std::clamp(NearestInt((x[v] + dm) / ds), 0, 3) : 0;
      out.qs[TwoBitByte(v)] = static_cast<uint8_t>(out.qs[TwoBitByte(v)] | (q << TwoBitShift(v)));
    }
  }
}

void DequantizeQ2_K(const BlockQ2_K* x, float* y, int64_t n) {
  for (int64_t b = 0; b < n / kQKK; ++b, y += kQKK) {
    const float d = Fp16ToFp32(x[b].d);
    const float dmin = Fp16ToFp32(x[b].dmin);
    for (int j = 0; j < kQKK / kSub; ++j) {
      const float dl = d * static_cast<float>(x[b].scales[j] & 0x0f);
      const float ml = dmin * static_cast<float>(x[b].scales[j] >> 4);
      for (int v = kSub * j; v < kSub * (j + 1); ++v) {
        const int q = (x[b].qs[TwoBitByte(v)] >> TwoBitShift(v)) & 3;
        y[v] = dl * static_cast<float>(q) - ml;
      }
    }
  }
}

}  // namespace jarvis
