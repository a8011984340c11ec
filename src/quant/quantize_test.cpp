// Round-trip behaviour of every supported format on random and edge data.
// (Hand-built blocks with known values are in blocks_test.cpp.)
#include "quant/quantize.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "quant/fp16.h"

namespace jarvis {
namespace {

constexpr GgmlType kAllTypes[] = {
    GgmlType::kF32,  GgmlType::kF16,  GgmlType::kBF16, GgmlType::kQ4_0, GgmlType::kQ4_1,
    GgmlType::kQ5_0, GgmlType::kQ5_1, GgmlType::kQ8_0, GgmlType::kQ8_1, GgmlType::kQ4_K,
    GgmlType::kQ5_K, GgmlType::kQ6_K, GgmlType::kQ8_K, GgmlType::kQ3_K, GgmlType::kQ2_K,
    GgmlType::kIQ4_NL, GgmlType::kIQ4_XS,
};

std::vector<float> Gaussian(int64_t n, uint32_t seed, float sigma = 1.0f) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, sigma);
  std::vector<float> x(static_cast<size_t>(n));
  for (auto& v : x) v = dist(rng);
  return x;
}

std::vector<float> RoundTrip(GgmlType type, const std::vector<float>& x) {
  const auto n = static_cast<int64_t>(x.size());
  std::vector<uint8_t> bytes(RowSize(type, n));
  std::vector<float> y(x.size());
  EXPECT_TRUE(QuantizeRow(type, x.data(), bytes.data(), n).ok());
  EXPECT_TRUE(DequantizeRow(type, bytes.data(), y.data(), n).ok());
  return y;
}

// RMS error relative to the RMS of the input.
double RelativeRmse(const std::vector<float>& x, const std::vector<float>& y) {
  double err = 0.0;
  double ref = 0.0;
  for (size_t i = 0; i < x.size(); ++i) {
    err += (static_cast<double>(x[i]) - y[i]) * (static_cast<double>(x[i]) - y[i]);
    ref += static_cast<double>(x[i]) * x[i];
  }
  return ref > 0.0 ? std::sqrt(err / ref) : std::sqrt(err / static_cast<double>(x.size()));
}

// Bounds on relative RMSE for N(0,1) data, about 1.25x what the formats give
// (measured over 4 seeds: f16 0.021%, bf16 0.17%, q8_0 0.55%, q8_k 0.72%,
// q6_k 1.8%, q5_1 3.8%, q5_k 3.6%, q5_0 4.3%, q4_k 7.3%, q4_1 7.9%, q4_0 8.8%,
// iq4_nl 7.6%, iq4_xs 7.7%, q3_k 15.6%, q2_k 27.4%).
// A regression in a scale search shows up as a bound violation.
double ErrorBound(GgmlType type) {
  switch (type) {
    case GgmlType::kF32: return 0.0;
    case GgmlType::kF16: return 3e-4;
    case GgmlType::kBF16: return 2.2e-3;
    case GgmlType::kQ8_0: return 0.007;
    case GgmlType::kQ8_1: return 0.007;
    case GgmlType::kQ8_K: return 0.009;
    case GgmlType::kQ6_K: return 0.023;
    case GgmlType::kQ5_0: return 0.055;
    case GgmlType::kQ5_1: return 0.048;
    case GgmlType::kQ5_K: return 0.045;
    case GgmlType::kQ4_0: return 0.11;
    case GgmlType::kQ4_1: return 0.10;
    case GgmlType::kQ4_K: return 0.09;
    case GgmlType::kQ3_K: return 0.19;
    case GgmlType::kQ2_K: return 0.34;
    case GgmlType::kIQ4_NL: return 0.095;
    case GgmlType::kIQ4_XS: return 0.096;
    default: return 0.0;
  }
}

class QuantizeTypeTest : public testing::TestWithParam<GgmlType> {};

TEST_P(QuantizeTypeTest, GaussianRoundTripErrorIsBounded) {
  const GgmlType type = GetParam();
  const auto x = Gaussian(4096, 1234);
  const double err = RelativeRmse(x, RoundTrip(type, x));
  EXPECT_LE(err, ErrorBound(type)) << TypeName(type);
  // Scale invariance: weights of real models are ~0.02, not ~1.
  auto small = x;
  for (auto& v : small) v *= 0.02f;
  EXPECT_LE(RelativeRmse(small, RoundTrip(type, small)), ErrorBound(type) * 1.05 + 1e-6)
      << TypeName(type);
}

