// The scheduler's embedding queue on stories260K (a decoder embedder):
// batching across inputs and requests gives each input the vector it gets
// alone, generation and embeddings interleave, and cancellation, deadlines,
// the queue limit and shutdown end embedding requests cleanly.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <future>
#include <memory>
#include <mutex>
#include <random>
#include <thread>
#include <vector>

#include "engine/engine.h"
#include "model/model.h"
#include "scheduler/embed_prep.h"
#include "scheduler/scheduler.h"
#include "support/test_paths.h"
#include "support/tiny_model.h"

namespace jarvis {
namespace {

using std::chrono::milliseconds;

class SchedulerEmbedTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto m = Model::Load(test::StoriesModelPath());
    ASSERT_TRUE(m.ok()) << m.status().ToString();
    model_ = std::move(m).value().release();
  }
  static void TearDownTestSuite() { delete model_; }

  static std::unique_ptr<Scheduler> Make(int32_t max_batch_tokens = 512, int32_t max_queue = 64) {
    SchedulerOptions o;
    o.max_sequences = 4;
    o.max_batch_tokens = max_batch_tokens;
    o.max_queue = max_queue;
    o.n_ctx = 256;
    o.n_threads = 2;
    auto s = Scheduler::Create(*model_, o);
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    return std::move(s).value();
  }
  // An input of n tokens: BOS, then pseudo-random ordinary ids.
  static std::vector<int32_t> Input(size_t n, uint32_t seed) {
    std::mt19937 rng(seed);
    std::vector<int32_t> p = {1};
    while (p.size() < n) p.push_back(static_cast<int32_t>(259 + rng() % 250));
    return p;
  }
  // What a private engine gives for `input` alone.
  static std::vector<float> Alone(const std::vector<int32_t>& input) {
    EngineOptions eo;
    eo.n_threads = 1;
    eo.n_ctx = 256;
    auto engine = Engine::Create(*model_, eo);
    EXPECT_TRUE(engine.ok());
    std::vector<float> out;
    const Status s = (*engine)->Embed({input}, &out);
    EXPECT_TRUE(s.ok()) << s.ToString();
    return out;
  }
  static EmbedResult MustEmbed(Scheduler& s, EmbedRequest r) {
    auto h = s.SubmitEmbed(std::move(r));
    EXPECT_TRUE(h.ok()) << h.status().ToString();
    return h.ok() ? h->Wait() : EmbedResult{};
  }
  static void ExpectNear(const std::vector<float>& a, const std::vector<float>& b) {
    ASSERT_EQ(a.size(), b.size());
    for (size_t i = 0; i < a.size(); ++i) EXPECT_NEAR(a[i], b[i], 1e-5f) << "component " << i;
  }

  static Model* model_;
};
Model* SchedulerEmbedTest::model_ = nullptr;

TEST_F(SchedulerEmbedTest, InputsOfManyRequestsShareBatchesAndGetTheirSoloVectors) {
  auto s = Make(/*max_batch_tokens=*/96);
  std::vector<std::vector<int32_t>> inputs;
  for (uint32_t i = 0; i < 12; ++i) inputs.push_back(Input(5 + 7 * i % 40, 100 + i));
  // Three requests of four inputs each, submitted from three threads at once.
  std::vector<std::future<EmbedResult>> futures;
  for (int r = 0; r < 3; ++r) {
    EmbedRequest req;
    req.token_inputs.assign(inputs.begin() + 4 * r, inputs.begin() + 4 * (r + 1));
    futures.push_back(std::async(std::launch::async, [&s, req] { return MustEmbed(*s, req); }));
  }
  for (int r = 0; r < 3; ++r) {
    EmbedResult res = futures[r].get();
    ASSERT_TRUE(res.error.ok()) << res.error.ToString();
    ASSERT_EQ(res.embeddings.size(), 4u);
    int32_t tokens = 0;
    for (int i = 0; i < 4; ++i) {
      ExpectNear(res.embeddings[i], Alone(inputs[4 * r + i]));
      tokens += static_cast<int32_t>(inputs[4 * r + i].size());
    }
    EXPECT_EQ(res.prompt_tokens, tokens);
  }
  const SchedulerStats st = s->Stats();
  EXPECT_EQ(st.embed_requests, 3);
  EXPECT_EQ(st.embed_inputs, 12);
  // 12 inputs of ~280 tokens in batches of <= 96 tokens: packed, not one by one.
  EXPECT_LT(st.embed_batches, 12);
  EXPECT_GE(st.embed_batches, 3);
}

TEST_F(SchedulerEmbedTest, TextsAreTokenizedWithBosAndDimensionsRenormalize) {
  auto s = Make();
  EmbedRequest r;
  r.texts = {"Once upon a time"};
  r.dimensions = 16;
  EmbedResult res = MustEmbed(*s, r);
  ASSERT_TRUE(res.error.ok()) << res.error.ToString();
  auto ids = model_->tokenizer().Encode("Once upon a time");
  ASSERT_TRUE(ids.ok());
  EXPECT_EQ(res.prompt_tokens, static_cast<int32_t>(ids->size()));
  ASSERT_EQ(res.embeddings.size(), 1u);
  ExpectNear(res.embeddings[0], ShrinkEmbedding(Alone(*ids), 16));
  double norm = 0;
  for (float v : res.embeddings[0]) norm += v * v;
  EXPECT_NEAR(norm, 1.0, 1e-5);
}

