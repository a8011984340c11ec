// The engine's offload seam without a GPU: a CPU stand-in LayerOffload (its
// own ForwardPass and KV pool over the same model, running layers [first, n)
// and the head) must give logits bit-identical to the plain CPU engine on
// stories260K and a tiny model of every other architecture, over
// multi-sequence batches, decode steps, prefix sharing and a
// Truncate that copies a shared block (which the offload must follow through
// the KV cache's copy listener). The stand-in runs at the engine's context, so
// phi3's run-dependent rope factors are part of the seam. Also: Engine::Create
// never fails for a GPU it cannot have, gpu_layers is validated, and where a
// GPU exists the CUDA offload matches the CPU on every architecture.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "engine/engine.h"
#include "gpu/gpu_backend.h"
#include "support/test_paths.h"
#include "support/tiny_model.h"

namespace jarvis {
namespace {

// Runs layers [first, n) and the head on the CPU, with its own KV pool: what a
// GPU offload does, in host memory. The pool starts as NaN bytes, so K/V the
// offload never wrote or copied poisons the logits.
class CpuLayerOffload : public LayerOffload {
 public:
  static std::unique_ptr<CpuLayerOffload> Create(const Model& model, int32_t first, const KvLayout& layout,
                                                 int32_t n_blocks, int32_t n_ctx) {
    auto kv = KvCache::Create(layout, n_blocks);
    if (!kv.ok()) return nullptr;
    std::unique_ptr<CpuLayerOffload> o(new CpuLayerOffload(model, first, std::move(kv).value(), n_ctx));
    std::memset(o->kv_->view().base, 0xff, static_cast<size_t>(n_blocks) * layout.block_bytes());
    return o;
  }

  int32_t first_layer() const override { return first_; }
  Status Forward(const Batch& batch, const float* x, float* logits) override {
    ++forwards_;
    x_.assign(x, x + static_cast<size_t>(batch.size()) * static_cast<size_t>(model_.hparams().n_embd));
    JARVIS_RETURN_IF_ERROR(graph_.RunLayers(batch, kv_->view(), first_, model_.hparams().n_layer, x_.data()));
    return graph_.Head(batch, x_.data(), logits);
  }
  Status CopyKvBlock(int32_t src, int32_t dst) override {
    ++copies_;
    const size_t bytes = kv_->layout().block_bytes();
    uint8_t* base = kv_->view().base;
    std::memmove(base + static_cast<size_t>(dst) * bytes, base + static_cast<size_t>(src) * bytes, bytes);
    return Status::Ok();
  }
  std::string Describe() const override { return "cpu-offload from layer " + std::to_string(first_); }
  // What it holds beside the model: its KV pool (it reads the host weights).
  uint64_t DeviceBytes() const override {
    return static_cast<uint64_t>(kv_->n_blocks()) * kv_->layout().block_bytes();
  }

  int forwards_ = 0;
  int copies_ = 0;

 private:
  CpuLayerOffload(const Model& model, int32_t first, std::unique_ptr<KvCache> kv, int32_t n_ctx)
      : model_(model), first_(first), pool_(1), graph_(model, pool_, n_ctx), kv_(std::move(kv)) {}

