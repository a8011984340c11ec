// The vector row operations and attention on every ISA this CPU has, against
// the scalar versions.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "kernels/cpu/attention.h"
#include "kernels/cpu/isa.h"
#include "kernels/cpu/ops.h"
#include "quant/blocks.h"
#include "quant/fp16.h"
#include "quant/kv_type.h"
#include "quant/quantize.h"

namespace jarvis {
namespace {

std::vector<float> Random(size_t n, float scale, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, scale);
  std::vector<float> v(n);
  for (auto& x : v) x = normal(rng);
  return v;
}

// The values a cached row of `type` holds for src (what the kernels read back).
std::vector<float> Stored(KvType type, const std::vector<float>& src) {
  std::vector<uint8_t> row(KvRowBytes(type, static_cast<int64_t>(src.size())));
  StoreKvRow(src.data(), static_cast<int64_t>(src.size()), type, row.data());
  std::vector<float> out(src.size());
  for (size_t i = 0; i < src.size(); ++i) {
    if (type == KvType::kF32) {
      out[i] = src[i];
    } else if (type == KvType::kF16) {
      uint16_t h;
      std::memcpy(&h, row.data() + 2 * i, 2);
      out[i] = Fp16ToFp32(h);
    }
  }
  if (type == KvType::kQ8_0) {
    DequantizeQ8_0(reinterpret_cast<const BlockQ8_0*>(row.data()), out.data(), static_cast<int64_t>(src.size()));
  }
  return out;
}

// Whether rows of n elements are whole blocks of `type`.
bool Fits(KvType type, int64_t n) { return n % Traits(type).block == 0; }

// A paged K/V pool for one layer: n_pos positions of `row_elems` values in
// blocks of 16, the block table reversed (so reads really follow it), K and V
// rows of each block side by side as the engine lays them out.
struct PagedKv {
  PagedKv(KvType type, int32_t n_pos, int64_t row_elems) {
    constexpr int32_t kBlock = 16;
    const int32_t n_blocks = (n_pos + kBlock - 1) / kBlock;
    const size_t row_bytes = KvRowBytes(type, row_elems);
    pool.resize(static_cast<size_t>(n_blocks) * 2 * kBlock * row_bytes);
    table.resize(static_cast<size_t>(n_blocks));
    for (int32_t b = 0; b < n_blocks; ++b) table[static_cast<size_t>(b)] = n_blocks - 1 - b;
    k = KvRows{pool.data(), 2 * kBlock * row_bytes, 0, row_bytes, kBlock, table.data(), type};
    v = k;
    v.layer_offset = kBlock * row_bytes;
  }
  PagedKv(const PagedKv&) = delete;  // k and v point into pool and table
  PagedKv& operator=(const PagedKv&) = delete;

  std::vector<uint8_t> pool;
  std::vector<int32_t> table;
  KvRows k, v;
};

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
      std::vector<float> kt(static_cast<size_t>(head_dim * n)), scores(static_cast<size_t>(kAttentionDenseQueries * n));
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
// with and without a vector tail, every KV type. Q8_0 with head_dim 8 and 24:
// heads share blocks, and a head's slice starts mid-vector (24 on AVX-512)
// or ends in a tail.
TEST_P(VectorOpsTest, AttentionHeadMatchesScalar) {
  for (const KvTypeTraits& t : kKvTypes) {
    const KvType type = t.type;
    for (int32_t head_dim : {8, 24, 64, 100, 128}) {
      const int32_t n_heads = 4, block = 4, n_pos = 37;
      if (!Fits(type, n_heads * head_dim)) continue;
      const int32_t n_blocks = (n_pos + block - 1) / block;
      const size_t row_bytes = KvRowBytes(type, n_heads * head_dim);
      std::vector<uint8_t> pool(static_cast<size_t>(n_blocks) * 2 * block * row_bytes);
      std::vector<int32_t> table(static_cast<size_t>(n_blocks));
      for (int32_t b = 0; b < n_blocks; ++b) table[static_cast<size_t>(b)] = (b * 3) % n_blocks;
      KvRows k{pool.data(), 2 * block * row_bytes, 0, row_bytes, block, table.data(), type};
      KvRows v = k;
      v.layer_offset = block * row_bytes;
      ScopedKernelIsa scalar(KernelIsa::kScalar);
      for (int32_t p = 0; p < n_pos; ++p) {
        const auto kr = Random(static_cast<size_t>(n_heads * head_dim), 1.0f, static_cast<uint32_t>(2 * p));
        const auto vr = Random(static_cast<size_t>(n_heads * head_dim), 1.0f, static_cast<uint32_t>(2 * p + 1));
        StoreKvRow(kr.data(), n_heads * head_dim, type, const_cast<uint8_t*>(k.row(p)));
        StoreKvRow(vr.data(), n_heads * head_dim, type, const_cast<uint8_t*>(v.row(p)));
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
              << t.name << " head_dim " << head_dim << " len " << len << " d " << d;
        }
      }
    }
  }
}

