// The engine with each KV cache type (quant/kv_type.h): Q8_0 K/V against an
// exact F32 cache on tiny random models, the batch / thread invariance that
// holds for every type, what Create refuses, and the pool sizing.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <memory>
#include <ostream>
#include <string>
#include <tuple>
#include <vector>

#include "engine/engine.h"
#include "kernels/cpu/isa.h"
#include "support/tiny_model.h"

namespace jarvis {
namespace {

struct Shape {
  const char* name;
  test::TinyModelSpec spec;
};

// head_dim 16 (two heads share a Q8_0 block), 64 (the kernels' fixed-size
// paths, one block pair per head) and 32 with GQA 4:1 and a soft-capped,
// sliding-window arch.
std::vector<Shape> Shapes() {
  std::vector<Shape> out;
  out.push_back({"hd16", test::TinyModelSpec{}});
  test::TinyModelSpec wide;
  wide.n_embd = 256;
  wide.n_head = 4;
  wide.n_head_kv = 2;
  wide.n_ff = 256;
  out.push_back({"hd64", wide});
  test::TinyModelSpec gemma2;
  gemma2.arch = "gemma2";
  gemma2.head_dim = 32;
  gemma2.n_head = 8;
  gemma2.n_head_kv = 2;
  gemma2.tied_embeddings = true;
  gemma2.sliding_window = 5;
  gemma2.attn_softcap = 2.0f;
  gemma2.final_softcap = 4.0f;
  out.push_back({"gemma2_hd32", gemma2});
  return out;
}

// Keeps CTest's test list readable (gtest would print the struct's bytes).
void PrintTo(const Shape& s, std::ostream* os) { *os << s.name; }

// (shape, fast): fast runs on the best ISA this CPU has, else on the scalar kernels.
class KvTypeEngineTest : public ::testing::TestWithParam<std::tuple<Shape, bool>> {
 protected:
  void SetUp() override {
    pin_ = std::make_unique<ScopedKernelIsa>(std::get<1>(GetParam()) ? BestKernelIsa() : KernelIsa::kScalar);
    ASSERT_TRUE(pin_->ok());
    path_ = test::TempPath(std::string("kvtype-") + std::get<0>(GetParam()).name);
    ASSERT_TRUE(test::WriteTinyModel(std::get<0>(GetParam()).spec, path_).ok());
    auto model = Model::Load(path_);
    ASSERT_TRUE(model.ok()) << model.status().ToString();
    model_ = std::move(model).value();
  }
  void TearDown() override { std::remove(path_.c_str()); }

  std::unique_ptr<Engine> MakeEngine(KvType type, int threads) {
    EngineOptions o;
    o.n_threads = threads;
    o.n_ctx = 128;
    o.max_sequences = 4;
    o.kv_type = type;
    o.gpu_layers = 0;
    auto e = Engine::Create(*model_, o);
    EXPECT_TRUE(e.ok()) << e.status().ToString();
    return e.ok() ? std::move(e).value() : nullptr;
  }