TEST_F(SchedulerEmbedTest, GenerationAndEmbeddingsInterleave) {
  std::vector<StepStats> steps;
  std::mutex mu;
  SchedulerOptions o;
  o.max_sequences = 2;
  o.n_ctx = 256;
  o.n_threads = 2;
  o.max_batch_tokens = 32;
  o.on_step = [&](const StepStats& st) {
    std::lock_guard<std::mutex> lock(mu);
    steps.push_back(st);
  };
  auto made = Scheduler::Create(*model_, o);
  ASSERT_TRUE(made.ok());
  auto& s = *made;
  GenerateRequest gen;
  gen.prompt_tokens = Input(8, 1);
  gen.max_tokens = 40;
  gen.ignore_eos = true;
  gen.sampling.temperature = 0.0f;
  auto gh = s->Submit(gen);
  ASSERT_TRUE(gh.ok());
  EmbedRequest r;
  for (uint32_t i = 0; i < 8; ++i) r.token_inputs.push_back(Input(30, 200 + i));  // one input per batch
  EmbedResult res = MustEmbed(*s, r);
  ASSERT_TRUE(res.error.ok()) << res.error.ToString();
  GenerateResult g = gh->Wait();
  EXPECT_EQ(g.completion_tokens, 40);
  std::lock_guard<std::mutex> lock(mu);
  // While the sequence ran, every step that embedded also decoded: at most
  // one embedding batch between two generation steps.
  int both = 0;
  for (const StepStats& st : steps) {
    EXPECT_LE(st.embed_inputs, 1);
    if (st.embed_inputs > 0 && st.decode_tokens > 0) ++both;
  }
  EXPECT_GT(both, 0);
}

TEST_F(SchedulerEmbedTest, CancelDeadlineQueueLimitAndShutdown) {
  auto s = Make(512, /*max_queue=*/1);
  // Hold the loop inside a generation callback so the queue cannot drain.
  std::promise<void> entered, release;
  std::shared_future<void> released = release.get_future().share();
  bool first = true;
  GenerateRequest blocker;
  blocker.prompt_tokens = Input(8, 3);
  blocker.max_tokens = 2;
  blocker.on_token = [&](const TokenEvent&) {
    if (first) {
      first = false;
      entered.set_value();
      released.wait();
    }
    return true;
  };
  auto bh = s->Submit(blocker);
  ASSERT_TRUE(bh.ok());
  entered.get_future().wait();
  EmbedRequest r;
  r.token_inputs = {Input(10, 4)};
  auto queued = s->SubmitEmbed(r);
  ASSERT_TRUE(queued.ok());
  auto full = s->SubmitEmbed(r);
  EXPECT_EQ(full.status().code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(s->Stats().embed_waiting, 1);
  queued->Cancel();
  release.set_value();
  EmbedResult cancelled = queued->Wait();
  EXPECT_EQ(cancelled.error.code(), StatusCode::kCancelled);
  EXPECT_TRUE(cancelled.embeddings.empty());
  bh->Wait();

  EmbedRequest late = r;
  late.deadline = std::chrono::steady_clock::now() - milliseconds(1);
  EXPECT_EQ(MustEmbed(*s, late).error.code(), StatusCode::kCancelled);

  bool hook_ran = false;
  EmbedRequest with_hook = r;
  with_hook.on_complete = [&](const EmbedResult& res) { hook_ran = res.error.ok(); };
  EXPECT_TRUE(MustEmbed(*s, with_hook).error.ok());
  EXPECT_TRUE(hook_ran);

  s->Shutdown(milliseconds(0));
  EXPECT_EQ(s->SubmitEmbed(r).status().code(), StatusCode::kCancelled);
}

TEST(SchedulerEncoderTest, AnEncoderEmbedsAndRefusesToGenerate) {
  test::TinyModelSpec spec;
  spec.arch = "bert";
  spec.n_ctx = 16;
  const std::string path = test::TempPath("scheduler-bert");
  ASSERT_TRUE(test::WriteTinyModel(spec, path).ok());
  auto model = Model::Load(path);
  std::remove(path.c_str());
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  SchedulerOptions o;
  o.max_sequences = 1;
  o.n_threads = 1;
  auto s = Scheduler::Create(**model, o);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  GenerateRequest gen;
  gen.model = "tiny-bert";
  gen.prompt = "hello";
  auto refused = (*s)->Submit(gen);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(refused.status().message(), "model tiny-bert is an embedding model; it cannot generate");

  // A text longer than the 16-token context: cut to 16 tokens, [SEP] kept last.
  EmbedRequest r;
  std::string text;
  for (int i = 0; i < 40; ++i) text += "a ";
  r.token_inputs = {};
  r.texts = {text, "a"};
  auto h = (*s)->SubmitEmbed(r);
  ASSERT_TRUE(h.ok()) << h.status().ToString();
  EmbedResult res = h->Wait();
  ASSERT_TRUE(res.error.ok()) << res.error.ToString();
  ASSERT_EQ(res.embeddings.size(), 2u);
  auto short_ids = (*model)->tokenizer().Encode("a");
  ASSERT_TRUE(short_ids.ok());
  EXPECT_EQ(res.prompt_tokens, 16 + static_cast<int32_t>(short_ids->size()));
  r.truncate = false;
  EXPECT_EQ((*s)->SubmitEmbed(r).status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace jarvis
