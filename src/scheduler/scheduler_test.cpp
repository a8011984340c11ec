#include "scheduler/scheduler.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <future>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "engine/engine.h"
#include "engine/generator.h"
#include "model/model.h"
#include "scheduler/request_state.h"
#include "support/test_paths.h"
#include "support/tiny_model.h"
#include "tokenizer/chat_template.h"

namespace jarvis {
namespace {

using std::chrono::milliseconds;

class SchedulerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto m = Model::Load(test::StoriesModelPath());
    ASSERT_TRUE(m.ok()) << m.status().ToString();
    model_ = std::move(m).value().release();
  }
  static void TearDownTestSuite() { delete model_; }

  static SchedulerOptions Options(int32_t max_sequences = 8) {
    SchedulerOptions o;
    o.max_sequences = max_sequences;
    o.n_ctx = 512;
    o.n_threads = 2;
    return o;
  }
  static std::unique_ptr<Scheduler> Make(const SchedulerOptions& o) {
    auto s = Scheduler::Create(*model_, o);
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    return std::move(s).value();
  }
  static GenerateRequest Greedy(std::vector<int32_t> prompt, int32_t max_tokens) {
    GenerateRequest r;
    r.prompt_tokens = std::move(prompt);
    r.max_tokens = max_tokens;
    r.sampling.temperature = 0.0f;
    return r;
  }
  // A prompt of n tokens: BOS, then pseudo-random ordinary ids.
  static std::vector<int32_t> RandomPrompt(size_t n, uint32_t seed) {
    std::mt19937 rng(seed);
    std::vector<int32_t> p = {1};
    while (p.size() < n) p.push_back(static_cast<int32_t>(259 + rng() % 250));
    return p;
  }
  static RequestHandle MustSubmit(Scheduler& s, GenerateRequest r) {
    auto h = s.Submit(std::move(r));
    EXPECT_TRUE(h.ok()) << h.status().ToString();
    return h.ok() ? *h : RequestHandle();
  }
  // Generate() on a private engine: the single-sequence reference.
  static std::vector<int32_t> Reference(const std::vector<int32_t>& prompt, int32_t max_tokens,
                                        const SamplingParams& sampling) {
    EngineOptions eo;
    eo.n_threads = 1;
    eo.n_ctx = 512;
    auto engine = Engine::Create(*model_, eo);
    EXPECT_TRUE(engine.ok());
    GenerateOptions go;
    go.max_tokens = max_tokens;
    go.sampling = sampling;
    auto r = Generate(**engine, prompt, go);
    EXPECT_TRUE(r.ok());
    return r.ok() ? r->tokens : std::vector<int32_t>{};
  }

  static Model* model_;
};
Model* SchedulerTest::model_ = nullptr;

TEST_F(SchedulerTest, BatchedResultsEqualSoloResultsAndGenerate) {
  constexpr int kN = 16;
  std::vector<GenerateRequest> requests;
  for (int i = 0; i < kN; ++i) {
    GenerateRequest r = Greedy(RandomPrompt(3 + static_cast<size_t>(i) * 7, static_cast<uint32_t>(i)), 24 + i);
    if (i % 2 == 1) {  // seeded sampling is per request too
      r.sampling.temperature = 0.9f;
      r.sampling.seed = 1000 + static_cast<uint64_t>(i);
      r.sampling.has_seed = true;
    }
    requests.push_back(r);
  }
  std::vector<std::vector<int32_t>> solo;
  {
    auto s = Make(Options(1));
    for (const auto& r : requests) {
      GenerateResult res = MustSubmit(*s, r).Wait();
      ASSERT_NE(res.finish, FinishReason::kError) << res.error.ToString();
      solo.push_back(res.tokens);
    }
  }
  SchedulerOptions o = Options(kN);
  o.max_batch_tokens = 64;  // forces chunked prefill next to decodes
  std::atomic<int32_t> max_batch_seqs{0};
  o.on_step = [&](const StepStats& st) {
    if (st.running > max_batch_seqs) max_batch_seqs = st.running;
  };
  auto s = Make(o);
  std::vector<RequestHandle> handles;
  for (const auto& r : requests) handles.push_back(MustSubmit(*s, r));
  for (int i = 0; i < kN; ++i) {
    GenerateResult res = handles[static_cast<size_t>(i)].Wait();
    EXPECT_EQ(res.tokens, solo[static_cast<size_t>(i)]) << "request " << i;
    EXPECT_EQ(res.completion_tokens, static_cast<int32_t>(res.tokens.size()));
    EXPECT_EQ(res.tokens, Reference(requests[static_cast<size_t>(i)].prompt_tokens, 24 + i,
                                    requests[static_cast<size_t>(i)].sampling));
  }
  EXPECT_GT(max_batch_seqs.load(), 4);  // they really ran together
}

