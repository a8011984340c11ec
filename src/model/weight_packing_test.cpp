// PackedWeights at model load: which matrices get a packed copy (only those
// of the layers that stay on the CPU, and the output head when all do), and
// that a forward pass over packed weights gives the same logits, bit for bit,
// as over the GGUF layout.
#include "model/weight_packing.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "model/forward_pass.h"
#include "model/model.h"
#include "support/tiny_model.h"

namespace jarvis {
namespace {

class WeightPackingTest : public ::testing::TestWithParam<GgmlType> {
 protected:
  void SetUp() override {
    if (!PackedWeights::Enabled()) GTEST_SKIP() << "packing is off here (no AVX2, or JARVIS_REPACK=0)";
    spec_.weight_type = GetParam();
    spec_.n_embd = 256;  // K types need rows of 256
    spec_.n_ff = 512;
    spec_.n_head = 4;
    spec_.n_head_kv = 2;
    spec_.n_layer = 3;
    path_ = test::TempPath(std::string("pack-") + TypeName(GetParam()));
    ASSERT_TRUE(test::WriteTinyModel(spec_, path_).ok());
  }
  void TearDown() override { std::remove(path_.c_str()); }

  std::unique_ptr<Model> Load(int32_t cpu_layers) {
    ModelLoadOptions options;
    options.cpu_layers = [cpu_layers](int32_t) { return cpu_layers; };
    auto m = Model::Load(path_, options);
    EXPECT_TRUE(m.ok()) << m.status().ToString();
    return m.ok() ? std::move(m).value() : nullptr;
  }

  // Logits of a two-sequence prompt batch.
  std::vector<float> Logits(const Model& model) {
    const HParams& hp = model.hparams();
    KvLayout layout;
    layout.n_layer = hp.n_layer;
    layout.n_embd_kv = hp.n_embd_kv();
    layout.block_size = 8;
    std::vector<uint8_t> pool(4 * layout.block_bytes());
    KvPoolView view{layout, pool.data(), 4};
    const std::vector<int32_t> t0 = {0, 1}, t1 = {2, 3};
    Batch batch;
    for (int32_t i = 0; i < 11; ++i) batch.Add(3 + (i * 37) % 250, i, 0, true);
    for (int32_t i = 0; i < 5; ++i) batch.Add(5 + (i * 53) % 250, i, 1, true);
    batch.block_tables = {t0, t1};
    ThreadPool threads(2);
    ForwardPass graph(model, threads, 64);
    std::vector<float> logits(static_cast<size_t>(batch.n_outputs()) * hp.n_vocab);
    EXPECT_TRUE(graph.Forward(batch, view, logits.data()).ok());
    return logits;
  }

  test::TinyModelSpec spec_;
  std::string path_;
};

TEST_P(WeightPackingTest, PacksOnlyTheCpuLayersAndTheHeadWhenAllAreOnTheCpu) {
  const auto all = Load(spec_.n_layer);
  ASSERT_NE(all, nullptr);
  ASSERT_NE(all->packed(), nullptr);
  EXPECT_EQ(all->packed()->matrices(), 7 * spec_.n_layer + 1);
  for (const LayerWeights& l : all->weights().layers) EXPECT_NE(l.w_down.packed, nullptr);
  EXPECT_NE(all->weights().output.packed, nullptr);
  EXPECT_EQ(all->weights().tok_embd.packed, nullptr);  // lookups read GGUF rows

  const auto one = Load(1);
  ASSERT_NE(one, nullptr);
  EXPECT_NE(one->weights().layers[0].wq.packed, nullptr);
  EXPECT_EQ(one->weights().layers[1].wq.packed, nullptr);
  EXPECT_EQ(one->weights().output.packed, nullptr);

  const auto none = Load(0);
  ASSERT_NE(none, nullptr);
  EXPECT_EQ(none->packed(), nullptr);
}

TEST_P(WeightPackingTest, ForwardIsBitIdenticalWithAndWithoutPacking) {
  const auto packed = Load(spec_.n_layer);
  const auto plain = Load(0);
  ASSERT_TRUE(packed && plain);
  ASSERT_NE(packed->packed(), nullptr);
  EXPECT_EQ(Logits(*packed), Logits(*plain));
}

INSTANTIATE_TEST_SUITE_P(PackableTypes, WeightPackingTest,
                         ::testing::Values(GgmlType::kQ4_0, GgmlType::kQ8_0, GgmlType::kQ4_K, GgmlType::kQ6_K),
                         [](const ::testing::TestParamInfo<GgmlType>& p) { return std::string(TypeName(p.param)); });

}  // namespace
}  // namespace jarvis