  const Model& model_;
  int32_t first_;
  ThreadPool pool_;
  ForwardPass graph_;
  std::unique_ptr<KvCache> kv_;  // only its memory is used; the engine's cache owns the block ids
  std::vector<float> x_;
};

int32_t Argmax(const float* v, int32_t n) { return static_cast<int32_t>(std::max_element(v, v + n) - v); }

struct Trace {
  std::vector<std::vector<float>> logits;  // every Decode's output
  std::vector<int32_t> tokens;             // every greedy choice
};

// One scripted session: two prompts prefilled in one batch, decode steps, a
// third sequence that reuses the first one's cached prefix, then a Truncate of
// it into a shared block (copy-on-write) and more batched decoding.
Trace RunScript(Engine& e) {
  KvCache& kv = e.kv();
  const int32_t n_vocab = e.model().hparams().n_vocab;
  Trace trace;
  std::vector<std::vector<int32_t>> toks = {{1, 403, 72, 288, 15, 301, 99, 17, 260, 44}, {1, 45, 460}, {}};
  std::vector<int32_t> seqs = {kv.CreateSequence(), kv.CreateSequence(), kv.CreateSequence()};
  std::vector<int32_t> done(3, 0);  // positions whose K/V are written
  std::vector<bool> active = {true, true, false};
  // One forward step over every active sequence's pending tokens; each
  // sequence gets its greedy next token appended.
  auto step = [&]() {
    Batch b;
    std::vector<int32_t> order;
    for (int i = 0; i < 3; ++i) {
      if (!active[static_cast<size_t>(i)]) continue;
      const int32_t idx = static_cast<int32_t>(order.size());
      order.push_back(i);
      auto& t = toks[static_cast<size_t>(i)];
      const int32_t n = static_cast<int32_t>(t.size());
      EXPECT_TRUE(kv.Reserve(seqs[static_cast<size_t>(i)], n).ok());
      for (int32_t p = done[static_cast<size_t>(i)]; p < n; ++p) b.Add(t[static_cast<size_t>(p)], p, idx, p + 1 == n);
    }
    for (int i : order) b.block_tables.push_back(kv.block_table(seqs[static_cast<size_t>(i)]));
    std::vector<float> logits;
    const Status st = e.Decode(b, &logits);
    EXPECT_TRUE(st.ok()) << st.ToString();
    if (!st.ok()) return;
    trace.logits.push_back(logits);
    for (size_t k = 0; k < order.size(); ++k) {
      auto& t = toks[static_cast<size_t>(order[k])];
      done[static_cast<size_t>(order[k])] = static_cast<int32_t>(t.size());
      kv.CommitTokens(seqs[static_cast<size_t>(order[k])], t);
      const int32_t next = Argmax(&logits[k * static_cast<size_t>(n_vocab)], n_vocab);
      trace.tokens.push_back(next);
      t.push_back(next);
    }
  };
  for (int s = 0; s < 4; ++s) step();
  // Sequence 2 starts with sequence 0's first 9 tokens: blocks 0-1 (positions
  // 0..7, block size 4) come from the prefix cache.
  toks[2].assign(toks[0].begin(), toks[0].begin() + 9);
  toks[2].push_back(7);
  const PrefixMatch match = kv.MatchPrefix(toks[2]);
  EXPECT_EQ(match.n_tokens, 8);
  EXPECT_TRUE(kv.AttachPrefix(seqs[2], match).ok());
  done[2] = match.n_tokens;
  active[2] = true;
  for (int s = 0; s < 3; ++s) step();
  // Back to position 6: the block of positions 4..7 is shared with sequence 0,
  // so the cache copies it; then a different continuation.
  EXPECT_TRUE(kv.Truncate(seqs[2], 6).ok());
  toks[2].resize(6);
  toks[2].push_back(300);
  done[2] = 6;
  for (int s = 0; s < 4; ++s) step();
  for (int32_t s : seqs) kv.FreeSequence(s);
  return trace;
}

// The tiny random model of each architecture (model/arch.h) beyond llama,
// with its features on (windows of a few positions: the script reaches
// position ~17), or "stories" for the real llama model.
test::TinyModelSpec ArchModel(const std::string& arch) {
  test::TinyModelSpec s;
  s.arch = arch;
  s.n_vocab = 512;  // the script's token ids are stories260K's
  s.n_layer = 3;
  if (arch == "qwen3") s.head_dim = 32;
  if (arch == "gemma2" || arch == "gemma3") {
    s.head_dim = 32;
    s.tied_embeddings = true;
    s.sliding_window = 5;
    s.swa_period = 2;
  }
  if (arch == "gemma2") {
    s.attn_softcap = 2.0f;
    s.final_softcap = 4.0f;
  }
  if (arch == "gemma3") s.rope_base_swa = 10000.0f;
  if (arch == "phi3") {
    s.sliding_window = 6;
    s.rope_attn_factor = 1.2f;
    s.rope_orig_ctx = 32;  // the engines' context is 64: the long rope factors, chosen per run
  }
  return s;
}

class OffloadSeamTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    std::string path = test::StoriesModelPath();
    if (GetParam() != "stories") {
      path_ = test::TempPath("seam-" + GetParam());
      ASSERT_TRUE(test::WriteTinyModel(ArchModel(GetParam()), path_).ok());
      path = path_;
    }
    auto m = Model::Load(path);
    ASSERT_TRUE(m.ok()) << m.status().ToString();
    model_ = std::move(m).value();
  }
  void TearDown() override {
    if (!path_.empty()) std::remove(path_.c_str());
  }
  std::string path_;
  std::unique_ptr<Engine> MakeEngine() {
    EngineOptions o;
    o.n_threads = 2;
    o.n_ctx = 64;
    o.max_sequences = 3;
    o.kv_block_size = 4;
    o.gpu_layers = 0;
    auto e = Engine::Create(*model_, o);
    EXPECT_TRUE(e.ok()) << e.status().ToString();
    return e.ok() ? std::move(e).value() : nullptr;
  }
  // A stand-in for `engine` running layers [first, n) at the engine's context.
  std::unique_ptr<CpuLayerOffload> StandIn(Engine& engine, int32_t first) {
    return CpuLayerOffload::Create(*model_, first, engine.kv().layout(), engine.kv().n_blocks(), engine.n_ctx());
  }
  std::unique_ptr<Model> model_;
};