TEST_P(QuantizeTypeTest, ZerosStayZero) {
  const GgmlType type = GetParam();
  const std::vector<float> x(512, 0.0f);
  for (float v : RoundTrip(type, x)) ASSERT_EQ(v, 0.0f) << TypeName(type);
}

TEST_P(QuantizeTypeTest, ConstantRowsAreNearlyExact) {
  const GgmlType type = GetParam();
  // (Much smaller constants lose precision in the K formats because their fp16
  // super-scales become subnormal; weights of real models are ~0.02.)
  for (float c : {0.75f, -0.3f, 0.02f}) {
    const std::vector<float> x(512, c);
    const auto y = RoundTrip(type, x);
    for (float v : y) ASSERT_NEAR(v, c, std::fabs(c) * 0.01f) << TypeName(type) << " c=" << c;
  }
}

TEST_P(QuantizeTypeTest, OneHugeOutlierStaysFiniteAndClose) {
  const GgmlType type = GetParam();
  auto x = Gaussian(512, 99, 0.02f);
  x[77] = 50.0f;
  const auto y = RoundTrip(type, x);
  for (float v : y) ASSERT_TRUE(std::isfinite(v)) << TypeName(type);
  EXPECT_NEAR(y[77], 50.0f, 50.0f * 0.02f) << TypeName(type);
  // Blocks without the outlier are unaffected.
  const int64_t block = TypeTraits(type).block_size;
  const int64_t outlier_block = 77 / std::max<int64_t>(block, 256);
  std::vector<float> xs, ys;
  for (size_t i = 0; i < x.size(); ++i) {
    if (static_cast<int64_t>(i) / std::max<int64_t>(block, 256) == outlier_block) continue;
    xs.push_back(x[i]);
    ys.push_back(y[i]);
  }
  EXPECT_LE(RelativeRmse(xs, ys), ErrorBound(type) * 1.05 + 1e-6) << TypeName(type);
}

INSTANTIATE_TEST_SUITE_P(AllTypes, QuantizeTypeTest, testing::ValuesIn(kAllTypes),
                         [](const testing::TestParamInfo<GgmlType>& param_info) {
                           return std::string(TypeName(param_info.param));
                         });

TEST(QuantizeTest, RejectsRowLengthNotMultipleOfBlock) {
  for (GgmlType type : kAllTypes) {
    const int64_t block = TypeTraits(type).block_size;
    if (block == 1) continue;  // float formats take any length
    std::vector<float> x(static_cast<size_t>(block + 1), 1.0f);
    std::vector<uint8_t> bytes(RowSize(type, 2 * block));
    const Status s = QuantizeRow(type, x.data(), bytes.data(), block + 1);
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << TypeName(type);
    EXPECT_NE(s.message().find(TypeName(type)), std::string::npos) << s.message();
    EXPECT_EQ(DequantizeRow(type, bytes.data(), x.data(), block + 1).code(),
              StatusCode::kInvalidArgument);
  }
}

TEST(QuantizeTest, UnsupportedTypeIsNamed) {
  EXPECT_FALSE(CanQuantize(GgmlType::kIQ2_XXS));
  EXPECT_FALSE(CanDequantize(GgmlType::kIQ3_S));
  EXPECT_TRUE(CanQuantize(GgmlType::kQ6_K));
  std::vector<float> x(256, 1.0f);
  std::vector<uint8_t> bytes(1024);
  const Status q = QuantizeRow(GgmlType::kIQ2_XXS, x.data(), bytes.data(), 256);
  EXPECT_EQ(q.code(), StatusCode::kUnsupported);
  EXPECT_NE(q.message().find("iq2_xxs"), std::string::npos) << q.message();
  const Status d = DequantizeRow(GgmlType::kIQ2_S, bytes.data(), x.data(), 256);
  EXPECT_EQ(d.code(), StatusCode::kUnsupported);
  EXPECT_NE(d.message().find("iq2_s"), std::string::npos) << d.message();
}