TEST_F(SchedulerTest, TinyRandomModelBatchedEqualsSolo) {
  test::TinyModelSpec spec;
  spec.seed = 5;
  const std::string path = test::TempPath("sched-tiny");
  ASSERT_TRUE(test::WriteTinyModel(spec, path).ok());
  auto m = Model::Load(path);
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  SchedulerOptions o;
  o.n_ctx = 128;
  o.n_threads = 2;
  o.max_batch_tokens = 16;
  o.max_sequences = 1;
  std::vector<std::vector<int32_t>> prompts;
  for (int i = 0; i < 8; ++i) {
    std::vector<int32_t> p;
    for (int j = 0; j <= i * 3; ++j) p.push_back(3 + (i * 31 + j * 7) % 290);
    prompts.push_back(p);
  }
  auto run = [&](int32_t max_sequences) {
    o.max_sequences = max_sequences;
    auto s = Scheduler::Create(**m, o);
    EXPECT_TRUE(s.ok());
    std::vector<RequestHandle> hs;
    for (const auto& p : prompts) {
      GenerateRequest r = Greedy(p, 12);
      r.ignore_eos = true;
      hs.push_back(MustSubmit(**s, r));
    }
    std::vector<std::vector<int32_t>> out;
    for (auto& h : hs) out.push_back(h.Wait().tokens);
    return out;
  };
  const auto solo = run(1);
  EXPECT_EQ(run(8), solo);
  for (const auto& t : solo) EXPECT_EQ(t.size(), 12u);
  std::remove(path.c_str());
}

TEST_F(SchedulerTest, ConcurrentSubmitFromManyThreads) {
  auto s = Make(Options(8));
  const std::vector<int32_t> expected = Reference(RandomPrompt(12, 3), 16, Greedy({}, 0).sampling);
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 4; ++i) {
        auto h = s->Submit(Greedy(RandomPrompt(12, 3), 16));
        if (!h.ok()) continue;
        GenerateResult r = h->Wait();
        if (r.tokens == expected && r.finish != FinishReason::kError) ++ok;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(ok.load(), 32);
  EXPECT_EQ(s->Stats().running, 0);
}

TEST_F(SchedulerTest, CancellationFreesBlocks) {
  auto s = Make(Options(4));
  GenerateRequest r = Greedy(RandomPrompt(40, 1), -1);
  r.ignore_eos = true;
  r.on_token = [](const TokenEvent&) {
    std::this_thread::sleep_for(milliseconds(1));
    return true;
  };
  RequestHandle h = MustSubmit(*s, r);
  TokenEvent ev;
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(h.Next(&ev));
  h.Cancel();
  h.Cancel();  // idempotent
  GenerateResult res = h.Wait();
  EXPECT_EQ(res.finish, FinishReason::kCancelled);
  EXPECT_GE(res.completion_tokens, 5);
  EXPECT_LT(res.completion_tokens, 470);
  const SchedulerStats st = s->Stats();
  EXPECT_EQ(st.kv_blocks_used, 0);
  EXPECT_EQ(st.running, 0);
}

TEST_F(SchedulerTest, CallbackReturningFalseCancels) {
  auto s = Make(Options());
  GenerateRequest r = Greedy(RandomPrompt(8, 2), 100);
  r.ignore_eos = true;
  int calls = 0;
  r.on_token = [&](const TokenEvent&) { return ++calls < 3; };
  GenerateResult res = MustSubmit(*s, r).Wait();
  EXPECT_EQ(res.finish, FinishReason::kCancelled);
  EXPECT_EQ(res.completion_tokens, 3);
  EXPECT_EQ(calls, 3);
  EXPECT_EQ(s->Stats().kv_blocks_used, 0);
}

