#include "kernels/cpu/ops.h"

#include <algorithm>
#include <cmath>

#include "kernels/cpu/isa.h"
#include "kernels/cpu/ops_isa.h"

namespace jarvis {
namespace {

// Scalar references of the operations that have vector versions.
void SiluMulScalar(float* x, const float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) x[i] = x[i] / (1.0f + std::exp(-x[i])) * y[i];
}

void GeluTanhMulScalar(float* x, const float* y, int64_t n) {
  constexpr float kSqrt2OverPi = 0.7978845608028654f;
  for (int64_t i = 0; i < n; ++i) {
    const float v = x[i];
    x[i] = 0.5f * v * (1.0f + std::tanh(kSqrt2OverPi * (v + 0.044715f * v * v * v))) * y[i];
  }
}

void GeluTanhScalar(float* x, int64_t n) {
  constexpr float kSqrt2OverPi = 0.7978845608028654f;
  for (int64_t i = 0; i < n; ++i) {
    const float v = x[i];
    x[i] = 0.5f * v * (1.0f + std::tanh(kSqrt2OverPi * (v + 0.044715f * v * v * v)));
  }
}

void SoftmaxScalar(float* x, int64_t n) {
  const float max = *std::max_element(x, x + n);  // subtract the max: exp cannot overflow
  float sum = 0.0f;
  for (int64_t i = 0; i < n; ++i) {
    x[i] = std::exp(x[i] - max);
    sum += x[i];
  }
  const float inv = 1.0f / sum;
  for (int64_t i = 0; i < n; ++i) x[i] *= inv;
}

}  // namespace

void RmsNorm(const float* x, const float* weight, int64_t n, float eps, float* out) {
  double sum_sq = 0.0;  // double: the mean of squares of 4096 values loses bits in float
  for (int64_t i = 0; i < n; ++i) sum_sq += static_cast<double>(x[i]) * x[i];
  const float scale = static_cast<float>(1.0 / std::sqrt(sum_sq / static_cast<double>(n) + eps));
  for (int64_t i = 0; i < n; ++i) out[i] = x[i] * scale * weight[i];
}

void ApplyRope(float* heads, int32_t n_heads, int32_t head_dim, int32_t pos, const RopeParams& p) {
  const int32_t half = p.n_rot / 2;
  const float position = static_cast<float>(pos) * p.freq_scale;
  for (int32_t i = 0; i < half; ++i) {
    // theta_i = pos / base^(2i / n_rot), optionally divided by a per-frequency factor.
    const float freq = 1.0f / std::pow(p.freq_base, static_cast<float>(2 * i) / static_cast<float>(p.n_rot));
    float theta = position * freq;
    if (p.freq_factors != nullptr) theta /= p.freq_factors[i];
    const float c = std::cos(theta) * p.attn_factor;  // exact when attn_factor is 1
    const float s = std::sin(theta) * p.attn_factor;
    for (int32_t h = 0; h < n_heads; ++h) {
      float* v = heads + static_cast<int64_t>(h) * head_dim;
      const int32_t a = p.style == RopeStyle::kInterleaved ? 2 * i : i;
      const int32_t b = p.style == RopeStyle::kInterleaved ? 2 * i + 1 : i + half;
      const float x0 = v[a];
      const float x1 = v[b];
      v[a] = x0 * c - x1 * s;
      v[b] = x0 * s + x1 * c;
    }
  }
}

void GeluTanhMul(float* x, const float* y, int64_t n) {
  switch (ActiveKernelIsa()) {
    case KernelIsa::kAvx512:
    case KernelIsa::kAmx:
      return kernels_internal::avx512::GeluTanhMul(x, y, n);
    case KernelIsa::kAvx2:
      return kernels_internal::avx2::GeluTanhMul(x, y, n);
    case KernelIsa::kScalar:
      break;
  }
  GeluTanhMulScalar(x, y, n);
}

void GeluTanh(float* x, int64_t n) {
  switch (ActiveKernelIsa()) {
    case KernelIsa::kAvx512:
    case KernelIsa::kAmx:
      return kernels_internal::avx512::GeluTanh(x, n);
    case KernelIsa::kAvx2:
      return kernels_internal::avx2::GeluTanh(x, n);
    case KernelIsa::kScalar:
      break;
  }
  GeluTanhScalar(x, n);
}

void LayerNorm(const float* x, const float* weight, const float* bias, int64_t n, float eps, float* out) {
  // Two passes in double: the mean first, then the centered squares (one
  // pass of E[x^2] - E[x]^2 cancels badly when the mean is large). Per row,
  // O(n): nothing next to the matmuls around it.
  double sum = 0.0;
  for (int64_t i = 0; i < n; ++i) sum += x[i];
  const double mean = sum / static_cast<double>(n);
  double sum_sq = 0.0;
  for (int64_t i = 0; i < n; ++i) {
    const double c = x[i] - mean;
    sum_sq += c * c;
  }
  const float scale = static_cast<float>(1.0 / std::sqrt(sum_sq / static_cast<double>(n) + eps));
  const float m = static_cast<float>(mean);
  for (int64_t i = 0; i < n; ++i) {
    const float y = (x[i] - m) * scale * weight[i];
    out[i] = bias != nullptr ? y + bias[i] : y;
  }
}

void ScaleInPlace(float* x, int64_t n, float s) {
  for (int64_t i = 0; i < n; ++i) x[i] *= s;
}

void SiluMul(float* x, const float* y, int64_t n) {
  switch (ActiveKernelIsa()) {
    case KernelIsa::kAvx512:
    case KernelIsa::kAmx:
      return kernels_internal::avx512::SiluMul(x, y, n);
    case KernelIsa::kAvx2:
      return kernels_internal::avx2::SiluMul(x, y, n);
    case KernelIsa::kScalar:
      break;
  }
  SiluMulScalar(x, y, n);
}

void Softmax(float* x, int64_t n) {
  switch (ActiveKernelIsa()) {
    case KernelIsa::kAvx512:
    case KernelIsa::kAmx:
      return kernels_internal::avx512::Softmax(x, n);
    case KernelIsa::kAvx2:
      return kernels_internal::avx2::Softmax(x, n);
    case KernelIsa::kScalar:
      break;
  }
  SoftmaxScalar(x, n);
}

void AddInPlace(float* x, const float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) x[i] += y[i];
}

}  // namespace jarvis
