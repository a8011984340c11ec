// Each CUDA kernel against its CPU oracle (kernels/cpu): MatMulReference for
// every weight type (decode and tiled paths), RmsNorm, ApplyRope, SiluMul,
// StoreKvRow + AttentionHead over a paged pool (short and split contexts,
// GQA), and argmax. Skipped (not passed) where no GPU is found.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <utility>
#include <vector>

#include "gpu/gpu_backend.h"

#if defined(JARVIS_HAVE_CUDA)
#include "gpu/cuda_memory.h"
#include "kernels/cpu/attention.h"
#include "kernels/cpu/matmul.h"
#include "kernels/cpu/ops.h"
#include "kernels/cuda/launchers.h"
#include "quant/quantize.h"
#endif

namespace jarvis {
namespace {

#if !defined(JARVIS_HAVE_CUDA)

TEST(CudaKernelsTest, NotBuilt) { GTEST_SKIP() << "built without CUDA"; }

#else

using gpu::DeviceBuffer;

class CudaKernelsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (ProbeGpus().devices.empty()) GTEST_SKIP() << "no GPU: " << ProbeGpus().unavailable_reason;
  }

  template <typename T>
  DeviceBuffer Upload(const std::vector<T>& host) {
    auto b = DeviceBuffer::Allocate(host.size() * sizeof(T), "test");
    EXPECT_TRUE(b.ok());
    EXPECT_TRUE(gpu::CopyToDevice(b->data(), host.data(), host.size() * sizeof(T), "test").ok());
    return std::move(*b);
  }
  template <typename T>
  std::vector<T> Download(const DeviceBuffer& b, size_t n) {
    EXPECT_TRUE(gpu::SyncStream(nullptr, "test kernels").ok());
    std::vector<T> host(n);
    EXPECT_TRUE(gpu::CopyToHost(host.data(), b.data(), n * sizeof(T), "test").ok());
    return host;
  }

  std::vector<float> Random(size_t n, float scale = 1.0f) {
    std::normal_distribution<float> normal(0.0f, scale);
    std::vector<float> v(n);
    for (float& x : v) x = normal(rng_);
    return v;
  }

  std::mt19937 rng_{42};
};

// Max |a - b| relative to max |b| (at least 1e-6 so all-zero rows compare).
float RelativeError(const std::vector<float>& a, const std::vector<float>& b) {
  float max_diff = 0.0f;
  float max_ref = 1e-6f;
  for (size_t i = 0; i < b.size(); ++i) {
    max_diff = std::max(max_diff, std::fabs(a[i] - b[i]));
    max_ref = std::max(max_ref, std::fabs(b[i]));
  }
  return max_diff / max_ref;
}

struct MatMulCase {
  GgmlType type;
  int64_t cols;
};

class CudaMatMulTest : public CudaKernelsTest, public ::testing::WithParamInterface<MatMulCase> {};

TEST_P(CudaMatMulTest, MatchesReferenceForDecodeAndBatchedShapes) {
  const auto [type, cols] = GetParam();
  constexpr int64_t kRows = 75;  // not a multiple of the tile or warp counts
  const std::vector<float> values = Random(static_cast<size_t>(kRows * cols));
  const size_t row_bytes = RowSize(type, cols);
  std::vector<uint8_t> w(static_cast<size_t>(kRows) * row_bytes);
  for (int64_t r = 0; r < kRows; ++r) {
    ASSERT_TRUE(QuantizeRow(type, &values[static_cast<size_t>(r * cols)], &w[static_cast<size_t>(r) * row_bytes], cols).ok());
  }
  const WeightMatrix host_w{type, w.data(), kRows, cols, row_bytes};
  ThreadPool pool(1);
  const DeviceBuffer dw = Upload(w);
  for (int32_t n_tokens : {1, 3, 4, 5, 67}) {
    const std::vector<float> x = Random(static_cast<size_t>(n_tokens * cols));
    std::vector<float> want(static_cast<size_t>(n_tokens * kRows));
    MatMulReference(host_w, x.data(), n_tokens, want.data(), pool);
    const DeviceBuffer dx = Upload(x);
    auto dy = DeviceBuffer::Allocate(want.size() * sizeof(float), "y");
    ASSERT_TRUE(dy.ok());
    cuda::MatMul(type, dw.as<uint8_t>(), kRows, cols, row_bytes, dx.as<float>(), n_tokens, dy->as<float>(), nullptr);
    const std::vector<float> got = Download<float>(*dy, want.size());
    // Same dequantized weights, F32 sums in another order.
    EXPECT_LT(RelativeError(got, want), 2e-5f) << TypeName(type) << " n_tokens " << n_tokens;
  }
}

