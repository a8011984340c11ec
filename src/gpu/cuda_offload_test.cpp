// The CUDA LayerOffload against the CPU ForwardPass on stories260K: logits of a
// two-sequence prefill, 32 greedy tokens (all layers on the GPU, fed the
// embedding rows directly), a partial offload behind ForwardPass::SetOffload,
// and CopyKvBlock. Skipped (not passed) where no GPU is found.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <vector>

#include "gpu/gpu_backend.h"
#include "model/forward_pass.h"
#include "model/model.h"
#include "support/test_paths.h"

namespace jarvis {
namespace {

// The context of the runs here (stories260K has no context-dependent rope).
constexpr int32_t kTestContext = 128;

class CudaOffloadTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (ProbeGpus().devices.empty()) GTEST_SKIP() << "no GPU: " << ProbeGpus().unavailable_reason;
    auto m = Model::Load(test::StoriesModelPath());
    ASSERT_TRUE(m.ok()) << m.status().ToString();
    model_ = std::move(m).value();
    const HParams& hp = model_->hparams();
    layout_.n_layer = hp.n_layer;
    layout_.n_embd_kv = hp.n_embd_kv();
    layout_.block_size = 4;
    layout_.type = KvType::kF16;
    pool_memory_.assign(static_cast<size_t>(kBlocks) * layout_.block_bytes(), 0);
    view_.layout = layout_;
    view_.base = pool_memory_.data();
    view_.n_blocks = kBlocks;
  }

  std::vector<float> Embeddings(const Batch& batch) const {
    const int64_t d = model_->hparams().n_embd;
    std::vector<float> x(static_cast<size_t>(batch.size() * d));
    for (int32_t t = 0; t < batch.size(); ++t) {
      DequantizeWeightRow(model_->weights().tok_embd, batch.tokens[static_cast<size_t>(t)], &x[static_cast<size_t>(t * d)]);
    }
    return x;
  }
  size_t LogitsSize(const Batch& batch) const {
    return static_cast<size_t>(batch.n_outputs()) * static_cast<size_t>(model_->hparams().n_vocab);
  }
  std::unique_ptr<LayerOffload> Offload(int32_t n_layers) {
    auto o = CreateGpuOffload(*model_, n_layers, layout_, kBlocks, kTestContext);
    EXPECT_TRUE(o.ok()) << o.status().ToString();
    return o.ok() ? std::move(o).value() : nullptr;
  }

  static constexpr int32_t kBlocks = 24;  // 96 positions
  std::unique_ptr<Model> model_;
  KvLayout layout_;
  std::vector<uint8_t> pool_memory_;
  KvPoolView view_;
};

float MaxAbsDiff(const std::vector<float>& a, const std::vector<float>& b) {
  float m = 0.0f;
  for (size_t i = 0; i < a.size(); ++i) m = std::max(m, std::fabs(a[i] - b[i]));
  return m;
}

int32_t ArgMax(const float* v, int32_t n) { return static_cast<int32_t>(std::max_element(v, v + n) - v); }

TEST_F(CudaOffloadTest, TwoSequencePrefillMatchesCpu) {
  const std::vector<int32_t> table_a = {3, 0, 5}, table_b = {7};
  Batch batch;
  const std::vector<int32_t> a = {1, 403, 72, 288, 15, 301, 99};
  const std::vector<int32_t> b = {1, 45, 460};
  for (size_t i = 0; i < a.size(); ++i) batch.Add(a[i], static_cast<int32_t>(i), 0, i + 1 == a.size());
  for (size_t i = 0; i < b.size(); ++i) batch.Add(b[i], static_cast<int32_t>(i), 1, true);
  batch.block_tables = {table_a, table_b};

  ThreadPool pool(2);
  ForwardPass graph(*model_, pool, kTestContext);
  std::vector<float> want(LogitsSize(batch)), got(LogitsSize(batch));
  ASSERT_TRUE(graph.Forward(batch, view_, want.data()).ok());
  auto offload = Offload(model_->hparams().n_layer);
  ASSERT_NE(offload, nullptr);
  EXPECT_EQ(offload->first_layer(), 0);
  EXPECT_NE(offload->Describe().find("cuda:"), std::string::npos) << offload->Describe();
  const std::vector<float> x = Embeddings(batch);
  ASSERT_TRUE(offload->Forward(batch, x.data(), got.data()).ok());
  // F16 KV on both sides; F32 arithmetic in different orders.
  EXPECT_LT(MaxAbsDiff(got, want), 2e-3f);
}

