// The 256-value super-block formats: Q4_K, Q5_K, Q6_K and Q8_K.
//
// A K block is quantized in two levels: first each sub-block gets its own best
// FP32 scale (and min), found by a small search that minimizes a weighted
// squared error; then those sub-block scales are themselves quantized to 6 or
// 8 bits against one fp16 super-scale, and finally every value is re-quantized
// with the scale it will really be decoded with.
#include <algorithm>
#include <cmath>

#include "quant/fp16.h"
#include "quant/quant_fit.h"
#include "quant/quantize.h"

namespace jarvis {
namespace quant_fit {

// Fits x[i] ~= scale * L[i] - offset with L[i] in 0..nmax, minimizing
// sum w[i] * (scale * L[i] - offset - x[i])^2, with offset >= 0 (i.e. the
// decoded minimum is <= 0, which the K formats store as a positive "min").
//
// Start from the plain min/max grid; then try `steps + 1` slightly different
// grid densities (nmax + first_step + k * step_size levels over the range), and
// for each rounding pattern solve the 2x2 least-squares problem for the exact
// best scale and offset. Keep the pattern with the smallest weighted error.
float FitScaleAndOffset(const float* x, const float* w, int n, int nmax, GridSearch search,
                        uint8_t* L, float* offset_out) {
  float min = x[0];
  float max = x[0];
  float sum_w = 0.0f;
  float sum_wx = 0.0f;
  for (int i = 0; i < n; ++i) {
    min = std::min(min, x[i]);
    max = std::max(max, x[i]);
    sum_w += w[i];
    sum_wx += w[i] * x[i];
  }
  min = std::min(min, 0.0f);  // the grid always contains 0
  if (max == min) {           // all values equal and <= 0: the offset alone decodes them
    std::fill(L, L + n, uint8_t{0});
    *offset_out = -min;
    return 0.0f;
  }

  auto quantize_with = [&](float inv_scale, float lo, uint8_t* out) {
    for (int i = 0; i < n; ++i) {
      out[i] = static_cast<uint8_t>(std::clamp(NearestInt(inv_scale * (x[i] - lo)), 0, nmax));
    }
  };
  auto weighted_error = [&](float scale, float lo, const uint8_t* q) {
    float err = 0.0f;
    for (int i = 0; i < n; ++i) {
      const float diff = scale * static_cast<float>(q[i]) + lo - x[i];
      err += w[i] * diff * diff;
    }
    return err;
  };

  float scale = (max - min) / static_cast<float>(nmax);
  quantize_with(1.0f / scale, min, L);
  float best_error = weighted_error(scale, min, L);

  uint8_t trial[kQKK];
  for (int step = 0; step <= search.steps; ++step) {
    const float inv_scale = (search.first_step + search.step_size * static_cast<float>(step) +
                             static_cast<float>(nmax)) /
                            (max - min);
    quantize_with(inv_scale, min, trial);
    float sum_l = 0.0f;
    float sum_l2 = 0.0f;
    float sum_xl = 0.0f;
    for (int i = 0; i < n; ++i) {
      const float l = trial[i];
      sum_l += w[i] * l;
      sum_l2 += w[i] * l * l;
      sum_xl += w[i] * l * x[i];
    }
    // Normal equations of min over (s, o) of sum w (s*l + o - x)^2.
    const float det = sum_w * sum_l2 - sum_l * sum_l;
    if (det <= 0.0f) continue;
    float this_scale = (sum_w * sum_xl - sum_wx * sum_l) / det;
    float this_min = (sum_l2 * sum_wx - sum_l * sum_xl) / det;
    if (this_min > 0.0f) {  // a positive minimum cannot be stored: refit through 0
      this_min = 0.0f;
      this_scale = sum_xl / sum_l2;
    }
    const float err = weighted_error(this_scale, this_min, trial);
    if (err < best_error) {
      std::copy(trial, trial + n, L);
      best_error = err;
      scale = this_scale;
      min = this_min;
    }
  }
  *offset_out = -min;
  return scale;
}

// Best signed scale for x[i] ~= scale * l[i], l in -nmax..nmax-1, weighting each
// value by x[i]^2 (large values matter most). Tries 19 grids around the one
// that maps the largest magnitude exactly onto -nmax, and for each rounding
// pattern takes the least-squares scale.
float FitSymmetricScale(const float* x, int n, int nmax) {
  float amax = 0.0f;
  float max = 0.0f;
  for (int i = 0; i < n; ++i) {
    if (std::fabs(x[i]) > amax) {
      amax = std::fabs(x[i]);
      max = x[i];
    }
  }
  if (amax < kTinyGroup) return 0.0f;

  auto fit = [&](float inv_scale, float* sum_lx, float* sum_l2) {
    *sum_lx = 0.0f;
    *sum_l2 = 0.0f;
    for (int i = 0; i < n; ++i) {
      const float l = static_cast<float>(std::clamp(NearestInt(inv_scale * x[i]), -nmax, nmax - 1));
      const float w = x[i] * x[i];
      *sum_lx += w * x[i] * l;
      *sum_l2 += w * l * l;
    }
  };

  float sum_lx = 0.0f;
  float sum_l2 = 0.0f;
  fit(-static_cast<float>(nmax) / max, &sum_lx, &sum_l2);
  float scale = sum_l2 > 0.0f ? sum_lx / sum_l2 : 0.0f;
  float best = scale * sum_lx;  // the error reduction sum_lx^2 / sum_l2
  for (int k = -9; k <= 9; ++k) {
    if (k == 0) continue;
    fit(-(static_cast<float>(nmax) + 0.1f * static_cast<float>(k)) / max, &sum_lx, &sum_l2);
    if (sum_l2 > 0.0f && sum_lx * sum_lx > best * sum_l2) {
      scale = sum_lx / sum_l2;
      best = scale * sum_lx;
    }
  }
  return scale;
}

SubBlockFit FitSubBlocks(const float* x, int n, int sub, int nmax, GridSearch search, float* scales, float* offsets,
                         uint8_t* L) {
  SubBlockFit fit;
  float weights[kQKK];
  for (int j = 0; j < n / sub; ++j) {
    const float* xs = x + sub * j;
    float sum_x2 = 0.0f;
    for (int i = 0; i < sub; ++i) sum_x2 += xs[i] * xs[i];
    const float rms = std::sqrt(sum_x2 / sub);
    for (int i = 0; i < sub; ++i) weights[i] = rms + std::fabs(xs[i]);
    scales[j] = FitScaleAndOffset(xs, weights, sub, nmax, search, L + sub * j, &offsets[j]);
    fit.max_scale = std::max(fit.max_scale, scales[j]);
    fit.max_offset = std::max(fit.max_offset, offsets[j]);
  }
  return fit;
}

}  // namespace quant_fit
namespace {

using quant_fit::FitScaleAndOffset;
using quant_fit::FitSymmetricScale;
using quant_fit::GridSearch;
using quant_fit::kTinyGroup;

// Shared by Q4_K and Q5_K: picks the 8 sub-block scales/mins of one
// super-block, stores them (6 bits each) with d and dmin, and returns the
// final quants L[256] in 0..nmax.
void QuantizeScaleMinSuperBlock(const float* x, int nmax, GridSearch search, uint16_t* d_out,
                                uint16_t* dmin_out, uint8_t packed[kKScaleBytes], uint8_t L[kQKK]) {
  constexpr int kSub = 32;
  float scales[kQKK / kSub];
  float mins[kQKK / kSub];
  const quant_fit::SubBlockFit fit = FitSubBlocks(x, kQKK, kSub, nmax, search, scales, mins, L);
  const float max_scale = fit.max_scale;
  const float max_min = fit.max_offset;

  const float inv_scale = max_scale > 0.0f ? 63.0f / max_scale : 0.0f;
  const float inv_min = max_min > 0.0f ? 63.0f / max_min : 0.0f;
  uint8_t ls[8];
  uint8_t lm[8];
  for (int j = 0; j < 8; ++j) {
    ls[j] = static_cast<uint8_t>(std::clamp(NearestInt(inv_scale * scales[j]), 0, 63));
    lm[j] = static_cast<uint8_t>(std::clamp(NearestInt(inv_min * mins[j]), 0, 63));
  }
  PackScalesMinsK4(ls, lm, packed);
  *d_out = Fp32ToFp16(max_scale / 63.0f);
  *dmin_out = Fp32ToFp16(max_min / 63.0f);

  // Re-quantize against the scales as they will be decoded.
  const float d = Fp16ToFp32(*d_out);
  const float dmin = Fp16ToFp32(*dmin_out);
  for (int j = 0; j < 8; ++j) {
    uint8_t sc = 0;
    uint8_t mn = 0;
    UnpackScaleMinK4(j, packed, &sc, &mn);
    const float ds = d * sc;
    const float dm = dmin * mn;
    for (int i = 0; i < kSub; ++i) {
      const int q = ds != 0.0f ? NearestInt((x[kSub * j + i] + dm) / ds) : 0;
      L[kSub * j + i] = static_cast<uint8_t>(std::clamp(q, 0, nmax));
    }
  }
}

}  // namespace

void QuantizeQ4_K(const float* x, BlockQ4_K* y, int64_t n) {
  uint8_t L[kQKK];
  for (int64_t b = 0; b < n / kQKK; ++b, x += kQKK) {
    QuantizeScaleMinSuperBlock(x, 15, {-1.0f, 0.1f, 20}, &y[b].d, &y[b].dmin, y[b].scales, L);
    for (int c = 0; c < 4; ++c) {
      for (int l = 0; l < 32; ++l) {
        y[b].qs[32 * c + l] = static_cast<uint8_t>(L[64 * c + l] | (L[64 * c + 32 + l] << 4));
      }
    }
  }
}

void DequantizeQ4_K(const BlockQ4_K* x, float* y, int64_t n) {
  for (int64_t b = 0; b < n / kQKK; ++b, y += kQKK) {
    const float d = Fp16ToFp32(x[b].d);
    const float dmin = Fp16ToFp32(x[b].dmin);
    for (int c = 0; c < 4; ++c) {
      uint8_t sc_lo, mn_lo, sc_hi, mn_hi;
      UnpackScaleMinK4(2 * c, x[b].scales, &sc_lo, &mn_lo);
      UnpackScaleMinK4(2 * c + 1, x[b].scales, &sc_hi, &mn_hi);
      for (int l = 0; l < 32; ++l) {
        const uint8_t byte = x[b].qs[32 * c + l];
        y[64 * c + l] = d * sc_lo * (byte & 0x0f) - dmin * mn_lo;
        y[64 * c + 32 + l] = d * sc_hi * (byte >> 4) - dmin * mn_hi;
      }
    }
  }
}

void QuantizeQ5_K(const float* x, BlockQ5_K* y, int64_t n) {
  uint8_t L[kQKK];
  for (int64_t b = 0; b < n / kQKK; ++b, x += kQKK) {
    QuantizeScaleMinSuperBlock(x, 31, {-0.5f, 0.1f, 15}, &y[b].d, &y[b].dmin, y[b].scales, L);
    std::fill(y[b].qh, y[b].qh + kQKK / 8, uint8_t{0});
    for (int c = 0; c < 4; ++c) {
      for (int l = 0; l < 32; ++l) {
        const int lo = L[64 * c + l];
        const int hi = L[64 * c + 32 + l];
        y[b].qs[32 * c + l] = static_cast<uint8_t>((lo & 0x0f) | ((hi & 0x0f) << 4));
        y[b].qh[l] |= static_cast<uint8_t>(((lo >> 4) << (2 * c)) | ((hi >> 4) << (2 * c + 1)));
      }
    }
  }
}

void DequantizeQ5_K(const BlockQ5_K* x, float* y, int64_t n) {
  for (int64_t b = 0; b < n / kQKK; ++b, y += kQKK) {
    const float d = Fp16ToFp32(x[b].d);
    const float dmin = Fp16ToFp32(x[b].dmin);
    for (int c = 0; c < 4; ++c) {
      uint8_t sc_lo, mn_lo, sc_hi, mn_hi;
      UnpackScaleMinK4(2 * c, x[b].scales, &sc_lo, &mn_lo);
      UnpackScaleMinK4(2 * c + 1, x[b].scales, &sc_hi, &mn_hi);
      for (int l = 0; l < 32; ++l) {
        const uint8_t byte = x[b].qs[32 * c + l];
        const int q_lo = (byte & 0x0f) | (((x[b].qh[l] >> (2 * c)) & 1) << 4);
        const int q_hi = (byte >> 4) | (((x[b].qh[l] >> (2 * c + 1)) & 1) << 4);
        y[64 * c + l] = d * sc_lo * q_lo - dmin * mn_lo;
        y[64 * c + 32 + l] = d * sc_hi * q_hi - dmin * mn_hi;
      }
    }
  }
}

void QuantizeQ6_K(const float* x, BlockQ6_K* y, int64_t n) {
  constexpr int kSub = 16;
  for (int64_t b = 0; b < n / kQKK; ++b, x += kQKK) {
    BlockQ6_K& out = y[b];
    float scales[kQKK / kSub];
    float max_scale = 0.0f;  // signed, of largest magnitude
    for (int j = 0; j < kQKK / kSub; ++j) {
      scales[j] = FitSymmetricScale(x + kSub * j, kSub, 32);
      if (std::fabs(scales[j]) > std::fabs(max_scale)) max_scale = scales[j];
    }
    if (std::fabs(max_scale) < kTinyGroup) {
      out = BlockQ6_K{};  // zero block: d = 0 decodes everything to 0
      continue;
    }
    // The largest scale maps to -128, as in the legacy symmetric formats.
    const float inv = -128.0f / max_scale;
    out.d = Fp32ToFp16(1.0f / inv);
    for (int j = 0; j < kQKK / kSub; ++j) {
      out.scales[j] = static_cast<int8_t>(std::min(127, NearestInt(inv * scales[j])));
    }

    uint8_t L[kQKK];
    const float d = Fp16ToFp32(out.d);
    for (int j = 0; j < kQKK / kSub; ++j) {
      const float ds = d * out.scales[j];
      for (int i = 0; i < kSub; ++i) {
        const int q = ds != 0.0f ? NearestInt(x[kSub * j + i] / ds) : 0;
        L[kSub * j + i] = static_cast<uint8_t>(std::clamp(q, -32, 31) + 32);
      }
    }
    for (int h = 0; h < 2; ++h) {
      const uint8_t* Lh = L + 128 * h;
      uint8_t* ql = out.ql + 64 * h;
      uint8_t* qh = out.qh + 32 * h;
      for (int l = 0; l < 32; ++l) {
        ql[l] = static_cast<uint8_t>((Lh[l] & 0x0f) | ((Lh[l + 64] & 0x0f) << 4));
        ql[l + 32] = static_cast<uint8_t>((Lh[l + 32] & 0x0f) | ((Lh[l + 96] & 0x0f) << 4));
        qh[l] = static_cast<uint8_t>((Lh[l] >> 4) | ((Lh[l + 32] >> 4) << 2) |
                                     ((Lh[l + 64] >> 4) << 4) | ((Lh[l + 96] >> 4) << 6));
      }
    }
  }
}

void DequantizeQ6_K(const BlockQ6_K* x, float* y, int64_t n) {
  for (int64_t b = 0; b < n / kQKK; ++b, y += kQKK) {
    const float d = Fp16ToFp32(x[b].d);
    for (int h = 0; h < 2; ++h) {
      const uint8_t* ql = x[b].ql + 64 * h;
      const uint8_t* qh = x[b].qh + 32 * h;
      float* yh = y + 128 * h;
      for (int l = 0; l < 32; ++l) {
        const int q[4] = {
            ((ql[l] & 0x0f) | (((qh[l] >> 0) & 3) << 4)) - 32,
            ((ql[l + 32] & 0x0f) | (((qh[l] >> 2) & 3) << 4)) - 32,
            ((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32,
            ((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32,
        };
        for (int k = 0; k < 4; ++k) {
          const int e = 128 * h + 32 * k + l;  // index within the super-block
          yh[32 * k + l] = d * x[b].scales[e / 16] * q[k];
        }
      }
    }
  }
}

void QuantizeQ8_K(const float* x, BlockQ8_K* y, int64_t n) {
  for (int64_t b = 0; b < n / kQKK; ++b, x += kQKK) {
    float amax = 0.0f;
    float max = 0.0f;
    for (int i = 0; i < kQKK; ++i) {
      if (std::fabs(x[i]) > amax) {
        amax = std::fabs(x[i]);
        max = x[i];
      }
    }
    if (amax == 0.0f) {
      y[b] = BlockQ8_K{};
      continue;
    }
    // The largest magnitude maps to -127 (not -128) so that -q never overflows.
    const float inv = -127.0f / max;
    for (int i = 0; i < kQKK; ++i)
      y[b].qs[i] = static_cast<int8_t>(std::min(127, NearestInt(inv * x[i])));
    for (int g = 0; g < kQKK / 16; ++g) {
      int sum = 0;
      for (int i = 0; i < 16; ++i) sum += y[b].qs[16 * g + i];
      y[b].bsums[g] = static_cast<int16_t>(sum);
    }
    y[b].d = 1.0f / inv;
  }
}

void DequantizeQ8_K(const BlockQ8_K* x, float* y, int64_t n) {
  for (int64_t b = 0; b < n / kQKK; ++b, y += kQKK) {
    for (int i = 0; i < kQKK; ++i) y[i] = x[b].d * x[b].qs[i];
  }
}

}  // namespace jarvis