// The low-bit formats rank by their bits per weight: Q2_K (2.6) worse than
// Q3_K (3.4) worse than Q4_K (4.5); the non-linear 4-bit grids (IQ4_NL 4.5,
// IQ4_XS 4.25) beat the linear Q4_0 (4.5) on Gaussian data.
TEST(QuantizeTest, LowBitErrorsRankByBits) {
  const auto x = Gaussian(8192, 21, 0.02f);
  auto err = [&](GgmlType t) { return RelativeRmse(x, RoundTrip(t, x)); };
  EXPECT_GT(err(GgmlType::kQ2_K), 1.5 * err(GgmlType::kQ3_K));
  EXPECT_GT(err(GgmlType::kQ3_K), 1.5 * err(GgmlType::kQ4_K));
  EXPECT_LT(err(GgmlType::kIQ4_NL), err(GgmlType::kQ4_0));
  EXPECT_LT(err(GgmlType::kIQ4_XS), err(GgmlType::kQ4_0));
}

// Quantizing what a format decoded gives back the same bytes: the decoded
// values lie exactly on the grid the quantizer picks again.
TEST(QuantizeTest, RequantizingDecodedDataIsIdempotent) {
  for (GgmlType type : {GgmlType::kQ8_0, GgmlType::kQ4_0, GgmlType::kQ4_1, GgmlType::kQ5_0,
                        GgmlType::kQ5_1, GgmlType::kF16, GgmlType::kBF16}) {
    const auto x = Gaussian(1024, 5, 0.05f);
    const auto n = static_cast<int64_t>(x.size());
    std::vector<uint8_t> first(RowSize(type, n));
    std::vector<uint8_t> second(RowSize(type, n));
    std::vector<float> decoded(x.size());
    ASSERT_TRUE(QuantizeRow(type, x.data(), first.data(), n).ok());
    ASSERT_TRUE(DequantizeRow(type, first.data(), decoded.data(), n).ok());
    ASSERT_TRUE(QuantizeRow(type, decoded.data(), second.data(), n).ok());
    EXPECT_EQ(first, second) << TypeName(type);
  }
}

TEST(QuantizeTest, Q8_0MatchesDirectFormula) {
  // d = amax / 127 stored as fp16; q = round(x / d_fp32).
  const auto x = Gaussian(64, 3);
  std::vector<BlockQ8_0> blocks(2);
  QuantizeQ8_0(x.data(), blocks.data(), 64);
  for (int b = 0; b < 2; ++b) {
    float amax = 0.0f;
    for (int i = 0; i < 32; ++i) amax = std::max(amax, std::fabs(x[32 * b + i]));
    const float d = amax / 127.0f;
    for (int i = 0; i < 32; ++i) {
      EXPECT_EQ(blocks[b].qs[i], static_cast<int>(std::round(x[32 * b + i] * (1.0f / d))));
    }
  }
}

TEST(QuantizeTest, Q8_1SumField) {
  const auto x = Gaussian(32, 8);
  BlockQ8_1 block;
  QuantizeQ8_1(x.data(), &block, 32);
  int sum = 0;
  for (int8_t q : block.qs) sum += q;
  float amax = 0.0f;
  for (float v : x) amax = std::max(amax, std::fabs(v));
  // s = d * sum(q) with the FP32 d, stored as fp16 (relative precision 2^-11).
  const float expected = static_cast<float>(sum) * (amax / 127.0f);
  EXPECT_NEAR(Fp16ToFp32(block.s), expected, std::fabs(expected) * 1e-3f);
  EXPECT_EQ(block.d, Fp32ToFp16(amax / 127.0f));
}

TEST(QuantizeTest, Q8_KBlockSums) {
  const auto x = Gaussian(512, 11);
  std::vector<BlockQ8_K> blocks(2);
  QuantizeQ8_K(x.data(), blocks.data(), 512);
  for (const auto& b : blocks) {
    bool has_extreme = false;
    for (int g = 0; g < 16; ++g) {
      int sum = 0;
      for (int i = 0; i < 16; ++i) {
        sum += b.qs[16 * g + i];
        has_extreme |= b.qs[16 * g + i] == -127 || b.qs[16 * g + i] == 127;
      }
      EXPECT_EQ(b.bsums[g], sum);
    }
    EXPECT_TRUE(has_extreme);  // the largest magnitude maps to +-127
  }
}

}  // namespace
}  // namespace jarvis