// 32 greedy tokens, each path choosing from its own logits.
TEST_F(CudaOffloadTest, GreedyDecodeOf32TokensEqualsCpu) {
  const std::vector<int32_t> table = [] {
    std::vector<int32_t> t(kBlocks);
    for (int32_t i = 0; i < kBlocks; ++i) t[static_cast<size_t>(i)] = kBlocks - 1 - i;
    return t;
  }();
  const std::vector<int32_t> prompt = {1, 403, 72, 288};
  const int32_t n_vocab = model_->hparams().n_vocab;
  ThreadPool pool(2);
  ForwardPass graph(*model_, pool, kTestContext);
  auto offload = Offload(model_->hparams().n_layer);
  ASSERT_NE(offload, nullptr);

  auto run = [&](bool gpu) {
    std::vector<int32_t> out;
    std::vector<float> logits(static_cast<size_t>(n_vocab));
    Batch batch;
    for (size_t i = 0; i < prompt.size(); ++i) batch.Add(prompt[i], static_cast<int32_t>(i), 0, i + 1 == prompt.size());
    auto pos = static_cast<int32_t>(prompt.size());
    for (int step = 0; step < 32; ++step) {
      batch.block_tables = {table};
      if (gpu) {
        const std::vector<float> x = Embeddings(batch);
        EXPECT_TRUE(offload->Forward(batch, x.data(), logits.data()).ok());
      } else {
        EXPECT_TRUE(graph.Forward(batch, view_, logits.data()).ok());
      }
      const int32_t next = ArgMax(logits.data(), n_vocab);
      out.push_back(next);
      batch.Clear();
      batch.Add(next, pos++, 0, true);
    }
    return out;
  };
  const std::vector<int32_t> cpu = run(false);
  const std::vector<int32_t> gpu = run(true);
  EXPECT_EQ(gpu, cpu);
}

// The last 2 layers on the GPU behind ForwardPass::SetOffload, and a
// copy-on-write block copy that both pools follow.
TEST_F(CudaOffloadTest, PartialOffloadAndKvBlockCopy) {
  const std::vector<int32_t> prompt = {1, 403, 72, 288, 15, 301};  // 6 positions: blocks 0 and 1 (partial)
  const std::vector<int32_t> table = {0, 1}, forked = {0, 2};
  ThreadPool pool(2);
  ForwardPass cpu_graph(*model_, pool, kTestContext), gpu_graph(*model_, pool, kTestContext);
  auto offload = Offload(2);
  ASSERT_NE(offload, nullptr);
  EXPECT_EQ(offload->first_layer(), model_->hparams().n_layer - 2);
  // DeviceBytes (/api/ps size_vram): at least the 2 layers' matrices, the
  // output head and a KV pool of kBlocks blocks of 2 layers; at most that
  // plus the arena's 256-byte alignment per tensor (12 per layer, 3 more).
  uint64_t want_bytes = 0;
  const ModelWeights& w = model_->weights();
  for (int32_t il = model_->hparams().n_layer - 2; il < model_->hparams().n_layer; ++il) {
    const LayerWeights& l = w.layers[static_cast<size_t>(il)];
    for (const WeightMatrix* m : {&l.wq, &l.wk, &l.wv, &l.wo, &l.w_gate, &l.w_up, &l.w_down}) {
      want_bytes += static_cast<uint64_t>(m->rows) * m->row_bytes;
    }
  }
  want_bytes += static_cast<uint64_t>(w.output.rows) * w.output.row_bytes;
  KvLayout two_layers = layout_;
  two_layers.n_layer = 2;
  want_bytes += static_cast<uint64_t>(kBlocks) * two_layers.block_bytes();
  EXPECT_GE(offload->DeviceBytes(), want_bytes);
  EXPECT_LE(offload->DeviceBytes(), want_bytes + 2 * 12 * 256 + 3 * 256 +
                                        4 * static_cast<uint64_t>(model_->hparams().n_embd) * (2 * 2 + 1));
  gpu_graph.SetOffload(offload.get());
  std::vector<uint8_t> gpu_pool_memory(pool_memory_.size(), 0);
  KvPoolView gpu_view = view_;
  gpu_view.base = gpu_pool_memory.data();

  Batch batch;
  for (size_t i = 0; i < prompt.size(); ++i) batch.Add(prompt[i], static_cast<int32_t>(i), 0, true);
  batch.block_tables = {table};
  std::vector<float> want(LogitsSize(batch)), got(LogitsSize(batch));
  ASSERT_TRUE(cpu_graph.Forward(batch, view_, want.data()).ok());
  ASSERT_TRUE(gpu_graph.Forward(batch, gpu_view, got.data()).ok());
  EXPECT_LT(MaxAbsDiff(got, want), 2e-3f);

  // Fork: block 1 copied to block 2, then the next token continues in the fork.
  const size_t bb = layout_.block_bytes();
  std::memcpy(&pool_memory_[2 * bb], &pool_memory_[1 * bb], bb);
  std::memcpy(&gpu_pool_memory[2 * bb], &gpu_pool_memory[1 * bb], bb);
  ASSERT_TRUE(offload->CopyKvBlock(1, 2).ok());
  EXPECT_FALSE(offload->CopyKvBlock(1, kBlocks).ok());
  batch.Clear();
  batch.Add(460, 6, 0, true);
  batch.block_tables = {forked};
  std::vector<float> want2(LogitsSize(batch)), got2(LogitsSize(batch));
  ASSERT_TRUE(cpu_graph.Forward(batch, view_, want2.data()).ok());
  ASSERT_TRUE(gpu_graph.Forward(batch, gpu_view, got2.data()).ok());
  EXPECT_LT(MaxAbsDiff(got2, want2), 2e-3f);
}

}  // namespace
}  // namespace jarvis