INSTANTIATE_TEST_SUITE_P(
    AllTypes, CudaMatMulTest,
    ::testing::Values(MatMulCase{GgmlType::kF32, 172}, MatMulCase{GgmlType::kF16, 172},
                      MatMulCase{GgmlType::kBF16, 64}, MatMulCase{GgmlType::kQ4_0, 320},
                      MatMulCase{GgmlType::kQ4_1, 96}, MatMulCase{GgmlType::kQ5_0, 96},
                      MatMulCase{GgmlType::kQ5_1, 96}, MatMulCase{GgmlType::kQ8_0, 1056},
                      MatMulCase{GgmlType::kQ4_K, 512}, MatMulCase{GgmlType::kQ5_K, 256},
                      MatMulCase{GgmlType::kQ6_K, 768}),
    [](const auto& param_info) { return std::string(TypeName(param_info.param.type)); });

TEST_F(CudaKernelsTest, RmsNormWithRowMap) {
  constexpr int64_t kN = 300;
  const std::vector<float> x = Random(4 * kN, 3.0f);
  const std::vector<float> weight = Random(kN);
  const std::vector<int32_t> rows = {2, 0};
  const DeviceBuffer dx = Upload(x), dw = Upload(weight), dr = Upload(rows);
  auto dout = DeviceBuffer::Allocate(2 * kN * sizeof(float), "out");
  ASSERT_TRUE(dout.ok());
  cuda::RmsNorm(dx.as<float>(), dw.as<float>(), kN, 1e-5f, dr.as<int32_t>(), 2, dout->as<float>(), nullptr);
  const std::vector<float> got = Download<float>(*dout, 2 * kN);
  std::vector<float> want(2 * kN);
  for (int i = 0; i < 2; ++i) RmsNorm(&x[static_cast<size_t>(rows[i] * kN)], weight.data(), kN, 1e-5f, &want[i * kN]);
  EXPECT_LT(RelativeError(got, want), 1e-5f);
}

TEST_F(CudaKernelsTest, RopeBothStylesWithScalingAndFactors) {
  constexpr int32_t kTokens = 3, kHeads = 4, kHeadDim = 64;
  const std::vector<int32_t> positions = {0, 17, 4000};
  std::vector<float> factors(kHeadDim / 2);
  for (size_t i = 0; i < factors.size(); ++i) factors[i] = 1.0f + static_cast<float>(i) * 0.25f;
  const DeviceBuffer dpos = Upload(positions), dfactors = Upload(factors);
  for (bool neox : {false, true}) {
    for (bool with_factors : {false, true}) {
      const std::vector<float> x = Random(kTokens * kHeads * kHeadDim);
      RopeParams p;
      p.n_rot = kHeadDim;
      p.freq_base = 500000.0f;
      p.freq_scale = 0.5f;
      p.style = neox ? RopeStyle::kNeox : RopeStyle::kInterleaved;
      p.freq_factors = with_factors ? factors.data() : nullptr;
      p.attn_factor = with_factors ? 1.2f : 1.0f;  // longrope: factors and an attention factor
      std::vector<float> want = x;
      for (int32_t t = 0; t < kTokens; ++t) ApplyRope(&want[t * kHeads * kHeadDim], kHeads, kHeadDim, positions[t], p);
      cuda::RopeArgs args{p.n_rot, p.freq_base, p.freq_scale, neox, with_factors ? dfactors.as<float>() : nullptr,
                          p.attn_factor};
      const DeviceBuffer dx = Upload(x);
      cuda::Rope(dx.as<float>(), kTokens, kHeads, kHeadDim, dpos.as<int32_t>(), args, nullptr);
      // powf / sincosf may differ from the host's by an ulp or two; at position
      // 4000 that moves the angle by up to ~5e-4 rad.
      EXPECT_LT(RelativeError(Download<float>(dx, x.size()), want), 2e-3f) << neox << with_factors;
    }
  }
}