  std::unique_ptr<ScopedKernelIsa> pin_;
  std::string path_;
  std::unique_ptr<Model> model_;
};

// The logits of `tokens` fed to one sequence: the prompt (first n_prompt
// tokens) as one batch, then one token per step; one logits row per step.
std::vector<std::vector<float>> TeacherForced(Engine& e, const std::vector<int32_t>& tokens, size_t n_prompt) {
  const int32_t seq = e.kv().CreateSequence();
  std::vector<std::vector<float>> out;
  std::vector<float> logits;
  Batch batch;
  EXPECT_TRUE(e.kv().Reserve(seq, static_cast<int32_t>(n_prompt)).ok());
  for (size_t i = 0; i < n_prompt; ++i) batch.Add(tokens[i], static_cast<int32_t>(i), 0, i + 1 == n_prompt);
  batch.block_tables = {e.kv().block_table(seq)};
  EXPECT_TRUE(e.Decode(batch, &logits).ok());
  out.push_back(logits);
  for (size_t i = n_prompt; i < tokens.size(); ++i) {
    EXPECT_TRUE(e.kv().Reserve(seq, static_cast<int32_t>(i + 1)).ok());
    batch.Clear();
    batch.Add(tokens[i], static_cast<int32_t>(i), 0, true);
    batch.block_tables = {e.kv().block_table(seq)};
    EXPECT_TRUE(e.Decode(batch, &logits).ok());
    out.push_back(logits);
  }
  e.kv().FreeSequence(seq);
  return out;
}

std::vector<int32_t> Tokens(size_t n) {
  std::vector<int32_t> t = {1};
  while (t.size() < n) t.push_back(static_cast<int32_t>(3 + (t.size() * 37) % 290));
  return t;
}

// Q8_0 K/V against an exact F32 cache: max |q8 - f32| / max |f32| over the
// logits of a 20-token prompt and 40 decode steps. Q8_0 rounds each K/V value
// to within amax/254 of its block; through two layers of these random models
// the logits moved by at most 0.9% (measured: hd16 0.49%, hd64 0.35%,
// gemma2 0.90%, the same on every ISA). The bound leaves ~2x margin, and is
// far below what a wrong row (a misplaced block or scale) gives.
TEST_P(KvTypeEngineTest, Q8_0LogitsAreCloseToF32) {
  const std::vector<int32_t> tokens = Tokens(60);
  auto exact = MakeEngine(KvType::kF32, 2);
  auto q8 = MakeEngine(KvType::kQ8_0, 2);
  ASSERT_TRUE(exact && q8);
  const auto want = TeacherForced(*exact, tokens, 20);
  const auto got = TeacherForced(*q8, tokens, 20);
  ASSERT_EQ(got.size(), want.size());
  double worst = 0.0;
  for (size_t s = 0; s < want.size(); ++s) {
    double max_ref = 0.0, max_diff = 0.0;
    for (size_t i = 0; i < want[s].size(); ++i) {
      max_ref = std::max(max_ref, std::fabs(static_cast<double>(want[s][i])));
      max_diff = std::max(max_diff, std::fabs(static_cast<double>(got[s][i]) - want[s][i]));
    }
    worst = std::max(worst, max_diff / max_ref);
  }
  EXPECT_LT(worst, 2e-2);
  EXPECT_GT(worst, 0.0);  // the cache really is quantized
  RecordProperty("max_rel_logit_diff", std::to_string(worst));
  std::printf("q8_0 vs f32 KV: max relative logit difference %.2e\n", worst);
}

// With any KV type a sequence's logits are bit-identical whatever the thread
// count and whatever else is in the batch (sequences joining at other steps,
// prompts beside decode tokens).
TEST_P(KvTypeEngineTest, LogitsDoNotDependOnThreadsOrBatch) {
  for (KvType type : {KvType::kF16, KvType::kQ8_0}) {
    const std::vector<int32_t> tokens = Tokens(30);
    auto one = MakeEngine(type, 1);
    auto two = MakeEngine(type, 3);
    ASSERT_TRUE(one && two);
    const auto alone = TeacherForced(*one, tokens, 6);
    EXPECT_EQ(TeacherForced(*two, tokens, 6), alone) << KvTypeName(type);

    // Sequence 0 (tokens) beside three others of different prompts, joining
    // at steps 0..3, in one batch per step on `two`.
    KvCache& kv = two->kv();
    const std::vector<std::vector<int32_t>> prompts = {
        {}, {1, 260}, {1, 270, 271, 272, 273, 274, 2, 5, 6, 7}, {1}};
    std::vector<int32_t> seqs, pos(4, 0);
    for (int i = 0; i < 4; ++i) seqs.push_back(kv.CreateSequence());
    std::vector<float> logits;
    size_t step0 = 0;  // sequence 0's next row of `alone`
    for (int step = 0; step0 < alone.size(); ++step) {
      Batch b;
      std::vector<int> members;
      for (int i = 0; i < 4; ++i) {
        if (step < i) continue;
        const int32_t idx = static_cast<int32_t>(members.size());
        members.push_back(i);
        if (i == 0) {
          if (pos[0] == 0) {
            for (int32_t j = 0; j < 6; ++j) b.Add(tokens[static_cast<size_t>(j)], j, idx, j == 5);
            pos[0] = 6;
          } else {
            b.Add(tokens[static_cast<size_t>(pos[0])], pos[0], idx, true);
            ++pos[0];
          }
        } else if (pos[i] == 0) {
          const auto& p = prompts[static_cast<size_t>(i)];
          for (size_t j = 0; j < p.size(); ++j) b.Add(p[j], static_cast<int32_t>(j), idx, j + 1 == p.size());
          pos[i] = static_cast<int32_t>(p.size());
        } else {
          b.Add(3 + (step * 11 + i) % 250, pos[i]++, idx, true);
        }
        ASSERT_TRUE(kv.Reserve(seqs[static_cast<size_t>(i)], pos[i]).ok());
      }
      for (int i : members) b.block_tables.push_back(kv.block_table(seqs[static_cast<size_t>(i)]));
      ASSERT_TRUE(two->Decode(b, &logits).ok());
      // Sequence 0 is the batch's first member: its logits are row 0.
      ASSERT_TRUE(std::equal(alone[step0].begin(), alone[step0].end(), logits.begin()))
          << KvTypeName(type) << " step " << step;
      ++step0;
    }
    EXPECT_EQ(step0, alone.size()) << KvTypeName(type);
    for (int32_t s : seqs) kv.FreeSequence(s);
  }
}

INSTANTIATE_TEST_SUITE_P(Shapes, KvTypeEngineTest,
                         ::testing::Combine(::testing::ValuesIn(Shapes()), ::testing::Bool()),
                         [](const auto& p) {
                           return std::string(std::get<0>(p.param).name) + (std::get<1>(p.param) ? "_fast" : "_scalar");
                         });

// Q8_0 rows must be whole blocks of 32: 2 KV heads x head_dim 12 is refused,
// naming head_dim, and no engine is built (no crash later).
TEST(KvTypeEngineCreateTest, Q8_0RefusesRowsThatAreNotWholeBlocks) {
  test::TinyModelSpec spec;
  spec.n_embd = 48;
  spec.n_head = 4;
  spec.n_head_kv = 2;  // head_dim 12: rows of 24
  const std::string path = test::TempPath("kvtype-hd12");
  ASSERT_TRUE(test::WriteTinyModel(spec, path).ok());
  auto model = Model::Load(path);
  std::remove(path.c_str());
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  EngineOptions o;
  o.n_ctx = 64;
  o.gpu_layers = 0;
  o.kv_type = KvType::kQ8_0;
  auto e = Engine::Create(**model, o);
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(e.status().message().find("head_dim 12"), std::string::npos) << e.status().message();
  o.kv_type = KvType::kF16;  // the other types take any head_dim
  EXPECT_TRUE(Engine::Create(**model, o).ok());
}

// Q8_0 runs on the CPU only: explicit GPU layers are refused whether or not a
// GPU is present (a request for all layers, or for the last one).
TEST(KvTypeEngineCreateTest, Q8_0RefusesGpuLayers) {
  const std::string path = test::TempPath("kvtype-gpu");
  ASSERT_TRUE(test::WriteTinyModel(test::TinyModelSpec{}, path).ok());
  auto model = Model::Load(path);
  std::remove(path.c_str());
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  EngineOptions o;
  o.n_ctx = 64;
  o.kv_type = KvType::kQ8_0;
  for (int32_t gpu_layers : {-1, 1}) {
    o.gpu_layers = gpu_layers;
    auto e = Engine::Create(**model, o);
    ASSERT_FALSE(e.ok()) << gpu_layers;
    EXPECT_EQ(e.status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(e.status().message(), "kv_type q8_0 runs on the CPU only; use --gpu-layers 0 or --kv-type f16");
  }
  o.gpu_layers = 0;
  EXPECT_TRUE(Engine::Create(**model, o).ok());
}

// The same budget holds ~1.9x the positions in Q8_0 as in F16: 34 bytes per
// 32 elements instead of 64.
TEST(KvTypeEngineCreateTest, BudgetHoldsMorePositionsInQ8_0) {
  KvLayout layout;
  layout.n_layer = 16;
  layout.n_embd_kv = 512;  // llama3-1b
  layout.block_size = 16;
  layout.type = KvType::kF16;
  EXPECT_EQ(layout.row_bytes(), 1024u);
  const size_t budget = size_t{1} << 30;
  const int32_t f16_blocks = KvCache::BlocksForBudget(layout, budget);
  layout.type = KvType::kQ8_0;
  EXPECT_EQ(layout.row_bytes(), 16u * 34u);
  EXPECT_EQ(KvCache::BlocksForBudget(layout, budget), static_cast<int32_t>(budget / (2u * 16u * 16u * 16u * 34u)));
  EXPECT_GT(KvCache::BlocksForBudget(layout, budget), f16_blocks * 188 / 100);
}

}  // namespace
}  // namespace jarvis