TEST_F(SchedulerTest, StreamsConcatenateToTheFinalText) {
  auto s = Make(Options());
  GenerateRequest r;
  r.prompt = "Once upon a time";
  r.max_tokens = 60;
  r.sampling.temperature = 0.0f;
  std::string pushed;
  r.on_token = [&](const TokenEvent& e) {
    pushed += e.text;
    return true;
  };
  RequestHandle h = MustSubmit(*s, r);
  std::string pulled;
  int events = 0;
  TokenEvent ev;
  while (h.Next(&ev)) {
    pulled += ev.text;
    ++events;
  }
  GenerateResult res = h.Wait();
  EXPECT_FALSE(res.text.empty());
  EXPECT_EQ(pulled, res.text);
  EXPECT_EQ(pushed, res.text);
  EXPECT_GE(events, res.completion_tokens);
  EXPECT_EQ(res.prompt_tokens, 5);  // BOS + "Once upon a time" (see stories_golden_test)
  EXPECT_EQ(res.text, model_->tokenizer().Decode(res.tokens));
  EXPECT_GT(res.timings.total_ms, 0.0);
  EXPECT_GE(res.timings.total_ms, res.timings.ttft_ms);
  EXPECT_GT(res.timings.per_token_ms, 0.0);
  EXPECT_NEAR(res.timings.per_token_ms * (res.completion_tokens - 1), res.timings.decode_ms, 1e-6);
}

TEST_F(SchedulerTest, StopStringsAndMaxTokens) {
  auto s = Make(Options());
  GenerateRequest base;
  base.prompt = "Once upon a time";
  base.sampling.temperature = 0.0f;
  base.max_tokens = 60;
  const GenerateResult full = MustSubmit(*s, base).Wait();
  ASSERT_NE(full.text.find("Lily"), std::string::npos);
  GenerateRequest stop = base;
  stop.stop = {"Lily"};
  const GenerateResult stopped = MustSubmit(*s, stop).Wait();
  EXPECT_EQ(stopped.finish, FinishReason::kStop);
  EXPECT_EQ(stopped.text, full.text.substr(0, full.text.find("Lily")));
  GenerateRequest few = base;
  few.max_tokens = 4;
  const GenerateResult short_res = MustSubmit(*s, few).Wait();
  EXPECT_EQ(short_res.finish, FinishReason::kLength);
  EXPECT_EQ(short_res.tokens, std::vector<int32_t>(full.tokens.begin(), full.tokens.begin() + 4));
  few.max_tokens = 0;
  EXPECT_EQ(MustSubmit(*s, few).Wait().completion_tokens, 0);
}

