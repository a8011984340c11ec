// The non-linear 4-bit formats IQ4_NL (blocks of 32) and IQ4_XS (super-blocks
// of 256 with 6-bit sub-block scales): a value is scale * kIq4NlValues[q]
// (blocks.h). The quantizer searches, per block of 32, the scale whose
// rounding onto the table gives the least weighted squared error.
#include <algorithm>
#include <cmath>

#include "quant/fp16.h"
#include "quant/quant_fit.h"
#include "quant/quantize.h"

namespace jarvis {
namespace {

constexpr int kSub = 32;  // values per block (IQ4_NL) or sub-block (IQ4_XS)

// Index of the table entry nearest to v (in table units): the number of
// midpoints between neighbouring entries that lie below v.
inline int NearestIndex(float v) {
  int index = 0;
  for (int k = 0; k < 15; ++k) {
    const float mid = 0.5f * (static_cast<float>(kIq4NlValues[k]) + static_cast<float>(kIq4NlValues[k + 1]));
    index += v > mid ? 1 : 0;
  }
  return index;
}

// Best scale for x[i] ~= scale * kIq4NlValues[L[i]]. The grid is asymmetric
// (-127..113), so both ends are tried for the largest magnitude: grids that
// put it near -127 (negative scale for a positive maximum) and near +113; for
// each rounding pattern the least-squares scale is taken, keeping the one with
// the least error sum w (x - scale t)^2 with w = x^2 + mean(x^2) (large values
// matter most; the floor keeps small ones from being ignored).
float FitIq4Scale(const float* x) {
  float amax = 0.0f;
  float max = 0.0f;
  float sum_x2 = 0.0f;
  for (int i = 0; i < kSub; ++i) {
    sum_x2 += x[i] * x[i];
    if (std::fabs(x[i]) > amax) {
      amax = std::fabs(x[i]);
      max = x[i];
    }
  }
  if (amax < quant_fit::kTinyGroup) return 0.0f;
  const float floor_w = sum_x2 / kSub;

  float best_scale = 0.0f;
  float best_gain = 0.0f;  // sum_tx^2 / sum_t2: the error reduction of the fit
  auto try_grid = [&](float inv_scale) {
    float sum_tx = 0.0f;
    float sum_t2 = 0.0f;
    for (int i = 0; i < kSub; ++i) {
      const float t = kIq4NlValues[NearestIndex(inv_scale * x[i])];
      const float w = floor_w + x[i] * x[i];
      sum_tx += w * t * x[i];
      sum_t2 += w * t * t;
    }
    if (sum_t2 > 0.0f && sum_tx * sum_tx > best_gain * sum_t2) {
      best_scale = sum_tx / sum_t2;
      best_gain = best_scale * sum_tx;
    }
  };
  for (int k = -6; k <= 6; ++k) try_grid((static_cast<float>(kIq4NlValues[0]) + static_cast<float>(k)) / max);
  for (int k = -4; k <= 4; k += 2) try_grid((static_cast<float>(kIq4NlValues[15]) + static_cast<float>(k)) / max);
  return best_scale;
}

// Table indices of x for a decoded scale, packed as Q4_0 (value j in the low
// nibble of byte j, value j + 16 in the high one).
void PackIndices(const float* x, float scale, uint8_t qs[kSub / 2]) {
  const float inv = scale != 0.0f ? 1.0f / scale : 0.0f;
  for (int j = 0; j < kSub / 2; ++j) {
    qs[j] = static_cast<uint8_t>(NearestIndex(inv * x[j]) | (NearestIndex(inv * x[j + kSub / 2]) << 4));
  }
}

void DecodeIndices(const uint8_t qs[kSub / 2], float scale, float* y) {
  for (int j = 0; j < kSub / 2; ++j) {
    y[j] = scale * static_cast<float>(kIq4NlValues[qs[j] & 0x0f]);
    y[j + kSub / 2] = scale * static_cast<float>(kIq4NlValues[qs[j] >> 4]);
  }
}

}  // namespace

void QuantizeIQ4_NL(const float* x, BlockIQ4_NL* y, int64_t n) {
  for (int64_t b = 0; b < n / kSub; ++b, x += kSub) {
    y[b].d = Fp32ToFp16(FitIq4Scale(x));
    PackIndices(x, Fp16ToFp32(y[b].d), y[b].qs);
  }
}

void DequantizeIQ4_NL(const BlockIQ4_NL* x, float* y, int64_t n) {
  for (int64_t b = 0; b < n / kSub; ++b, y += kSub) DecodeIndices(x[b].qs, Fp16ToFp32(x[b].d), y);
}

void QuantizeIQ4_XS(const float* x, BlockIQ4_XS* y, int64_t n) {
  for (int64_t b = 0; b < n / kQKK; ++b, x += kQKK) {
    BlockIQ4_XS& out = y[b];
    out = BlockIQ4_XS{};
    float scales[kQKK / kSub];
    float max_scale = 0.0f;  // signed, of largest magnitude
    for (int j = 0; j < kQKK / kSub; ++j) {
      scales[j] = FitIq4Scale(x + kSub * j);
      if (std::fabs(scales[j]) > std::fabs(max_scale)) max_scale = scales[j];
    }
    // The largest sub-block scale maps to -32, the end of the 6-bit range
    // with room; a zero block keeps d = 0.
    const float inv = std::fabs(max_scale) >= quant_fit::kTinyGroup ? -32.0f / max_scale : 0.0f;
    out.d = Fp32ToFp16(inv != 0.0f ? 1.0f / inv : 0.0f);
    const float d = Fp16ToFp32(out.d);
    for (int j = 0; j < kQKK / kSub; ++j) {
      const int ls = std::clamp(NearestInt(inv * scales[j]), -32, 31) + 32;  // stored 0..63
      out.scales_l[j / 2] = static_cast<uint8_t>(out.scales_l[j / 2] | ((ls & 0x0f) << (4 * (j % 2))));
      out.scales_h = static_cast<uint16_t>(out.scales_h | ((ls >> 4) << (2 * j)));
      PackIndices(x + kSub * j, d * static_cast<float>(ls - 32), out.qs + kSub / 2 * j);
    }
  }
}

void DequantizeIQ4_XS(const BlockIQ4_XS* x, float* y, int64_t n) {
  for (int64_t b = 0; b < n / kQKK; ++b, y += kQKK) {
    const float d = Fp16ToFp32(x[b].d);
    for (int j = 0; j < kQKK / kSub; ++j) {
      const int ls = ((x[b].scales_l[j / 2] >> (4 * (j % 2))) & 0x0f) | (((x[b].scales_h >> (2 * j)) & 3) << 4);
      DecodeIndices(x[b].qs + kSub / 2 * j, d * static_cast<float>(ls - 32), y + kSub * j);
    }
  }
}

}  // namespace jarvis
