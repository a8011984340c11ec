// The BF16 dot-product path (WeightMatrix::bf16_dot, matmul_avx512bf16.cpp)
// against a double-precision model of what it promises to compute: the
// product of the BF16-rounded weights and BF16-rounded activations; and its
// determinism contract (a token's outputs do not depend on the batch or the
// thread count). Skipped on CPUs without AVX-512 BF16.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include "kernels/cpu/isa.h"
#include "kernels/cpu/matmul.h"
#include "kernels/cpu/matmul_test_util.h"
#include "quant/fp16.h"
#include "quant/quantize.h"
#include "util/cpu_features.h"

namespace jarvis {
namespace {

// Round to the nearest BF16, ties to even, as a float (the GGUF conversion).
float RoundToBf16(float v) { return Bf16ToFp32(Fp32ToBf16(v)); }

struct Bf16Case {
  GgmlType type;
  int64_t rows, cols;
  std::vector<uint8_t> bytes;
  std::vector<float> weights;  // the stored values, widened to float
  WeightMatrix w;

  Bf16Case(GgmlType t, int64_t r, int64_t c, uint32_t seed) : type(t), rows(r), cols(c) {
    std::mt19937 rng(seed);
    std::normal_distribution<float> normal(0.0f, 1.0f);
    const size_t row_bytes = RowSize(type, cols);
    bytes.resize(row_bytes * static_cast<size_t>(rows));
    weights.resize(static_cast<size_t>(rows * cols));
    std::vector<float> row(static_cast<size_t>(cols));
    for (int64_t i = 0; i < rows; ++i) {
      const float scale = 0.02f * static_cast<float>(1 + i % 5);
      for (float& v : row) v = normal(rng) * scale;
      EXPECT_TRUE(QuantizeRow(type, row.data(), bytes.data() + i * row_bytes, cols).ok());
      EXPECT_TRUE(DequantizeRow(type, bytes.data() + i * row_bytes, weights.data() + i * cols, cols).ok());
    }
    w = {type, bytes.data(), rows, cols, row_bytes};
    w.bf16_dot = true;
  }
};

std::vector<float> Activations(int64_t n, int64_t cols, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> x(static_cast<size_t>(n * cols));
  for (float& v : x) v = normal(rng);
  for (size_t i = 5; i < x.size(); i += 89) x[i] *= 10.0f;  // outliers
  return x;
}

class Bf16DotTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!GetCpuFeatures().avx512bf16 || !CpuSupportsIsa(KernelIsa::kAvx512)) {
      GTEST_SKIP() << "CPU lacks AVX-512 BF16";
    }
  }
  ScopedKernelIsa pin_{KernelIsa::kAvx512};
};

// Each output equals the exact sum of products of the BF16-rounded operands
// up to F32 accumulation (one rounding per pair step): this pins down the
// panel layout, the F16 widening, the rounding and the odd-column tail.
TEST_F(Bf16DotTest, ComputesTheProductOfTheBf16RoundedOperands) {
  ThreadPool pool(2);
  for (GgmlType type : {GgmlType::kF16, GgmlType::kBF16}) {
    for (int64_t cols : {2, 40, 64, 101, 768}) {
      Bf16Case c(type, 45, cols, static_cast<uint32_t>(cols));
      ASSERT_TRUE(UsesBf16Dot(c.w));
      for (int64_t n : {1, 7, 13}) {
        const std::vector<float> x = Activations(n, cols, static_cast<uint32_t>(7 * n + cols));
        std::vector<float> y(static_cast<size_t>(n * c.rows), -1.0f);
        MatMul(c.w, x.data(), n, y.data(), pool);
        for (int64_t t = 0; t < n; ++t) {
          for (int64_t r = 0; r < c.rows; ++r) {
            double exact = 0.0, sum_abs = 0.0;
            for (int64_t k = 0; k < cols; ++k) {
              const double p = static_cast<double>(RoundToBf16(c.weights[r * cols + k])) * RoundToBf16(x[t * cols + k]);
              exact += p;
              sum_abs += std::fabs(p);
            }
            const double bound = 2.0 * static_cast<double>(cols) * 6e-8 * sum_abs + 1e-6;
            ASSERT_NEAR(y[static_cast<size_t>(t * c.rows + r)], exact, bound)
                << TypeName(type) << " cols " << cols << " n " << n << " t " << t << " r " << r;
          }
        }
      }
    }
  }
}

// Against the unrounded product: BF16 keeps 8 significant bits, so each
// product moves by up to ~2^-8 relative, mostly cancelling over a row.
TEST_F(Bf16DotTest, StaysCloseToF32Arithmetic) {
  ThreadPool pool(1);
  const int64_t rows = 64, cols = 768, n = 6;
  Bf16Case c(GgmlType::kF16, rows, cols, 3);
  const std::vector<float> x = Activations(n, cols, 4);
  std::vector<float> y(static_cast<size_t>(n * rows));
  MatMul(c.w, x.data(), n, y.data(), pool);
  EXPECT_LT(test::RelativeErrorToExact(c.weights, rows, cols, x, n, y), 4e-3);
}

// A token's outputs are bit-identical alone, in batches of any size (across
// the kernel's token tiles of 12 and blocks of 384) and on 1 or 2 threads,
// with row counts that leave a partial panel of 32.
TEST_F(Bf16DotTest, BatchAndThreadInvariant) {
  const int64_t rows = 77, cols = 96, n = 400;
  Bf16Case c(GgmlType::kF16, rows, cols, 9);
  const std::vector<float> x = Activations(n, cols, 10);
  ThreadPool one(1), two(2);
  std::vector<float> alone(static_cast<size_t>(n * rows));
  for (int64_t t = 0; t < n; ++t) MatMul(c.w, x.data() + t * cols, 1, alone.data() + t * rows, one);
  std::vector<float> got(alone.size());
  for (ThreadPool* pool : {&one, &two}) {
    for (int64_t batch : {2, 5, 11, 12, 13, 25, 40, 384, 385, 400}) {
      std::fill(got.begin(), got.end(), -1.0f);
      for (int64_t t0 = 0; t0 < n; t0 += batch) {
        MatMul(c.w, x.data() + t0 * cols, std::min(batch, n - t0), got.data() + t0 * rows, *pool);
      }
      ASSERT_EQ(got, alone) << "batch " << batch << ", " << pool->size() << " threads";
    }
  }
}

// Only matrices that ask for it, of F16 / BF16 type, under the avx512 / amx
// kernels: everything else keeps its usual path.
TEST_F(Bf16DotTest, OnlyWhereAsked) {
  Bf16Case f16(GgmlType::kF16, 16, 64, 1);
  EXPECT_TRUE(UsesBf16Dot(f16.w));
  f16.w.bf16_dot = false;
  EXPECT_FALSE(UsesBf16Dot(f16.w));
  Bf16Case q8(GgmlType::kQ8_0, 16, 64, 2);
  q8.w.bf16_dot = true;
  EXPECT_FALSE(UsesBf16Dot(q8.w));
  Bf16Case f32(GgmlType::kF32, 16, 64, 3);
  f32.w.bf16_dot = true;
  EXPECT_FALSE(UsesBf16Dot(f32.w));
  f16.w.bf16_dot = true;
  for (KernelIsa isa : {KernelIsa::kScalar, KernelIsa::kAvx2}) {
    ScopedKernelIsa other(isa);
    ASSERT_TRUE(other.ok());
    EXPECT_FALSE(UsesBf16Dot(f16.w)) << KernelIsaName(isa);
  }
}

}  // namespace
}  // namespace jarvis