TEST_F(SchedulerTest, OverloadIsResourceExhausted) {
  SchedulerOptions o = Options(1);
  o.max_queue = 2;
  auto s = Make(o);
  // The first request holds the loop inside its callback until released.
  std::promise<void> entered, release;
  std::shared_future<void> released = release.get_future().share();
  bool first = true;
  GenerateRequest blocker = Greedy(RandomPrompt(8, 4), 3);
  blocker.on_token = [&](const TokenEvent&) {
    if (first) {
      first = false;
      entered.set_value();
      released.wait();
    }
    return true;
  };
  RequestHandle h0 = MustSubmit(*s, blocker);
  entered.get_future().wait();
  RequestHandle h1 = MustSubmit(*s, Greedy(RandomPrompt(8, 5), 3));
  RequestHandle h2 = MustSubmit(*s, Greedy(RandomPrompt(8, 6), 3));
  auto rejected = s->Submit(Greedy(RandomPrompt(8, 7), 3));
  EXPECT_EQ(rejected.status().code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(s->Stats().waiting, 2);
  release.set_value();
  EXPECT_EQ(h0.Wait().finish, FinishReason::kLength);
  EXPECT_EQ(h1.Wait().finish, FinishReason::kLength);
  EXPECT_EQ(h2.Wait().finish, FinishReason::kLength);
  EXPECT_TRUE(s->Submit(Greedy(RandomPrompt(8, 7), 3)).ok());  // room again
}

TEST_F(SchedulerTest, DeadlineCancels) {
  auto s = Make(Options());
  GenerateRequest r = Greedy(RandomPrompt(8, 8), -1);
  r.ignore_eos = true;
  r.deadline = std::chrono::steady_clock::now() + milliseconds(60);
  r.on_token = [](const TokenEvent&) {
    std::this_thread::sleep_for(milliseconds(5));
    return true;
  };
  GenerateResult res = MustSubmit(*s, r).Wait();
  EXPECT_EQ(res.finish, FinishReason::kCancelled);
  EXPECT_GT(res.completion_tokens, 0);
  EXPECT_LT(res.completion_tokens, 100);
  // Already expired while queued: cancelled without running.
  GenerateRequest late = Greedy(RandomPrompt(8, 9), 10);
  late.deadline = std::chrono::steady_clock::now() - milliseconds(1);
  GenerateResult late_res = MustSubmit(*s, late).Wait();
  EXPECT_EQ(late_res.finish, FinishReason::kCancelled);
  EXPECT_EQ(late_res.completion_tokens, 0);
  EXPECT_EQ(s->Stats().kv_blocks_used, 0);
}

TEST_F(SchedulerTest, PrefixReuseComputesOnlyTheNewTokens) {
  const std::vector<int32_t> shared = RandomPrompt(200, 11);
  std::vector<int32_t> a = shared, b = shared;
  for (int i = 0; i < 9; ++i) a.push_back(300 + i);
  for (int i = 0; i < 13; ++i) b.push_back(400 + i);

  SchedulerOptions off = Options();
  off.prefix_cache = false;
  auto plain = Make(off);
  const GenerateResult b_uncached = MustSubmit(*plain, Greedy(b, 20)).Wait();
  EXPECT_EQ(b_uncached.cached_prompt_tokens, 0);

  auto s = Make(Options());
  const GenerateResult ra = MustSubmit(*s, Greedy(a, 20)).Wait();
  EXPECT_EQ(ra.cached_prompt_tokens, 0);
  const SchedulerStats before = s->Stats();
  EXPECT_EQ(before.prompt_tokens_computed, static_cast<int64_t>(a.size()));
  EXPECT_GT(before.kv_blocks_cached, 0);
  EXPECT_EQ(before.kv_blocks_used, 0);

  const GenerateResult rb = MustSubmit(*s, Greedy(b, 20)).Wait();
  EXPECT_GE(rb.cached_prompt_tokens, 192);
  EXPECT_EQ(rb.cached_prompt_tokens % 16, 0);
  const SchedulerStats after = s->Stats();
  EXPECT_EQ(after.prompt_tokens_computed - before.prompt_tokens_computed,
            static_cast<int64_t>(b.size()) - rb.cached_prompt_tokens);
  EXPECT_EQ(after.prompt_tokens_cached, rb.cached_prompt_tokens);
  EXPECT_EQ(after.prefix_cache_hits, 1);
  EXPECT_EQ(rb.tokens, b_uncached.tokens);
  EXPECT_EQ(rb.text, b_uncached.text);

  // The identical prompt again: everything but the last token's block is reused.
  const GenerateResult rb2 = MustSubmit(*s, Greedy(b, 20)).Wait();
  EXPECT_EQ(rb2.cached_prompt_tokens, static_cast<int32_t>((b.size() - 1) / 16 * 16));
  EXPECT_EQ(rb2.tokens, b_uncached.tokens);
}

TEST_F(SchedulerTest, ContinuousBatchingOffRunsOneAtATime) {
  SchedulerOptions o = Options(8);
  o.continuous_batching = false;
  int32_t max_running = 0;
  o.on_step = [&](const StepStats& st) { max_running = std::max(max_running, st.running); };
  auto s = Make(o);
  std::vector<RequestHandle> hs;
  for (int i = 0; i < 5; ++i) hs.push_back(MustSubmit(*s, Greedy(RandomPrompt(10, 20 + static_cast<uint32_t>(i)), 8)));
  for (auto& h : hs) EXPECT_NE(h.Wait().finish, FinishReason::kError);
  EXPECT_EQ(max_running, 1);
}

TEST_F(SchedulerTest, ShutdownCancelsOrCompletesEverything) {
  auto s = Make(Options(2));
  std::vector<RequestHandle> hs;
  for (int i = 0; i < 6; ++i) {
    GenerateRequest r = Greedy(RandomPrompt(10, 30 + static_cast<uint32_t>(i)), -1);
    r.ignore_eos = true;
    r.on_token = [](const TokenEvent&) {
      std::this_thread::sleep_for(milliseconds(1));
      return true;
    };
    hs.push_back(MustSubmit(*s, r));
  }
  std::this_thread::sleep_for(milliseconds(20));
  s->Shutdown(milliseconds(0));
  for (auto& h : hs) EXPECT_EQ(h.Wait().finish, FinishReason::kCancelled);
  auto after = s->Submit(Greedy(RandomPrompt(5, 1), 4));
  EXPECT_EQ(after.status().code(), StatusCode::kCancelled);
  s->Shutdown(milliseconds(0));  // twice is fine

  // With enough grace, queued and running requests finish normally.
  auto t = Make(Options(2));
  std::vector<RequestHandle> hs2;
  for (int i = 0; i < 4; ++i) {
    GenerateRequest r = Greedy(RandomPrompt(10, 40 + static_cast<uint32_t>(i)), 10);
    r.ignore_eos = true;
    hs2.push_back(MustSubmit(*t, r));
  }
  t->Shutdown(milliseconds(10000));
  for (auto& h : hs2) EXPECT_EQ(h.Wait().finish, FinishReason::kLength);
}

TEST_F(SchedulerTest, RejectsInvalidRequests) {
  auto s = Make(Options());
  GenerateRequest empty;
  empty.prompt_tokens = {};
  empty.prompt = "";
  empty.add_special = false;
  EXPECT_EQ(s->Submit(empty).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s->Submit(Greedy(RandomPrompt(512, 1), 4)).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s->Submit(Greedy({1, 99999}, 4)).status().code(), StatusCode::kInvalidArgument);
  GenerateRequest bad = Greedy({1, 300}, 4);
  bad.sampling.top_p = 0.0f;
  EXPECT_EQ(s->Submit(bad).status().code(), StatusCode::kInvalidArgument);
  GenerateRequest chat;
  chat.messages = {{"wizard", "hi"}};
  EXPECT_EQ(s->Submit(chat).status().code(), StatusCode::kInvalidArgument);
  SchedulerOptions o = Options();
  o.max_batch_tokens = 4;
  EXPECT_FALSE(Scheduler::Create(*model_, o).ok());
  o = Options();
  o.max_queue = 0;
  EXPECT_FALSE(Scheduler::Create(*model_, o).ok());
  o = Options();
  o.kv_budget_bytes = 1024;  // less than one context
  EXPECT_EQ(Scheduler::Create(*model_, o).status().code(), StatusCode::kInvalidArgument);
}

TEST_F(SchedulerTest, ChatMessagesAreRenderedAndTokenized) {
  auto s = Make(Options());
  GenerateRequest r;
  r.messages = {{"system", "Be brief."}, {"user", "Tell a story."}};
  r.max_tokens = 5;
  r.sampling.temperature = 0.0f;
  GenerateResult res = MustSubmit(*s, r).Wait();
  EXPECT_NE(res.finish, FinishReason::kError);
  const Tokenizer& tok = model_->tokenizer();
  auto text = RenderChat(ChatTemplateKind::kChatML, r.messages, true, tok.TokenText(tok.bos_id()),
                         tok.TokenText(tok.eos_id()));
  ASSERT_TRUE(text.ok());
  auto ids = tok.Encode(*text, {true, true});
  ASSERT_TRUE(ids.ok());
  EXPECT_EQ(res.prompt_tokens, static_cast<int32_t>(ids->size()));
}

// ---- issue 17: KV exhaustion, preemption by recompute ----------------------

// Six long generations that together need about twice the pool: greedy ones,
// one with seeded sampling and penalties (its RNG and penalty history must
// carry over), one under a grammar (its parser state too), one with a stop
// string whose prefixes are held back by the stop matcher.
std::vector<GenerateRequest> PreemptionRequests() {
  std::vector<GenerateRequest> rs;
  for (int i = 0; i < 6; ++i) {
    GenerateRequest r;
    std::mt19937 rng(50 + static_cast<uint32_t>(i));
    r.prompt_tokens = {1};
    while (r.prompt_tokens.size() < 6 + 5 * static_cast<size_t>(i)) {
      r.prompt_tokens.push_back(static_cast<int32_t>(259 + rng() % 250));
    }
    r.max_tokens = 170;
    r.ignore_eos = true;
    r.sampling.temperature = 0.0f;
    rs.push_back(r);
  }
  // The newest are the first victims.
  rs[5].sampling.temperature = 0.9f;
  rs[5].sampling.seed = 77;
  rs[5].sampling.has_seed = true;
  rs[5].sampling.repeat_penalty = 1.3f;
  rs[5].sampling.frequency_penalty = 0.4f;
  rs[4].grammar = R"(root ::= ([a-z] | " " | ".")+)";
  rs[3].stop = {"the big tree and"};
  return rs;
}

// Solo runs on a scheduler with room for everything.
std::vector<GenerateResult> SoloResults(Scheduler& s, const std::vector<GenerateRequest>& rs) {
  std::vector<GenerateResult> out;
  for (const auto& r : rs) {
    auto h = s.Submit(r);
    EXPECT_TRUE(h.ok()) << h.status().ToString();
    out.push_back(h.ok() ? h->Wait() : GenerateResult());
    EXPECT_NE(out.back().finish, FinishReason::kError) << out.back().error.ToString();
  }
  return out;
}

TEST_F(SchedulerTest, KvExhaustionPreemptsTheNewestAndRecomputesIdentically) {
  const std::vector<GenerateRequest> requests = PreemptionRequests();
  const std::vector<GenerateResult> solo = SoloResults(*Make(Options(1)), requests);
  EXPECT_EQ(solo[0].completion_tokens, 170);

  SchedulerOptions o = Options(6);
  o.kv_size = 512;  // one context: 32 blocks for ~6 x 190 positions
  o.max_batch_tokens = 64;
  std::atomic<int32_t> max_running{0}, step_preemptions{0};
  int64_t steps = 0;  // loop thread only, like the callbacks below
  o.on_step = [&](const StepStats& st) {
    max_running = std::max(max_running.load(), st.running);
    step_preemptions += st.preemptions;
    ++steps;
  };
  auto s = Make(o);
  ASSERT_EQ(s->Stats().kv_blocks_total, 32);
  // The oldest request is never the victim: it gets a token every step.
  std::vector<int64_t> oldest_token_steps;
  std::vector<RequestHandle> hs;
  for (size_t i = 0; i < requests.size(); ++i) {
    GenerateRequest r = requests[i];
    if (i == 0) {
      r.on_token = [&](const TokenEvent&) {
        oldest_token_steps.push_back(steps);
        return true;
      };
    }
    hs.push_back(MustSubmit(*s, std::move(r)));
  }
  for (size_t i = 0; i < hs.size(); ++i) {
    const GenerateResult r = hs[i].Wait();
    EXPECT_EQ(r.finish, solo[i].finish) << "request " << i << ": " << r.error.ToString();
    EXPECT_EQ(r.tokens, solo[i].tokens) << "request " << i;
    EXPECT_EQ(r.text, solo[i].text) << "request " << i;
    EXPECT_EQ(r.completion_tokens, solo[i].completion_tokens) << "request " << i;
    EXPECT_EQ(r.prompt_tokens, solo[i].prompt_tokens) << "request " << i;
  }
  for (size_t k = 1; k < oldest_token_steps.size(); ++k) {
    ASSERT_EQ(oldest_token_steps[k], oldest_token_steps[k - 1] + 1) << "token " << k << " of the oldest request";
  }
  const SchedulerStats st = s->Stats();
  std::printf("preemptions %lld, recomputed tokens %lld, steps %lld\n", static_cast<long long>(st.preemptions),
              static_cast<long long>(st.recomputed_tokens), static_cast<long long>(st.steps));
  EXPECT_GT(st.preemptions, 0);
  EXPECT_GT(st.recomputed_tokens, 0);
  EXPECT_EQ(step_preemptions.load(), st.preemptions);  // every preemption reached on_step
  EXPECT_GT(max_running.load(), 2);  // admission counted prompts only: more ran at once
  EXPECT_EQ(st.running, 0);
  EXPECT_EQ(st.waiting, 0);
  EXPECT_EQ(st.kv_blocks_used, 0);
}

TEST_F(SchedulerTest, PreemptedStreamsNeitherRepeatNorLoseTokens) {
  std::vector<GenerateRequest> requests = PreemptionRequests();
  const std::vector<GenerateResult> solo = SoloResults(*Make(Options(1)), requests);
  SchedulerOptions o = Options(6);
  o.kv_size = 512;
  auto s = Make(o);
  struct Pushed {
    std::string text;
    std::vector<int32_t> tokens;
  };
  std::vector<Pushed> pushed(requests.size());
  std::vector<RequestHandle> hs;
  for (size_t i = 0; i < requests.size(); ++i) {
    GenerateRequest r = requests[i];
    r.on_token = [&p = pushed[i]](const TokenEvent& e) {
      p.text += e.text;
      if (e.token >= 0) p.tokens.push_back(e.token);
      return true;
    };
    hs.push_back(MustSubmit(*s, std::move(r)));
  }
  for (size_t i = 0; i < hs.size(); ++i) {
    std::string pulled;
    std::vector<int32_t> pulled_tokens;
    TokenEvent ev;
    while (hs[i].Next(&ev)) {
      pulled += ev.text;
      if (ev.token >= 0) pulled_tokens.push_back(ev.token);
    }
    const GenerateResult r = hs[i].Wait();
    EXPECT_EQ(pulled, solo[i].text) << "request " << i;
    EXPECT_EQ(pulled_tokens, solo[i].tokens) << "request " << i;
    EXPECT_EQ(pushed[i].text, solo[i].text) << "request " << i;
    EXPECT_EQ(pushed[i].tokens, solo[i].tokens) << "request " << i;
    EXPECT_EQ(r.text, solo[i].text) << "request " << i;
  }
  EXPECT_GT(s->Stats().preemptions, 0);
}

TEST_F(SchedulerTest, ASequenceLargerThanTheWholePoolEndsAtThePoolLimitKeepingItsTokens) {
  SchedulerOptions o = Options(2);
  o.kv_size = 64;  // 4 blocks, less than one context
  auto s = Make(o);
  EXPECT_EQ(s->Submit(Greedy(RandomPrompt(100, 1), 4)).status().code(), StatusCode::kInvalidArgument);
  const std::vector<int32_t> prompt = RandomPrompt(10, 60);
  const std::vector<int32_t> reference = Reference(prompt, 200, Greedy({}, 0).sampling);
  // Alone: it grows to the pool's 64 positions, then ends there as at the
  // end of its context (finish "length", its tokens kept) instead of waiting.
  GenerateRequest r = Greedy(prompt, 200);
  r.ignore_eos = true;
  const GenerateResult alone = MustSubmit(*s, r).Wait();
  EXPECT_EQ(alone.finish, FinishReason::kLength);
  EXPECT_TRUE(alone.error.ok()) << alone.error.ToString();
  EXPECT_EQ(alone.completion_tokens, 64 - 10 + 1);  // positions 0..63 computed, the last sample kept
  EXPECT_EQ(alone.tokens, std::vector<int32_t>(reference.begin(), reference.begin() + alone.completion_tokens));
  // Two at once: one is preempted for the other, both end at the limit with
  // the same tokens as alone, nothing is left behind, and the scheduler still
  // serves.
  std::vector<RequestHandle> hs = {MustSubmit(*s, r), MustSubmit(*s, r)};
  for (auto& h : hs) {
    const GenerateResult g = h.Wait();
    EXPECT_EQ(g.finish, FinishReason::kLength);
    EXPECT_TRUE(g.error.ok()) << g.error.ToString();
    EXPECT_EQ(g.tokens, alone.tokens);
  }
  const GenerateResult small = MustSubmit(*s, Greedy(prompt, 8)).Wait();
  EXPECT_EQ(small.finish, FinishReason::kLength);
  EXPECT_EQ(small.tokens, std::vector<int32_t>(reference.begin(), reference.begin() + 8));
  const SchedulerStats st = s->Stats();
  EXPECT_GT(st.preemptions, 0);
  EXPECT_EQ(st.kv_blocks_used, 0);
  EXPECT_EQ(st.running + st.waiting, 0);
}

TEST_F(SchedulerTest, ShutdownCancelsPreemptedSequences) {
  SchedulerOptions o = Options(6);
  o.kv_size = 512;
  std::atomic<Scheduler*> self{nullptr};
  o.on_step = [&](const StepStats& st) {
    if (st.preemptions > 0 && self.load() != nullptr) self.load()->Shutdown(milliseconds(0));
  };
  auto s = Make(o);
  self = s.get();
  std::vector<RequestHandle> hs;
  for (const auto& r : PreemptionRequests()) hs.push_back(MustSubmit(*s, r));
  int cancelled_after_tokens = 0;
  for (auto& h : hs) {
    const GenerateResult r = h.Wait();  // every handle completes: nobody is stranded in the preempted queue
    EXPECT_EQ(r.finish, FinishReason::kCancelled) << r.error.ToString();
    if (r.completion_tokens > 0) ++cancelled_after_tokens;
  }
  EXPECT_GT(cancelled_after_tokens, 1);
  const SchedulerStats st = s->Stats();
  EXPECT_GT(st.preemptions, 0);
  EXPECT_EQ(st.kv_blocks_used, 0);
  s->Shutdown(milliseconds(0));
}

// With a Q8_0 KV cache the cache's rows are still a function of the tokens
// alone (the quantizer is deterministic and every path writes the same
// bits), so prefix reuse and preemption stay exact: batched with preemption
// == solo, and a cached prefix == recomputing it.
TEST_F(SchedulerTest, Q8_0KvKeepsPrefixReuseAndPreemptionExact) {
  auto q8 = [](SchedulerOptions o) {
    o.kv_type = KvType::kQ8_0;
    o.gpu_layers = 0;
    return o;
  };
  const std::vector<GenerateRequest> requests = PreemptionRequests();
  const std::vector<GenerateResult> solo = SoloResults(*Make(q8(Options(1))), requests);
  SchedulerOptions o = q8(Options(6));
  o.kv_size = 512;
  o.max_batch_tokens = 64;
  auto s = Make(o);
  std::vector<RequestHandle> hs;
  for (const auto& r : requests) hs.push_back(MustSubmit(*s, r));
  for (size_t i = 0; i < hs.size(); ++i) {
    const GenerateResult r = hs[i].Wait();
    EXPECT_EQ(r.finish, solo[i].finish) << "request " << i << ": " << r.error.ToString();
    EXPECT_EQ(r.tokens, solo[i].tokens) << "request " << i;
  }
  EXPECT_GT(s->Stats().preemptions, 0);

  // Prefix reuse: b after a (sharing 200 tokens) == b alone without the cache.
  const std::vector<int32_t> shared = RandomPrompt(200, 12);
  std::vector<int32_t> a = shared, b = shared;
  for (int i = 0; i < 9; ++i) a.push_back(300 + i);
  for (int i = 0; i < 13; ++i) b.push_back(400 + i);
  SchedulerOptions off = q8(Options());
  off.prefix_cache = false;
  const GenerateResult b_uncached = MustSubmit(*Make(off), Greedy(b, 20)).Wait();
  auto cached = Make(q8(Options()));
  MustSubmit(*cached, Greedy(a, 20)).Wait();
  const GenerateResult rb = MustSubmit(*cached, Greedy(b, 20)).Wait();
  EXPECT_GE(rb.cached_prompt_tokens, 192);
  EXPECT_EQ(rb.tokens, b_uncached.tokens);

  // A byte budget holds ~1.9x the blocks in Q8_0 as in F16.
  SchedulerOptions budget = q8(Options(1));
  budget.kv_budget_bytes = size_t{4} << 20;
  SchedulerOptions budget_f16 = budget;
  budget_f16.kv_type = KvType::kF16;
  EXPECT_GT(Make(budget)->Stats().kv_blocks_total, Make(budget_f16)->Stats().kv_blocks_total * 3 / 2);
}

TEST(RequestStateTest, CompletedHandleDeliversTextOnce) {
  GenerateResult r;
  r.text = "cached answer";
  r.tokens = {5, 6};
  r.finish = FinishReason::kStop;
  r.from_response_cache = true;
  std::string pushed;
  RequestHandle h = MakeCompletedHandle(r, [&](const TokenEvent& e) {
    pushed += e.text;
    return true;
  });
  EXPECT_EQ(pushed, "cached answer");
  TokenEvent ev;
  ASSERT_TRUE(h.Next(&ev));
  EXPECT_EQ(ev.text, "cached answer");
  EXPECT_EQ(ev.token, -1);
  EXPECT_FALSE(h.Next(&ev));
  auto fut = h.TakeFuture();
  ASSERT_TRUE(fut.valid());
  EXPECT_TRUE(fut.get().from_response_cache);
  EXPECT_FALSE(h.TakeFuture().valid());  // once
  EXPECT_EQ(h.Wait().text, "cached answer");
  h.Cancel();  // no effect after completion
  EXPECT_GT(h.id(), 0u);
  RequestHandle empty;
  EXPECT_FALSE(empty.valid());
  EXPECT_EQ(empty.Wait().finish, FinishReason::kError);
  EXPECT_FALSE(empty.Next(&ev));
}

}  // namespace
}  // namespace jarvis
