// CpuAttention's ways of cutting the work (prompt tiles, split-K for a few
// long tokens, any thread count) give every token exactly the bits of
// AttentionGroup over its own rows: the engine's batch invariance rests on it.
// For every ISA, every KV type (quant/kv_type.h) and both block orders
// (model/kv_layout.h): the reference always reads a position-major copy, so a
// head-major pool must also give the position-major bits.
#include "model/cpu_attention.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <random>
#include <string>
#include <tuple>
#include <vector>

#include "kernels/cpu/attention.h"
#include "kernels/cpu/isa.h"

namespace jarvis {
namespace {

constexpr int32_t kHeads = 4, kKvHeads = 2, kHeadDim = 64, kBlock = 16;
constexpr int32_t kGroup = kHeads / kKvHeads;
constexpr int64_t kDq = kHeads * kHeadDim, kDkv = kKvHeads * kHeadDim;

std::vector<float> Random(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> v(n);
  for (auto& x : v) x = normal(rng);
  return v;
}

// One layer of KV for two sequences (lengths 700 and 300) in shuffled blocks,
// with every position's K/V row already stored, in the layout under test
// (view_) and position-major (ref_view_).
class CpuAttentionTest : public ::testing::TestWithParam<std::tuple<KernelIsa, KvType, bool>> {
 protected:
  KernelIsa isa() const { return std::get<0>(GetParam()); }
  KvType type() const { return std::get<1>(GetParam()); }
  bool head_major() const { return std::get<2>(GetParam()); }

  static KvPoolView MakeView(KvType type, int32_t head_dim, int32_t n_blocks, std::vector<uint8_t>& memory) {
    KvPoolView view;
    view.layout.n_layer = 1;
    view.layout.n_embd_kv = kDkv;
    view.layout.block_size = kBlock;
    view.layout.type = type;
    view.layout.head_dim = head_dim;
    view.n_blocks = n_blocks;
    memory.resize(static_cast<size_t>(n_blocks) * view.layout.block_bytes());
    view.base = memory.data();
    return view;
  }

  void SetUp() override {
    if (!CpuSupportsIsa(isa())) GTEST_SKIP() << "CPU lacks " << KernelIsaName(isa());
    const int32_t blocks_a = (kLenA + kBlock - 1) / kBlock, blocks_b = (kLenB + kBlock - 1) / kBlock;
    ASSERT_EQ(HeadMajorDim(type(), kHeadDim), kHeadDim);
    view_ = MakeView(type(), head_major() ? kHeadDim : 0, blocks_a + blocks_b, memory_);
    ref_view_ = MakeView(type(), 0, blocks_a + blocks_b, ref_memory_);
    std::vector<int32_t> blocks(static_cast<size_t>(view_.n_blocks));
    for (int32_t b = 0; b < view_.n_blocks; ++b) blocks[static_cast<size_t>(b)] = b;
    std::shuffle(blocks.begin(), blocks.end(), std::mt19937(7));  // sequences' blocks out of order, interleaved
    table_a_.assign(blocks.begin(), blocks.begin() + blocks_a);
    table_b_.assign(blocks.begin() + blocks_a, blocks.end());
    ASSERT_EQ(static_cast<int32_t>(table_a_.size()), blocks_a);
    ASSERT_EQ(static_cast<int32_t>(table_b_.size()), blocks_b);
    for (int s = 0; s < 2; ++s) {
      const int32_t len = s == 0 ? kLenA : kLenB;
      auto& k = k_[s];
      auto& v = v_[s];
      k = Random(static_cast<size_t>(len * kDkv), 10 + s);
      v = Random(static_cast<size_t>(len * kDkv), 20 + s);
      const std::vector<int32_t>& table = s == 0 ? table_a_ : table_b_;
      for (int32_t p = 0; p < len; ++p) {
        for (const KvPoolView* view : {&view_, &ref_view_}) {
          view->StoreRow(0, false, table.data(), p, &k[p * kDkv]);
          view->StoreRow(0, true, table.data(), p, &v[p * kDkv]);
        }
      }
    }
    q_ = Random(static_cast<size_t>((kLenA + kLenB) * kDq), 30);
  }

