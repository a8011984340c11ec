// Test helpers shared by the CPU matmul tests (matmul_test.cpp,
// matmul_bf16_dot_test.cpp). Header-only; tests only.
#pragma once

#include <cmath>
#include <cstdint>
#include <vector>

namespace jarvis::test {

// The relative error of y (n tokens x rows outputs) against the exact
// product of the row-major weights (rows x cols) and x (n x cols), summed in
// double precision: sqrt(sum (y - exact)^2 / sum exact^2).
inline double RelativeErrorToExact(const std::vector<float>& weights, int64_t rows, int64_t cols,
                                   const std::vector<float>& x, int64_t n, const std::vector<float>& y) {
  double err2 = 0.0, ref2 = 0.0;
  for (int64_t t = 0; t < n; ++t) {
    for (int64_t r = 0; r < rows; ++r) {
      double exact = 0.0;
      for (int64_t k = 0; k < cols; ++k) {
        exact += static_cast<double>(weights[static_cast<size_t>(r * cols + k)]) * x[static_cast<size_t>(t * cols + k)];
      }
      const double d = y[static_cast<size_t>(t * rows + r)] - exact;
      err2 += d * d;
      ref2 += exact * exact;
    }
  }
  return std::sqrt(err2 / ref2);
}

}  // namespace jarvis::test