// AttentionGroup gives each query head exactly AttentionHead's bits, for
// group sizes below, at and above the kernels' register blocks of heads (4
// at head_dim 64 on AVX-512, 1 on AVX2), and a prompt tile's 64, head sizes
// with and without a fixed-size kernel, and lengths around the chunk sizes
// and past a staged tile of rows (128 at head_dim 64): a group whose values
// take several passes stages Q8_0 rows (vector_ops_impl.h), one head alone
// does not, so this also checks the staged sums against the direct ones.
TEST_P(VectorOpsTest, AttentionGroupIsBitIdenticalPerHead) {
  for (const KvTypeTraits& t : kKvTypes) {
    const KvType type = t.type;
    for (int32_t head_dim : {64, 40, 128}) {
      const int32_t n_kv_heads = 4, n_pos = 300;
      const PagedKv paged(type, n_pos, n_kv_heads * head_dim);
      const KvRows& k = paged.k;
      const KvRows& v = paged.v;
      for (int32_t p = 0; p < n_pos; ++p) {
        const auto kr = Random(static_cast<size_t>(n_kv_heads * head_dim), 1.0f, static_cast<uint32_t>(7 * p));
        const auto vr = Random(static_cast<size_t>(n_kv_heads * head_dim), 1.0f, static_cast<uint32_t>(7 * p + 1));
        StoreKvRow(kr.data(), n_kv_heads * head_dim, type, const_cast<uint8_t*>(k.row(p)));
        StoreKvRow(vr.data(), n_kv_heads * head_dim, type, const_cast<uint8_t*>(v.row(p)));
      }
      ScopedKernelIsa pin(GetParam());
      const float scale = 1.0f / std::sqrt(static_cast<float>(head_dim));
      for (int32_t group : {1, 4, 7, 8, 10, 64}) {
        const auto q = Random(static_cast<size_t>(group * head_dim), 1.0f, static_cast<uint32_t>(group));
        for (int32_t len : {1, 3, 16, 17, 35, 70, n_pos}) {
          std::vector<float> scores(static_cast<size_t>(group * n_pos));
          std::vector<float> grouped(static_cast<size_t>(group * head_dim), -1.0f), alone(grouped.size(), -2.0f);
          AttentionGroup(q.data(), group, k, v, 1, head_dim, len, scale, scores.data(), grouped.data());
          for (int32_t h = 0; h < group; ++h) {
            AttentionHead(q.data() + h * head_dim, k, v, 1, head_dim, len, scale, scores.data(),
                          alone.data() + h * head_dim);
          }
          ASSERT_EQ(grouped, alone) << t.name << " head_dim " << head_dim << " group " << group
                                    << " len " << len;
        }
      }
    }
  }
}

