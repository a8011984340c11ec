// The vector row operations and attention on every ISA this CPU has, against
// the scalar versions.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "kernels/cpu/attention.h"
#include "kernels/cpu/isa.h"
#include "kernels/cpu/ops.h"

namespace jarvis {
namespace {

std::vector<float> Random(size_t n, float scale, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, scale);
  std::vector<float> v(n);
  for (auto& x : v) x = normal(rng);
  return v;
}

class VectorOpsTest : public ::testing::TestWithParam<KernelIsa> {
 protected:
  void SetUp() override {
    if (!CpuSupportsIsa(GetParam())) GTEST_SKIP() << "CPU lacks " << KernelIsaName(GetParam());
  }
};

TEST_P(VectorOpsTest, SiluMulMatchesScalar) {
  for (size_t n : {1u, 7u, 16u, 100u, 8192u}) {
    std::vector<float> x = Random(n, 4.0f, 1), y = Random(n, 1.0f, 2);
    x[0] = -100.0f;  // exp(100) overflows a naive silu
    if (n > 1) x[1] = 95.0f;
    std::vector<float> ref = x, got = x;
    {
      ScopedKernelIsa pin(KernelIsa::kScalar);
      SiluMul(ref.data(), y.data(), static_cast<int64_t>(n));
    }
    ScopedKernelIsa pin(GetParam());
    SiluMul(got.data(), y.data(), static_cast<int64_t>(n));
    for (size_t i = 0; i < n; ++i) ASSERT_NEAR(got[i], ref[i], 1e-6f * (1.0f + std::fabs(ref[i]))) << i;
  }
}

TEST_P(VectorOpsTest, GeluTanhMulMatchesScalar) {
  for (size_t n : {1u, 7u, 16u, 100u, 8192u}) {
    std::vector<float> x = Random(n, 3.0f, 3), y = Random(n, 1.0f, 4);
    x[0] = -100.0f;  // the tanh saturates: gelu -> -0
    if (n > 2) {
      x[1] = 95.0f;  // gelu -> x
      x[2] = -4.5f;  // the tail, where exp(-2u) is large but finite
    }
    std::vector<float> ref = x, got = x;
    {
      ScopedKernelIsa pin(KernelIsa::kScalar);
      GeluTanhMul(ref.data(), y.data(), static_cast<int64_t>(n));
    }
    ScopedKernelIsa pin(GetParam());
    GeluTanhMul(got.data(), y.data(), static_cast<int64_t>(n));
    for (size_t i = 0; i < n; ++i) ASSERT_NEAR(got[i], ref[i], 2e-6f * (1.0f + std::fabs(ref[i]))) << i;
  }
}

TEST_P(VectorOpsTest, GeluTanhMatchesScalar) {
  for (size_t n : {1u, 7u, 16u, 100u, 8192u}) {
    std::vector<float> x = Random(n, 3.0f, 5);
    x[0] = -100.0f;
    if (n > 2) {
      x[1] = 95.0f;
      x[2] = -4.5f;
    }
    std::vector<float> ref = x, got = x;
    {
      ScopedKernelIsa pin(KernelIsa::kScalar);
      GeluTanh(ref.data(), static_cast<int64_t>(n));
    }
    ScopedKernelIsa pin(GetParam());
    GeluTanh(got.data(), static_cast<int64_t>(n));
    for (size_t i = 0; i < n; ++i) ASSERT_NEAR(got[i], ref[i], 2e-6f * (1.0f + std::fabs(ref[i]))) << i;
  }
}

// Whole-sequence attention (the embedding pass) on the vector path against
// the scalar one, and the scalar one against the attention of one query over
// the same rows written out here (softmax of scaled dots, weighted sum).
TEST_P(VectorOpsTest, AttentionDenseMatchesScalar) {
  for (int32_t head_dim : {32, 64, 20}) {
    for (int32_t n : {1, 5, 17, 70}) {
      const int64_t stride = 3 * head_dim + 7;  // rows wider than the head, as in a multi-head buffer
      const std::vector<float> q = Random(static_cast<size_t>(n * stride), 1.0f, 11);
      const std::vector<float> k = Random(static_cast<size_t>(n * stride), 1.0f, 12);
      const std::vector<float> v = Random(static_cast<size_t>(n * stride), 1.0f, 13);
      const float scale = 1.0f / std::sqrt(static_cast<float>(head_dim));
      std::vector<float> kt(static_cast<size_t>(head_dim * n)), scores(static_cast<size_t>(n));
      std::vector<float> ref(static_cast<size_t>(n * stride), 0.0f), got = ref;
      {
        ScopedKernelIsa pin(KernelIsa::kScalar);
        AttentionDense(q.data(), stride, k.data(), v.data(), stride, n, head_dim, scale, 0.0f, kt.data(),
                       scores.data(), ref.data(), stride);
      }
      ScopedKernelIsa pin(GetParam());
      AttentionDense(q.data(), stride, k.data(), v.data(), stride, n, head_dim, scale, 0.0f, kt.data(),
                     scores.data(), got.data(), stride);
      for (int32_t i = 0; i < n; ++i) {
        // The last query by hand, in double.
        std::vector<double> w(static_cast<size_t>(n));
        double max = -1e30, sum = 0.0;
        for (int32_t j = 0; j < n; ++j) {
          double dot = 0.0;
          for (int32_t d = 0; d < head_dim; ++d) dot += static_cast<double>(q[i * stride + d]) * k[j * stride + d];
          w[static_cast<size_t>(j)] = dot * scale;
          max = std::max(max, w[static_cast<size_t>(j)]);
        }
        for (double& e : w) sum += (e = std::exp(e - max));
        for (int32_t d = 0; d < head_dim; ++d) {
          double want = 0.0;
          for (int32_t j = 0; j < n; ++j) want += w[static_cast<size_t>(j)] / sum * v[j * stride + d];
          const size_t at = static_cast<size_t>(i * stride + d);
          ASSERT_NEAR(ref[at], want, 1e-5) << "scalar n " << n << " head_dim " << head_dim;
          ASSERT_NEAR(got[at], ref[at], 2e-6f) << "n " << n << " head_dim " << head_dim << " i " << i << " d " << d;
        }
        EXPECT_EQ(got[static_cast<size_t>(i * stride + head_dim)], 0.0f);  // nothing beyond the head written
      }
    }
  }
}

TEST_P(VectorOpsTest, SoftmaxMatchesScalar) {
  for (size_t n : {1u, 5u, 16u, 17u, 513u}) {
    std::vector<float> x = Random(n, 3.0f, static_cast<uint32_t>(n));
    std::vector<float> ref = x, got = x;
    {
      ScopedKernelIsa pin(KernelIsa::kScalar);
      Softmax(ref.data(), static_cast<int64_t>(n));
    }
    ScopedKernelIsa pin(GetParam());
    Softmax(got.data(), static_cast<int64_t>(n));
    double sum = 0.0;
    for (size_t i = 0; i < n; ++i) {
      ASSERT_NEAR(got[i], ref[i], 1e-6f * (1e-3f + ref[i])) << i;
      sum += got[i];
    }
    EXPECT_NEAR(sum, 1.0, 1e-5);
  }
}

// Attention over a paged cache whose blocks are out of order, for head sizes
// with and without a vector tail, F16 and F32.
TEST_P(VectorOpsTest, AttentionHeadMatchesScalar) {
  for (bool f16 : {true, false}) {
    for (int32_t head_dim : {8, 64, 100, 128}) {
      const int32_t n_heads = 2, block = 4, n_pos = 37;
      const int32_t n_blocks = (n_pos + block - 1) / block;
      const size_t row_bytes = static_cast<size_t>(n_heads * head_dim) * (f16 ? 2 : 4);
      std::vector<uint8_t> pool(static_cast<size_t>(n_blocks) * 2 * block * row_bytes);
      std::vector<int32_t> table(static_cast<size_t>(n_blocks));
      for (int32_t b = 0; b < n_blocks; ++b) table[static_cast<size_t>(b)] = (b * 3) % n_blocks;
      KvRows k{pool.data(), 2 * block * row_bytes, 0, row_bytes, block, table.data(), f16};
      KvRows v = k;
      v.layer_offset = block * row_bytes;
      ScopedKernelIsa scalar(KernelIsa::kScalar);
      for (int32_t p = 0; p < n_pos; ++p) {
        const auto kr = Random(static_cast<size_t>(n_heads * head_dim), 1.0f, static_cast<uint32_t>(2 * p));
        const auto vr = Random(static_cast<size_t>(n_heads * head_dim), 1.0f, static_cast<uint32_t>(2 * p + 1));
        StoreKvRow(kr.data(), n_heads * head_dim, f16, const_cast<uint8_t*>(k.row(p)));
        StoreKvRow(vr.data(), n_heads * head_dim, f16, const_cast<uint8_t*>(v.row(p)));
      }
      const auto q = Random(static_cast<size_t>(head_dim), 1.0f, 99);
      for (int32_t len : {1, 5, n_pos}) {
        std::vector<float> scores(static_cast<size_t>(n_pos)), ref(static_cast<size_t>(head_dim)), got(ref.size());
        const float scale = 1.0f / std::sqrt(static_cast<float>(head_dim));
        AttentionHead(q.data(), k, v, 1, head_dim, len, scale, scores.data(), ref.data());
        {
          ScopedKernelIsa pin(GetParam());
          AttentionHead(q.data(), k, v, 1, head_dim, len, scale, scores.data(), got.data());
        }
        for (int32_t d = 0; d < head_dim; ++d) {
          ASSERT_NEAR(got[static_cast<size_t>(d)], ref[static_cast<size_t>(d)], 2e-5f)
              << (f16 ? "f16" : "f32") << " head_dim " << head_dim << " len " << len << " d " << d;
        }
      }
    }
  }
}

// AttentionGroup gives each query head exactly AttentionHead's bits, for
// group sizes below, at and above the kernels' pass of 8 heads, head sizes
// with and without a fixed-size kernel, and lengths around the chunk sizes.
TEST_P(VectorOpsTest, AttentionGroupIsBitIdenticalPerHead) {
  for (bool f16 : {true, false}) {
    for (int32_t head_dim : {64, 40, 128}) {
      const int32_t n_kv_heads = 2, block = 16, n_pos = 70;
      const int32_t n_blocks = (n_pos + block - 1) / block;
      const size_t row_bytes = static_cast<size_t>(n_kv_heads * head_dim) * (f16 ? 2 : 4);
      std::vector<uint8_t> pool(static_cast<size_t>(n_blocks) * 2 * block * row_bytes);
      std::vector<int32_t> table(static_cast<size_t>(n_blocks));
      for (int32_t b = 0; b < n_blocks; ++b) table[static_cast<size_t>(b)] = n_blocks - 1 - b;
      KvRows k{pool.data(), 2 * block * row_bytes, 0, row_bytes, block, table.data(), f16};
      KvRows v = k;
      v.layer_offset = block * row_bytes;
      for (int32_t p = 0; p < n_pos; ++p) {
        const auto kr = Random(static_cast<size_t>(n_kv_heads * head_dim), 1.0f, static_cast<uint32_t>(7 * p));
        const auto vr = Random(static_cast<size_t>(n_kv_heads * head_dim), 1.0f, static_cast<uint32_t>(7 * p + 1));
        StoreKvRow(kr.data(), n_kv_heads * head_dim, f16, const_cast<uint8_t*>(k.row(p)));
        StoreKvRow(vr.data(), n_kv_heads * head_dim, f16, const_cast<uint8_t*>(v.row(p)));
      }
      ScopedKernelIsa pin(GetParam());
      const float scale = 1.0f / std::sqrt(static_cast<float>(head_dim));
      for (int32_t group : {1, 4, 7, 8, 10}) {
        const auto q = Random(static_cast<size_t>(group * head_dim), 1.0f, static_cast<uint32_t>(group));
        for (int32_t len : {1, 3, 16, 17, 35, n_pos}) {
          std::vector<float> scores(static_cast<size_t>(group * n_pos));
          std::vector<float> grouped(static_cast<size_t>(group * head_dim), -1.0f), alone(grouped.size(), -2.0f);
          AttentionGroup(q.data(), group, k, v, 1, head_dim, len, scale, scores.data(), grouped.data());
          for (int32_t h = 0; h < group; ++h) {
            AttentionHead(q.data() + h * head_dim, k, v, 1, head_dim, len, scale, scores.data(),
                          alone.data() + h * head_dim);
          }
          ASSERT_EQ(grouped, alone) << (f16 ? "f16" : "f32") << " head_dim " << head_dim << " group " << group
                                    << " len " << len;
        }
      }
    }
  }
}

// A sliding window (rows read from KvRows::first) and soft-capped scores
// against a double-precision computation over the same rows, on every ISA and
// the scalar path; long views fold several kAttentionChunk partials, whose
// boundaries (absolute positions) fall inside the view when first > 0.
TEST_P(VectorOpsTest, WindowedSoftcappedAttentionMatchesDirectSum) {
  static_assert(kAttentionChunk < 700, "the long case must span several chunks");
  for (int32_t head_dim : {64, 40}) {
    for (int32_t n_pos : {50, 700}) {
      const int32_t block = 16;
      const int32_t n_blocks = (n_pos + block - 1) / block;
      const size_t row_bytes = static_cast<size_t>(head_dim) * 4;
      std::vector<uint8_t> pool(static_cast<size_t>(n_blocks) * 2 * block * row_bytes);
      std::vector<int32_t> table(static_cast<size_t>(n_blocks));
      for (int32_t b = 0; b < n_blocks; ++b) table[static_cast<size_t>(b)] = n_blocks - 1 - b;
      KvRows k{pool.data(), 2 * block * row_bytes, 0, row_bytes, block, table.data(), false};
      KvRows v = k;
      v.layer_offset = block * row_bytes;
      std::vector<std::vector<float>> keys, values;
      for (int32_t p = 0; p < n_pos; ++p) {
        keys.push_back(Random(static_cast<size_t>(head_dim), 2.0f, static_cast<uint32_t>(3 * p + 1)));
        values.push_back(Random(static_cast<size_t>(head_dim), 1.0f, static_cast<uint32_t>(3 * p + 2)));
        StoreKvRow(keys.back().data(), head_dim, false, const_cast<uint8_t*>(k.row(p)));
        StoreKvRow(values.back().data(), head_dim, false, const_cast<uint8_t*>(v.row(p)));
      }
      const auto q = Random(static_cast<size_t>(head_dim), 2.0f, 5);
      const float scale = 1.0f / std::sqrt(static_cast<float>(head_dim)), cap = 1.5f;
      for (int32_t first : {0, 7, 33, 300, 513}) {
        if (first >= n_pos) continue;
        const int32_t len = n_pos - first;
        std::vector<double> w(static_cast<size_t>(len));
        double max = -1e300, sum = 0.0;
        for (int32_t r = 0; r < len; ++r) {
          double dot = 0.0;
          for (int32_t d = 0; d < head_dim; ++d) dot += static_cast<double>(q[d]) * keys[first + r][d];
          w[r] = cap * std::tanh(dot * scale / cap);
          max = std::max(max, w[r]);
        }
        for (double& x : w) sum += (x = std::exp(x - max));
        KvRows kw = k, vw = v;
        kw.first = vw.first = first;
        for (KernelIsa isa : {KernelIsa::kScalar, GetParam()}) {
          std::vector<float> scores(static_cast<size_t>(n_pos)), got(static_cast<size_t>(head_dim));
          ScopedKernelIsa pin(isa);
          AttentionHead(q.data(), kw, vw, 0, head_dim, len, scale, scores.data(), got.data(), cap);
          for (int32_t d = 0; d < head_dim; ++d) {
            double want = 0.0;
            for (int32_t r = 0; r < len; ++r) want += w[r] / sum * values[first + r][d];
            ASSERT_NEAR(got[d], want, 2e-5) << KernelIsaName(isa) << " head_dim " << head_dim << " n_pos " << n_pos
                                            << " first " << first << " d " << d;
          }
        }
      }
    }
  }
}

TEST(OpsTest, GeluTanhMulAndSoftcap) {
  std::vector<float> x = {-3.0f, -0.5f, 0.0f, 0.7f, 4.0f}, y = {1.0f, 2.0f, 3.0f, -1.0f, 0.5f};
  std::vector<float> g = x;
  GeluTanhMul(g.data(), y.data(), static_cast<int64_t>(g.size()));
  for (size_t i = 0; i < x.size(); ++i) {
    const double a = x[i];
    const double want = 0.5 * a * (1.0 + std::tanh(std::sqrt(2.0 / M_PI) * (a + 0.044715 * a * a * a))) * y[i];
    EXPECT_NEAR(g[i], want, 1e-6) << i;
  }
  std::vector<float> s = {-100.0f, -1.0f, 0.0f, 2.0f, 1e6f};
  SoftcapInPlace(s.data(), static_cast<int64_t>(s.size()), 30.0f);
  EXPECT_NEAR(s[0], 30.0 * std::tanh(-100.0 / 30.0), 1e-5);
  EXPECT_NEAR(s[1], 30.0 * std::tanh(-1.0 / 30.0), 1e-6);
  EXPECT_EQ(s[2], 0.0f);
  EXPECT_NEAR(s[4], 30.0, 1e-5);  // bounded by the cap
}

TEST_P(VectorOpsTest, StoreKvRowF16BitsMatchScalar) {
  std::vector<float> src = Random(37, 100.0f, 4);
  src[3] = 1e-6f;   // half subnormal
  src[4] = 70000.0f;  // overflows to inf
  src[5] = 0.0f;
  std::vector<uint16_t> ref(src.size()), got(src.size());
  {
    ScopedKernelIsa pin(KernelIsa::kScalar);
    StoreKvRow(src.data(), 37, true, reinterpret_cast<uint8_t*>(ref.data()));
  }
  ScopedKernelIsa pin(GetParam());
  StoreKvRow(src.data(), 37, true, reinterpret_cast<uint8_t*>(got.data()));
  EXPECT_EQ(got, ref);
}

INSTANTIATE_TEST_SUITE_P(FastIsas, VectorOpsTest, ::testing::Values(KernelIsa::kAvx2, KernelIsa::kAvx512),  // amx: avx512's ops
                         [](const ::testing::TestParamInfo<KernelIsa>& p) { return KernelIsaName(p.param); });

// LayerNorm: zero mean, unit variance, then weight and bias; the mean of a
// large offset does not cancel the variance (two passes).
TEST(OpsTest, LayerNormCentersScalesAndShifts) {
  const std::vector<float> x = {1000001.0f, 1000003.0f, 1000005.0f, 1000007.0f};  // mean 1000004, var 5
  const std::vector<float> w = {1.0f, 2.0f, 1.0f, 1.0f}, b = {0.0f, 0.0f, 0.5f, 0.0f};
  std::vector<float> y(4);
  LayerNorm(x.data(), w.data(), b.data(), 4, 0.0f, y.data());
  const float s = 1.0f / std::sqrt(5.0f);
  EXPECT_NEAR(y[0], -3.0f * s, 1e-5f);
  EXPECT_NEAR(y[1], -2.0f * s, 1e-5f);
  EXPECT_NEAR(y[2], 1.0f * s + 0.5f, 1e-5f);
  EXPECT_NEAR(y[3], 3.0f * s, 1e-5f);
  LayerNorm(x.data(), w.data(), nullptr, 4, 0.0f, y.data());  // no bias
  EXPECT_NEAR(y[2], 1.0f * s, 1e-5f);
  std::vector<float> same = x;  // in place
  LayerNorm(same.data(), w.data(), b.data(), 4, 0.0f, same.data());
  EXPECT_NEAR(same[3], 3.0f * s, 1e-5f);
}

TEST(OpsTest, GeluTanhKnownValues) {
  std::vector<float> x = {0.0f, 1.0f, -1.0f, 3.0f};
  ScopedKernelIsa pin(KernelIsa::kScalar);
  GeluTanh(x.data(), 4);
  EXPECT_EQ(x[0], 0.0f);
  EXPECT_NEAR(x[1], 0.841192f, 1e-5f);  // 0.5 (1 + tanh(sqrt(2/pi) 1.044715))
  EXPECT_NEAR(x[2], -0.158808f, 1e-5f);
  EXPECT_NEAR(x[3], 2.996363f, 1e-5f);
}

}  // namespace
}  // namespace jarvis