  // Runs `batch` (tokens as (sequence, position)) through CpuAttention with
  // `threads` threads and checks each token's output against AttentionGroup.
  void Check(const std::vector<std::pair<int, int32_t>>& tokens, int threads, int32_t window) {
    Batch batch;
    batch.block_tables = {table_a_, table_b_};
    std::vector<float> q, k, v;
    for (auto [s, pos] : tokens) {
      batch.Add(0, pos, s, false);
      const size_t qi = static_cast<size_t>((s * kLenA + pos) * kDq);
      q.insert(q.end(), q_.begin() + static_cast<long>(qi), q_.begin() + static_cast<long>(qi + kDq));
      k.insert(k.end(), k_[s].begin() + pos * kDkv, k_[s].begin() + (pos + 1) * kDkv);
      v.insert(v.end(), v_[s].begin() + pos * kDkv, v_[s].begin() + (pos + 1) * kDkv);
    }
    std::vector<float> out(q.size());
    ThreadPool pool(threads);
    CpuAttention attention(pool);
    AttentionParams params;
    params.scale = 0.125f;
    params.window = window;
    attention.StoreKvAndAttend(batch, view_, 0, params,
                               {q.data(), k.data(), v.data(), out.data(), kHeads, kKvHeads, kHeadDim});
    std::vector<float> want(static_cast<size_t>(kGroup * kHeadDim)), scores(static_cast<size_t>(kGroup * kLenA));
    for (int32_t t = 0; t < batch.size(); ++t) {
      const int32_t pos = batch.positions[t];
      const int32_t first = window > 0 ? std::max(0, pos - window + 1) : 0;
      for (int32_t h = 0; h < kKvHeads; ++h) {
        KvRows kr = ref_view_.HeadRows(0, false, batch.block_tables[batch.seq[t]].data(), h).rows;
        KvRows vr = ref_view_.HeadRows(0, true, batch.block_tables[batch.seq[t]].data(), h).rows;
        kr.first = vr.first = first;
        const int64_t off = t * kDq + h * kGroup * kHeadDim;
        AttentionGroup(&q[off], kGroup, kr, vr, h, kHeadDim, pos + 1 - first, params.scale, scores.data(),
                       want.data());
        ASSERT_EQ(std::memcmp(&out[off], want.data(), want.size() * sizeof(float)), 0)
            << "token " << t << " (seq " << batch.seq[t] << ", pos " << pos << ") kv head " << h << ", "
            << threads << " threads, window " << window;
      }
    }
  }

  static constexpr int32_t kLenA = 700, kLenB = 300;
  KvPoolView view_, ref_view_;
  std::vector<uint8_t> memory_, ref_memory_;
  std::vector<int32_t> table_a_, table_b_;
  std::vector<float> k_[2], v_[2], q_;
};

// A prompt chunk crossing a chunk boundary (tiles) beside a decode token.
TEST_P(CpuAttentionTest, PromptTilesGiveEachTokensOwnBits) {
  ScopedKernelIsa pin(isa());
  std::vector<std::pair<int, int32_t>> tokens;
  for (int32_t p = 490; p < 540; ++p) tokens.push_back({0, p});
  tokens.push_back({1, 299});
  for (int threads : {1, 2, 3}) {
    for (int32_t window : {0, 100}) Check(tokens, threads, window);
  }
}

// One long decode token: its chunks are split over the threads.
TEST_P(CpuAttentionTest, SplitChunksGiveTheUnsplitBits) {
  ScopedKernelIsa pin(isa());
  for (int threads : {1, 2, 4}) {
    for (int32_t window : {0, 300}) Check({{0, 699}}, threads, window);
    Check({{0, 699}, {1, 299}}, threads, 0);
  }
}

INSTANTIATE_TEST_SUITE_P(AllIsas, CpuAttentionTest,
                         ::testing::Combine(::testing::Values(KernelIsa::kScalar, KernelIsa::kAvx2, KernelIsa::kAvx512),
                                            ::testing::Values(KvType::kF32, KvType::kF16, KvType::kQ8_0),
                                            ::testing::Bool()),
                         [](const auto& p) {
                           return std::string(KernelIsaName(std::get<0>(p.param))) + "_" +
                                  KvTypeName(std::get<1>(p.param)) +
                                  (std::get<2>(p.param) ? "_head_major" : "_position_major");
                         });

}  // namespace
}  // namespace jarvis