// A sliding window (rows read from KvRows::first) and soft-capped scores
// against a double-precision computation, on every ISA and the scalar path,
// for every KV type; long views fold several kAttentionChunk partials, whose
// boundaries (absolute positions) fall inside the view when first > 0.
// Two references: over the values the cache holds (the kernels' arithmetic:
// 2e-5), and over the values before they were stored (the type's rounding
// too: F16 keeps 11 bits; Q8_0 rounds each value to within amax/254 of its
// block of 32. Largest errors measured: f16 2.7e-4, q8_0 8.3e-3 (outputs of
// magnitude ~0.1-1); the bounds are about 3-4x those).
TEST_P(VectorOpsTest, WindowedSoftcappedAttentionMatchesDirectSum) {
  static_assert(kAttentionChunk < 700, "the long case must span several chunks");
  for (const KvTypeTraits& t : kKvTypes) {
    const KvType type = t.type;
    const double stored_tolerance = type == KvType::kF32 ? 2e-5 : type == KvType::kF16 ? 1e-3 : 2.5e-2;
    for (int32_t head_dim : {64, 40, 96}) {
      if (!Fits(type, head_dim)) continue;
      for (int32_t n_pos : {50, 700}) {
        const PagedKv paged(type, n_pos, head_dim);
        const KvRows& k = paged.k;
        const KvRows& v = paged.v;
        std::vector<std::vector<float>> keys, values, keys0, values0;  // stored; before storing
        for (int32_t p = 0; p < n_pos; ++p) {
          keys0.push_back(Random(static_cast<size_t>(head_dim), 2.0f, static_cast<uint32_t>(3 * p + 1)));
          values0.push_back(Random(static_cast<size_t>(head_dim), 1.0f, static_cast<uint32_t>(3 * p + 2)));
          keys.push_back(Stored(type, keys0.back()));
          values.push_back(Stored(type, values0.back()));
          StoreKvRow(keys0.back().data(), head_dim, type, const_cast<uint8_t*>(k.row(p)));
          StoreKvRow(values0.back().data(), head_dim, type, const_cast<uint8_t*>(v.row(p)));
        }
        const auto q = Random(static_cast<size_t>(head_dim), 2.0f, 5);
        const float scale = 1.0f / std::sqrt(static_cast<float>(head_dim)), cap = 1.5f;
        for (int32_t first : {0, 7, 33, 300, 513}) {
          if (first >= n_pos) continue;
          const int32_t len = n_pos - first;
          // softmax(capped q.k * scale) . v in double over the rows given.
          auto direct = [&](const std::vector<std::vector<float>>& ks, const std::vector<std::vector<float>>& vs) {
            std::vector<double> w(static_cast<size_t>(len)), out(static_cast<size_t>(head_dim), 0.0);
            double max = -1e300, sum = 0.0;
            for (int32_t r = 0; r < len; ++r) {
              double dot = 0.0;
              for (int32_t d = 0; d < head_dim; ++d) dot += static_cast<double>(q[d]) * ks[first + r][d];
              w[r] = cap * std::tanh(dot * scale / cap);
              max = std::max(max, w[r]);
            }
            for (double& x : w) sum += (x = std::exp(x - max));
            for (int32_t d = 0; d < head_dim; ++d) {
              for (int32_t r = 0; r < len; ++r) out[d] += w[r] / sum * vs[first + r][d];
            }
            return out;
          };
          const std::vector<double> want = direct(keys, values), want0 = direct(keys0, values0);
          KvRows kw = k, vw = v;
          kw.first = vw.first = first;
          for (KernelIsa isa : {KernelIsa::kScalar, GetParam()}) {
            std::vector<float> scores(static_cast<size_t>(n_pos)), got(static_cast<size_t>(head_dim));
            ScopedKernelIsa pin(isa);
            AttentionHead(q.data(), kw, vw, 0, head_dim, len, scale, scores.data(), got.data(), cap);
            for (int32_t d = 0; d < head_dim; ++d) {
              ASSERT_NEAR(got[d], want[d], 2e-5) << t.name << " " << KernelIsaName(isa) << " head_dim " << head_dim
                                                 << " n_pos " << n_pos << " first " << first << " d " << d;
              ASSERT_NEAR(got[d], want0[d], stored_tolerance)
                  << t.name << " " << KernelIsaName(isa) << " head_dim " << head_dim << " n_pos " << n_pos << " first "
                  << first << " d " << d;
            }
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

// Q8_0 rows are the GGUF reference quantizer's blocks, whichever ISA is
// active, and round trip to within half a quantization step.
TEST_P(VectorOpsTest, StoreKvRowQ8_0IsTheReferenceQuantizer) {
  std::vector<float> src = Random(96, 3.0f, 8);
  src[40] = 0.0f;
  for (int i = 64; i < 96; ++i) src[i] = 0.0f;  // an all-zero block: d = 0
  std::vector<BlockQ8_0> ref(3), got(3);
  QuantizeQ8_0(src.data(), ref.data(), 96);
  ScopedKernelIsa pin(GetParam());
  StoreKvRow(src.data(), 96, KvType::kQ8_0, reinterpret_cast<uint8_t*>(got.data()));
  EXPECT_EQ(std::memcmp(got.data(), ref.data(), sizeof(BlockQ8_0) * 3), 0);
  const std::vector<float> back = Stored(KvType::kQ8_0, src);
  for (int b = 0; b < 3; ++b) {
    const float d = Fp16ToFp32(got[static_cast<size_t>(b)].d);
    for (int i = 32 * b; i < 32 * b + 32; ++i) EXPECT_LE(std::fabs(back[i] - src[i]), 0.5f * d * 1.01f + 1e-7f) << i;
  }
}

TEST_P(VectorOpsTest, StoreKvRowF16BitsMatchScalar) {
  std::vector<float> src = Random(37, 100.0f, 4);
  src[3] = 1e-6f;   // half subnormal
  src[4] = 70000.0f;  // overflows to inf
  src[5] = 0.0f;
  std::vector<uint16_t> ref(src.size()), got(src.size());
  {
    ScopedKernelIsa pin(KernelIsa::kScalar);
    StoreKvRow(src.data(), 37, KvType::kF16, reinterpret_cast<uint8_t*>(ref.data()));
  }
  ScopedKernelIsa pin(GetParam());
  StoreKvRow(src.data(), 37, KvType::kF16, reinterpret_cast<uint8_t*>(got.data()));
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