TEST_P(OffloadSeamTest, CpuStandInOffloadGivesBitIdenticalLogits) {
  auto plain = MakeEngine();
  ASSERT_NE(plain, nullptr);
  EXPECT_EQ(plain->gpu_layers(), 0);
  EXPECT_EQ(plain->GpuBytes(), 0u);
  EXPECT_EQ(plain->backend().rfind("cpu (", 0), 0u) << plain->backend();
  const Trace expected = RunScript(*plain);
  ASSERT_EQ(expected.logits.size(), 11u);

  const int32_t n_layer = model_->hparams().n_layer;
  for (int32_t first : {0, 2, n_layer - 1}) {
    SCOPED_TRACE("first layer " + std::to_string(first));
    auto engine = MakeEngine();
    ASSERT_NE(engine, nullptr);
    auto offload = StandIn(*engine, first);
    ASSERT_NE(offload, nullptr);
    CpuLayerOffload* raw = offload.get();
    engine->SetOffload(std::move(offload));
    EXPECT_EQ(engine->gpu_layers(), n_layer - first);
    EXPECT_EQ(engine->GpuBytes(), static_cast<uint64_t>(engine->kv().n_blocks()) * engine->kv().layout().block_bytes());
    EXPECT_EQ(engine->backend(), "cpu-offload from layer " + std::to_string(first));

    const Trace got = RunScript(*engine);
    EXPECT_EQ(got.tokens, expected.tokens);
    ASSERT_EQ(got.logits.size(), expected.logits.size());
    for (size_t s = 0; s < got.logits.size(); ++s) EXPECT_EQ(got.logits[s], expected.logits[s]) << "step " << s;
    EXPECT_EQ(raw->forwards_, 11);
    EXPECT_EQ(raw->copies_, 1);  // the Truncate into the shared block
  }
}

// Without the copy listener the offload's copy of the block stays poisoned:
// the test above would catch a seam that forgot to wire it.
TEST_P(OffloadSeamTest, UnwiredCopyListenerIsDetected) {
  auto plain = MakeEngine();
  ASSERT_NE(plain, nullptr);
  const Trace expected = RunScript(*plain);
  auto engine = MakeEngine();
  ASSERT_NE(engine, nullptr);
  engine->SetOffload(StandIn(*engine, 2));
  engine->kv().set_block_copy_listener(nullptr);
  const Trace got = RunScript(*engine);
  ASSERT_EQ(got.logits.size(), expected.logits.size());
  EXPECT_NE(got.logits.back(), expected.logits.back());
  // Up to the copy, the seam still matches.
  EXPECT_EQ(got.logits[6], expected.logits[6]);
}