TEST_F(CudaKernelsTest, SiluMulAddAndBias) {
  const std::vector<float> a = Random(1000, 4.0f), b = Random(1000), bias = Random(250);
  std::vector<float> want = a;
  SiluMul(want.data(), b.data(), 1000);
  AddInPlace(want.data(), b.data(), 1000);
  for (int t = 0; t < 4; ++t) AddInPlace(&want[t * 250], bias.data(), 250);
  const DeviceBuffer da = Upload(a), db = Upload(b), dbias = Upload(bias);
  cuda::SiluMul(da.as<float>(), db.as<float>(), 1000, nullptr);
  cuda::Add(da.as<float>(), db.as<float>(), 1000, nullptr);
  cuda::AddBias(da.as<float>(), dbias.as<float>(), 250, 4, nullptr);
  EXPECT_LT(RelativeError(Download<float>(da, 1000), want), 1e-5f);
}

TEST_F(CudaKernelsTest, GeluTanhMulSoftcapAndScale) {
  const std::vector<float> a = Random(1000, 4.0f), b = Random(1000);
  std::vector<float> want = a;
  GeluTanhMul(want.data(), b.data(), 1000);
  SoftcapInPlace(want.data(), 1000, 0.7f);
  for (float& x : want) x *= 3.0f;
  const DeviceBuffer da = Upload(a), db = Upload(b);
  cuda::GeluTanhMul(da.as<float>(), db.as<float>(), 1000, nullptr);
  cuda::Softcap(da.as<float>(), 1000, 0.7f, nullptr);
  cuda::Scale(da.as<float>(), 1000, 3.0f, nullptr);
  EXPECT_LT(RelativeError(Download<float>(da, 1000), want), 1e-5f);
}

TEST_F(CudaKernelsTest, ArgMaxFirstOfTies) {
  std::vector<float> x = Random(3 * 5000);
  x[1234] = 100.0f;
  x[5000 + 42] = 7.0f;
  x[5000 + 4000] = 7.0f;  // tie: the first wins
  for (int i = 0; i < 5000; ++i) x[static_cast<size_t>(10000 + i)] = -1.0f;  // all equal: index 0
  const DeviceBuffer dx = Upload(x);
  auto dout = DeviceBuffer::Allocate(3 * sizeof(int32_t), "out");
  ASSERT_TRUE(dout.ok());
  cuda::ArgMax(dx.as<float>(), 3, 5000, dout->as<int32_t>(), nullptr);
  EXPECT_EQ(Download<int32_t>(*dout, 3), (std::vector<int32_t>{1234, 42, 0}));
}

// K/V written by StoreKv into a paged pool with a shuffled block table, then
// attention for tokens at several positions, vs StoreKvRow + AttentionHead on
// the same pool layout in host memory.
class CudaAttentionTest : public CudaKernelsTest, public ::testing::WithParamInterface<bool> {};

