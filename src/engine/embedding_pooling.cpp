#include "engine/embedding_pooling.h"

#include <cmath>
#include <vector>

namespace jarvis {

void PoolAndNormalize(Pooling pooling, const float* hidden, int32_t n_tokens, int32_t width, float* out) {
  std::vector<double> pooled(static_cast<size_t>(width), 0.0);
  if (pooling == Pooling::kMean) {
    for (int32_t t = 0; t < n_tokens; ++t) {
      const float* row = hidden + static_cast<int64_t>(t) * width;
      for (int32_t i = 0; i < width; ++i) pooled[static_cast<size_t>(i)] += row[i];
    }
    for (double& v : pooled) v /= static_cast<double>(n_tokens);
  } else {
    const int32_t t = pooling == Pooling::kCls ? 0 : n_tokens - 1;
    const float* row = hidden + static_cast<int64_t>(t) * width;
    for (int32_t i = 0; i < width; ++i) pooled[static_cast<size_t>(i)] = row[i];
  }
  double sum_sq = 0.0;
  for (double v : pooled) sum_sq += v * v;
  // A zero vector has no direction: it stays zero rather than becoming NaN.
  const double inv = sum_sq > 0.0 ? 1.0 / std::sqrt(sum_sq) : 0.0;
  for (int32_t i = 0; i < width; ++i) out[i] = static_cast<float>(pooled[static_cast<size_t>(i)] * inv);
}

}  // namespace jarvis