TEST_P(OffloadSeamTest, RemovingTheOffloadReturnsToTheCpu) {
  auto engine = MakeEngine();
  ASSERT_NE(engine, nullptr);
  engine->SetOffload(StandIn(*engine, 1));
  engine->SetOffload(nullptr);
  EXPECT_EQ(engine->gpu_layers(), 0);
  auto plain = MakeEngine();
  ASSERT_NE(plain, nullptr);
  EXPECT_EQ(RunScript(*engine).logits, RunScript(*plain).logits);
}

// The CUDA offload (gpu/cuda_offload.cpp: the same LayerGraph over
// CudaLayerOps) against the CPU on every architecture, all layers and the
// last one on the GPU. Not bit-identical (other summation orders): logits
// within 1e-3 of max |logit| at every step while both runs chose the same
// tokens. Skipped without a GPU.
TEST_P(OffloadSeamTest, CudaOffloadMatchesTheCpu) {
  if (ProbeGpus().devices.empty()) GTEST_SKIP() << "no GPU: " << ProbeGpus().unavailable_reason;
  auto plain = MakeEngine();
  ASSERT_NE(plain, nullptr);
  const Trace want = RunScript(*plain);
  const int32_t n_vocab = model_->hparams().n_vocab;
  for (int32_t gpu_layers : {-1, 1}) {
    SCOPED_TRACE("gpu layers " + std::to_string(gpu_layers));
    EngineOptions o;
    o.n_threads = 2;
    o.n_ctx = 64;
    o.max_sequences = 3;
    o.kv_block_size = 4;
    o.gpu_layers = gpu_layers;
    auto e = Engine::Create(*model_, o);
    ASSERT_TRUE(e.ok()) << e.status().ToString();
    ASSERT_EQ((*e)->backend().rfind("cuda:", 0), 0u) << (*e)->backend();
    const Trace got = RunScript(**e);
    ASSERT_EQ(got.logits.size(), want.logits.size());
    size_t token = 0;  // index into the traces' tokens: the choices before step s
    for (size_t s = 0; s < want.logits.size(); ++s) {
      if (!std::equal(want.tokens.begin(), want.tokens.begin() + static_cast<std::ptrdiff_t>(token),
                      got.tokens.begin())) {
        break;  // a near-tie went the other way: later steps are not comparable
      }
      float max_ref = 0.0f, max_diff = 0.0f;
      for (size_t i = 0; i < want.logits[s].size(); ++i) {
        max_ref = std::max(max_ref, std::fabs(want.logits[s][i]));
        max_diff = std::max(max_diff, std::fabs(want.logits[s][i] - got.logits[s][i]));
      }
      EXPECT_LE(max_diff, 1e-3f * max_ref) << "step " << s;
      token += want.logits[s].size() / static_cast<size_t>(n_vocab);
    }
  }
}

// Asking for the GPU where there is none (or the build lacks CUDA) still gives
// a working CPU engine; only values below -1 (other than kGpuLayersAuto) are
// refused.
TEST_P(OffloadSeamTest, GpuRequestWithoutUsableGpuFallsBackToTheCpu) {
  if (!ProbeGpus().devices.empty()) GTEST_SKIP() << "a GPU is present: " << DescribeGpuBackend();
  for (int32_t n : {-1, 1, 1000, kGpuLayersAuto}) {
    SCOPED_TRACE(n);
    EngineOptions o;
    o.n_threads = 1;
    o.n_ctx = 32;
    o.gpu_layers = n;
    auto e = Engine::Create(*model_, o);
    ASSERT_TRUE(e.ok()) << e.status().ToString();
    EXPECT_EQ((*e)->gpu_layers(), 0);
    EXPECT_EQ((*e)->backend().rfind("cpu (", 0), 0u);
  }
}

TEST_P(OffloadSeamTest, GpuLayersBelowMinusOneAreInvalid) {
  EngineOptions o;
  o.gpu_layers = -3;
  EXPECT_EQ(Engine::Create(*model_, o).status().code(), StatusCode::kInvalidArgument);
}

INSTANTIATE_TEST_SUITE_P(Architectures, OffloadSeamTest,
                         ::testing::Values("stories", "qwen2", "qwen3", "gemma2", "gemma3", "phi3"),
                         [](const ::testing::TestParamInfo<std::string>& p) { return p.param; });

}  // namespace
}  // namespace jarvis