TEST_P(CudaAttentionTest, PagedSplitAttentionMatchesCpu) {
  const bool f16 = GetParam();
  const KvType kv_type = f16 ? KvType::kF16 : KvType::kF32;
  constexpr int32_t kHead = 8, kHeadKv = 2, kHeadDim = 64, kBlockSize = 16, kLayers = 2, kLayer = 1;
  constexpr int32_t kPositions = 700;  // 3 splits of 256
  constexpr int64_t kEmbdKv = kHeadKv * kHeadDim;
  const size_t elem = f16 ? 2 : 4;
  const size_t row_bytes = kEmbdKv * elem;
  const size_t layer_bytes = 2 * kBlockSize * row_bytes;
  const size_t block_bytes = kLayers * layer_bytes;
  const int32_t n_blocks = (kPositions + kBlockSize - 1) / kBlockSize + 3;
  std::vector<int32_t> table(static_cast<size_t>(n_blocks));
  for (int32_t i = 0; i < n_blocks; ++i) table[static_cast<size_t>(i)] = i;
  std::shuffle(table.begin(), table.end(), rng_);

  // Every position's K/V goes through the GPU store (one "token" per position).
  const std::vector<float> k = Random(static_cast<size_t>(kPositions * kEmbdKv));
  const std::vector<float> v = Random(static_cast<size_t>(kPositions * kEmbdKv));
  std::vector<int32_t> all_positions(kPositions), zero_offsets(kPositions, 0);
  for (int32_t p = 0; p < kPositions; ++p) all_positions[static_cast<size_t>(p)] = p;
  DeviceBuffer dpool_buffer = Upload(std::vector<uint8_t>(n_blocks * block_bytes));  // zeroed like `pool`
  DeviceBuffer* dpool = &dpool_buffer;
  const DeviceBuffer dk = Upload(k), dv = Upload(v), dtable = Upload(table), dall = Upload(all_positions),
                     dzero = Upload(zero_offsets);
  cuda::PagedKv kv{dpool->as<uint8_t>(), block_bytes, kLayer * layer_bytes, kLayer * layer_bytes + kBlockSize * row_bytes,
                   row_bytes, kBlockSize, f16, dtable.as<int32_t>(), dzero.as<int32_t>()};
  cuda::StoreKv(dk.as<float>(), dv.as<float>(), kEmbdKv, kPositions, dall.as<int32_t>(), kv, nullptr);

  std::vector<uint8_t> pool(n_blocks * block_bytes);
  KvRows krows{pool.data(), block_bytes, kLayer * layer_bytes, row_bytes, kBlockSize, table.data(), kv_type};
  KvRows vrows = krows;
  vrows.layer_offset += kBlockSize * row_bytes;
  for (int32_t p = 0; p < kPositions; ++p) {
    StoreKvRow(&k[static_cast<size_t>(p * kEmbdKv)], kEmbdKv, kv_type, const_cast<uint8_t*>(krows.row(p)));
    StoreKvRow(&v[static_cast<size_t>(p * kEmbdKv)], kEmbdKv, kv_type, const_cast<uint8_t*>(vrows.row(p)));
  }
  EXPECT_EQ(Download<uint8_t>(*dpool, pool.size()), pool) << "StoreKv bytes differ from StoreKvRow";

  const std::vector<int32_t> positions = {0, 15, 255, 256, 699};
  const auto n_tokens = static_cast<int32_t>(positions.size());
  const std::vector<float> q = Random(static_cast<size_t>(n_tokens * kHead * kHeadDim));
  const float scale = 1.0f / std::sqrt(static_cast<float>(kHeadDim));
  const DeviceBuffer dq = Upload(q), dpos = Upload(positions), doffsets = Upload(std::vector<int32_t>(positions.size(), 0));
  kv.table_offsets = doffsets.as<int32_t>();
  auto dscratch = DeviceBuffer::Allocate(
      cuda::AttentionScratchFloats(n_tokens, kHead, kHeadDim, kPositions) * sizeof(float), "scratch");
  auto dout = DeviceBuffer::Allocate(q.size() * sizeof(float), "out");
  ASSERT_TRUE(dscratch.ok() && dout.ok());
  // Plain causal attention, then a sliding window of 300 (spanning splits) with
  // soft-capped scores (gemma2), against the CPU kernel.
  for (const auto& [window, softcap] : {std::pair<int32_t, float>{0, 0.0f}, std::pair<int32_t, float>{300, 1.5f}}) {
    std::vector<float> want(q.size()), scores(kPositions);
    for (int32_t t = 0; t < n_tokens; ++t) {
      const int32_t pos = positions[static_cast<size_t>(t)];
      KvRows kw = krows, vw = vrows;
      kw.first = vw.first = window > 0 ? std::max(0, pos - window + 1) : 0;
      for (int32_t h = 0; h < kHead; ++h) {
        const size_t off = static_cast<size_t>((t * kHead + h) * kHeadDim);
        AttentionHead(&q[off], kw, vw, h / (kHead / kHeadKv), kHeadDim, pos + 1 - kw.first, scale, scores.data(),
                      &want[off], softcap);
      }
    }
    cuda::AttentionOptions options;
    options.scale = scale;
    options.window = window;
    options.softcap = softcap;
    cuda::Attention(dq.as<float>(), kv, dpos.as<int32_t>(), n_tokens, kHead, kHeadKv, kHeadDim, options, kPositions,
                    dscratch->as<float>(), dout->as<float>(), nullptr);
    EXPECT_LT(RelativeError(Download<float>(*dout, q.size()), want), 1e-4f) << "window " << window;
  }
}

INSTANTIATE_TEST_SUITE_P(KvTypes, CudaAttentionTest, ::testing::Bool(),
                         [](const auto& param_info) { return std::string(param_info.param ? "f16" : "f32"); });

#endif  // JARVIS_HAVE_CUDA

}  // namespace
}  // namespace jarvis
