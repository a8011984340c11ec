// Scale searches shared by the reference quantizers of the K and low-bit
// formats (quant_k.cpp, quant_k_low.cpp): each fits one group of values.
//
// Thread safety: pure functions.
#pragma once

#include <cstdint>

namespace jarvis::quant_fit {

// Values below this magnitude count as zero when fitting a group.
inline constexpr float kTinyGroup = 1e-15f;

// Grid densities tried by FitScaleAndOffset: nmax + first_step + k * step_size
// levels over the group's range, k = 0..steps.
struct GridSearch {
  float first_step;
  float step_size;
  int steps;
};

// Fits x[i] ~= scale * L[i] - offset with L[i] in 0..nmax and offset >= 0,
// minimizing sum w[i] * (scale * L[i] - offset - x[i])^2. Writes L (n <= 256)
// and the offset; returns the scale.
float FitScaleAndOffset(const float* x, const float* w, int n, int nmax, GridSearch search, uint8_t* L,
                        float* offset_out);

// FitScaleAndOffset on each sub-block of `sub` values of x[0..n) (a K-format
// super-block: n = 256, sub = 16 or 32), weighting each value by its
// magnitude floored by its sub-block's RMS, so small values still count.
// Writes scales and offsets (n / sub each) and the quants L[n]; returns the
// largest scale and the largest offset.
struct SubBlockFit {
  float max_scale = 0.0f;
  float max_offset = 0.0f;
};
SubBlockFit FitSubBlocks(const float* x, int n, int sub, int nmax, GridSearch search, float* scales, float* offsets,
                         uint8_t* L);

// Best signed scale for x[i] ~= scale * l[i], l in -nmax..nmax-1, weighting
// each value by x[i]^2; 0 for an all-zero group.
float FitSymmetricScale(const float* x, int n, int nmax);

}  // namespace jarvis::quant_fit
