// ForwardPass's split entry points (RunLayers + Head) and its offload seam, on
// the real stories260K model: running the layers in two ranges must give the
// same logits and K/V, bit for bit, as one Forward, and with an offload the
// graph must stop at first_layer() and hand over exactly those hidden states.
#include "model/forward_pass.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <memory>
#include <vector>

#include "kernels/cpu/matmul.h"
#include "support/test_paths.h"

namespace jarvis {
namespace {

// The context of the runs here (stories260K has no context-dependent rope).
constexpr int32_t kTestContext = 128;

// A KV pool in plain memory, every byte set to `fill`.
struct TestPool {
  TestPool(const KvLayout& layout, int32_t n_blocks, uint8_t fill) {
    const size_t bytes = static_cast<size_t>(n_blocks) * layout.block_bytes();
    memory.reset(static_cast<uint8_t*>(std::aligned_alloc(64, (bytes + 63) / 64 * 64)));
    std::memset(memory.get(), fill, bytes);
    view.layout = layout;
    view.base = memory.get();
    view.n_blocks = n_blocks;
    size = bytes;
  }
  struct Free {
    void operator()(uint8_t* p) const { std::free(p); }
  };
  std::unique_ptr<uint8_t, Free> memory;
  KvPoolView view;
  size_t size = 0;
};

class ForwardPassTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto m = Model::Load(test::StoriesModelPath());
    ASSERT_TRUE(m.ok()) << m.status().ToString();
    model_ = std::move(m).value();
    const HParams& hp = model_->hparams();
    layout_.n_layer = hp.n_layer;
    layout_.n_embd_kv = hp.n_embd_kv();
    layout_.block_size = 4;
    layout_.type = KvType::kF16;
    // Two sequences: 7 prompt tokens in blocks {0, 1}, 3 in block {2}.
    tables_ = {{0, 1}, {2}};
    const std::vector<int32_t> a = {1, 403, 72, 288, 15, 301, 99};
    const std::vector<int32_t> b = {1, 45, 460};
    for (size_t i = 0; i < a.size(); ++i) batch_.Add(a[i], static_cast<int32_t>(i), 0, i + 1 == a.size());
    for (size_t i = 0; i < b.size(); ++i) batch_.Add(b[i], static_cast<int32_t>(i), 1, true);
    batch_.block_tables = {tables_[0], tables_[1]};
  }

  std::vector<float> Embeddings() const {
    const int64_t d = model_->hparams().n_embd;
    std::vector<float> x(static_cast<size_t>(batch_.size() * d));
    for (int32_t t = 0; t < batch_.size(); ++t) DequantizeWeightRow(model_->weights().tok_embd, batch_.tokens[t], &x[t * d]);
    return x;
  }
  size_t LogitsSize() const {
    return static_cast<size_t>(batch_.n_outputs()) * static_cast<size_t>(model_->hparams().n_vocab);
  }

  std::unique_ptr<Model> model_;
  KvLayout layout_;
  std::vector<std::vector<int32_t>> tables_;
  Batch batch_;
};

TEST_F(ForwardPassTest, LayerRangesPlusHeadEqualForward) {
  ThreadPool pool(2);
  ForwardPass graph(*model_, pool, kTestContext);
  TestPool whole(layout_, 3, 0), split(layout_, 3, 0);
  std::vector<float> expected(LogitsSize());
  ASSERT_TRUE(graph.Forward(batch_, whole.view, expected.data()).ok());

  std::vector<float> x = Embeddings();
  std::vector<float> logits(LogitsSize());
  ASSERT_TRUE(graph.RunLayers(batch_, split.view, 0, 2, x.data()).ok());
  ASSERT_TRUE(graph.RunLayers(batch_, split.view, 2, 2, x.data()).ok());  // empty range: no-op
  ASSERT_TRUE(graph.RunLayers(batch_, split.view, 2, model_->hparams().n_layer, x.data()).ok());
  ASSERT_TRUE(graph.Head(batch_, x.data(), logits.data()).ok());
  EXPECT_EQ(logits, expected);
  EXPECT_EQ(std::memcmp(whole.memory.get(), split.memory.get(), whole.size), 0);
}

TEST_F(ForwardPassTest, BadLayerRangeIsInvalidArgument) {
  ThreadPool pool(1);
  ForwardPass graph(*model_, pool, kTestContext);
  TestPool kv(layout_, 3, 0);
  std::vector<float> x = Embeddings();
  const int32_t n = model_->hparams().n_layer;
  EXPECT_EQ(graph.RunLayers(batch_, kv.view, -1, 2, x.data()).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(graph.RunLayers(batch_, kv.view, 3, 2, x.data()).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(graph.RunLayers(batch_, kv.view, 0, n + 1, x.data()).code(), StatusCode::kInvalidArgument);
}

// Records what the graph hands over and answers with fixed logits.
class RecordingOffload : public LayerOffload {
 public:
  RecordingOffload(int32_t first, int64_t n_embd) : first_(first), n_embd_(n_embd) {}
  int32_t first_layer() const override { return first_; }
  Status Forward(const Batch& batch, const float* x, float* logits) override {
    x_.assign(x, x + batch.size() * n_embd_);
    outputs_ = batch.n_outputs();
    logits[0] = 42.0f;
    return Status::Ok();
  }
  Status CopyKvBlock(int32_t, int32_t) override { return Status::Ok(); }
  std::string Describe() const override { return "recording"; }
  uint64_t DeviceBytes() const override { return 0; }  // holds nothing of its own

  int32_t first_;
  int64_t n_embd_;
  std::vector<float> x_;
  int32_t outputs_ = 0;
};

TEST_F(ForwardPassTest, OffloadGetsTheHiddenStatesAfterItsFirstLayer) {
  ThreadPool pool(2);
  ForwardPass graph(*model_, pool, kTestContext);
  const int32_t n = model_->hparams().n_layer;
  for (int32_t first : {0, 3, n}) {
    SCOPED_TRACE(first);
    RecordingOffload offload(first, model_->hparams().n_embd);
    graph.SetOffload(&offload);
    TestPool kv(layout_, 3, 0xff), ref_kv(layout_, 3, 0xff);
    std::vector<float> logits(LogitsSize(), 0.0f);
    ASSERT_TRUE(graph.Forward(batch_, kv.view, logits.data()).ok());
    EXPECT_EQ(logits[0], 42.0f);
    EXPECT_EQ(offload.outputs_, 4);  // last of a, all three of b

    std::vector<float> x = Embeddings();
    ASSERT_TRUE(graph.RunLayers(batch_, ref_kv.view, 0, first, x.data()).ok());
    EXPECT_EQ(offload.x_, x);
    // The CPU wrote the K/V of its own layers only: the offloaded ones keep
    // the fill, in every block.
    EXPECT_EQ(std::memcmp(kv.memory.get(), ref_kv.memory.get(), kv.size), 0);
    if (first < n) {
      const uint8_t* row = kv.view.base + layout_.k_offset(first);
      EXPECT_EQ(row[0], 0xff);
    }
  }
  graph.SetOffload(nullptr);
  TestPool kv(layout_, 3, 0);
  std::vector<float> logits(LogitsSize(), 0.0f);
  ASSERT_TRUE(graph.Forward(batch_, kv.view, logits.data()).ok());
  EXPECT_NE(logits[0], 42.0f);
}

// With an offload the host pool needs only the CPU's layers.
TEST_F(ForwardPassTest, HostPoolNeedsOnlyTheLayersBeforeTheOffload) {
  ThreadPool pool(1);
  ForwardPass graph(*model_, pool, kTestContext);
  RecordingOffload offload(3, model_->hparams().n_embd);
  graph.SetOffload(&offload);
  KvLayout three = layout_, two = layout_;
  three.n_layer = 3;
  two.n_layer = 2;
  TestPool enough(three, 3, 0), short_pool(two, 3, 0);
  std::vector<float> logits(LogitsSize());
  EXPECT_TRUE(graph.Forward(batch_, enough.view, logits.data()).ok());
  EXPECT_EQ(graph.Forward(batch_, short_pool.view, logits.data()).code(), StatusCode::kInvalidArgument);
  graph.SetOffload(nullptr);
  EXPECT_EQ(graph.Forward(batch_, enough.view, logits.data()).code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace jarvis
