// Speculative decoding with a draft model in the scheduler (engine/
// model_drafter.h): concurrent requests drafting with a draft model give
// exactly the tokens they give without it, greedy and seeded, with a draft
// that agrees with the target (stories260K drafting for itself) and one that
// mostly does not (random weights with its vocabulary); drafts of several
// sequences go in one step; preemption, cancellation mid-draft and the end
// of every request free the draft sequences; a draft model with another
// vocabulary is refused.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "model/model.h"
#include "scheduler/scheduler.h"
#include "scheduler/speculation_test_util.h"
#include "support/test_paths.h"
#include "support/tiny_model.h"

namespace jarvis {
namespace {

class DraftModelSchedulerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto target = Model::Load(test::StoriesModelPath());
    ASSERT_TRUE(target.ok()) << target.status().ToString();
    target_ = std::shared_ptr<const Model>(std::move(target).value());
    test::TinyModelSpec spec;
    spec.vocab_from = test::StoriesModelPath();
    spec.n_vocab = 512;
    spec.n_layer = 1;
    spec.seed = 9;
    const std::string path = test::TempPath("sched-random-draft");
    ASSERT_TRUE(test::WriteTinyModel(spec, path).ok());
    auto random = Model::Load(path);
    std::remove(path.c_str());
    ASSERT_TRUE(random.ok()) << random.status().ToString();
    random_draft_ = std::shared_ptr<const Model>(std::move(random).value());
  }
  static void TearDownTestSuite() {
    target_.reset();
    random_draft_.reset();
  }

  static SchedulerOptions Options(std::shared_ptr<const Model> draft, int32_t max_sequences = 6) {
    SchedulerOptions o;
    o.max_sequences = max_sequences;
    o.n_ctx = 256;
    o.n_threads = 2;
    o.max_batch_tokens = 48;  // prompts are chunked next to decodes and drafts
    if (draft) {
      o.speculation.mode = "draft";
      o.speculation.draft_max = 4;
      o.draft_model = std::move(draft);
    }
    return o;
  }

  static std::vector<GenerateRequest> Requests(int n) {
    static const char* kPrompts[] = {"Once upon a time", "Lily and Tom went to the park.", "The cat",
                                     "One day, a little bird", "Sam had a red ball. He", "Mom said"};
    std::vector<GenerateRequest> out;
    for (int i = 0; i < n; ++i) {
      GenerateRequest r;
      r.prompt = kPrompts[i % 6];
      r.max_tokens = 60 + 10 * i;
      r.ignore_eos = true;
      r.sampling.temperature = 0.0f;
      if (i % 3 == 1) {  // seeded sampling is per request
        r.sampling.temperature = 0.8f;
        r.sampling.top_k = 40;
        r.sampling.seed = 100 + static_cast<uint64_t>(i);
        r.sampling.has_seed = true;
      }
      out.push_back(std::move(r));
    }
    return out;
  }

  using Outcome = test::SpeculationOutcome;
  static Outcome RunAll(const SchedulerOptions& o, const std::vector<GenerateRequest>& requests) {
    return test::RunRequests(*target_, o, requests);
  }

  static void ExpectSameTokens(const Outcome& plain, const Outcome& spec) {
    test::ExpectSameTokens(plain, spec);
    // Every draft sequence was freed with its request.
    EXPECT_EQ(spec.stats.draft_sequences, 0);
  }

  static std::shared_ptr<const Model> target_;
  static std::shared_ptr<const Model> random_draft_;
};
std::shared_ptr<const Model> DraftModelSchedulerTest::target_;
std::shared_ptr<const Model> DraftModelSchedulerTest::random_draft_;

TEST_F(DraftModelSchedulerTest, ConcurrentRequestsGiveTheTokensTheyGiveWithout) {
  const std::vector<GenerateRequest> requests = Requests(6);
  const Outcome plain = RunAll(Options(nullptr), requests);
  const Outcome self = RunAll(Options(target_), requests);
  ExpectSameTokens(plain, self);
  EXPECT_EQ(plain.stats.draft_tokens, 0);
  // The target drafting for itself: greedy drafts are all accepted, sampled
  // ones often.
  EXPECT_GT(self.stats.accepted_draft_tokens * 10, self.stats.draft_tokens * 6)
      << self.stats.accepted_draft_tokens << " of " << self.stats.draft_tokens;
  EXPECT_LT(self.stats.steps, plain.stats.steps);
  EXPECT_EQ(self.stats.generated_tokens, plain.stats.generated_tokens);
  // Several sequences drafted in one step.
  EXPECT_GT(self.max_step_drafts, Options(target_).speculation.draft_max);
  int32_t per_request_accepted = 0;
  for (const auto& r : self.results) per_request_accepted += r.accepted_draft_tokens;
  EXPECT_EQ(per_request_accepted, self.stats.accepted_draft_tokens);

  const Outcome random = RunAll(Options(random_draft_), requests);
  ExpectSameTokens(plain, random);
  EXPECT_GT(random.stats.draft_tokens, 0);
  EXPECT_LT(random.stats.accepted_draft_tokens * 2, random.stats.draft_tokens);
}

TEST_F(DraftModelSchedulerTest, APreemptingPoolKeepsTheTokensAndFreesTheDrafts) {
  const std::vector<GenerateRequest> requests = Requests(5);
  SchedulerOptions plain_options = Options(nullptr);
  SchedulerOptions spec_options = Options(target_);
  plain_options.kv_size = spec_options.kv_size = 160;  // fewer positions than the requests need at once
  const Outcome plain = RunAll(plain_options, requests);
  const Outcome spec = RunAll(spec_options, requests);
  ExpectSameTokens(plain, spec);
  EXPECT_GT(spec.stats.preemptions, 0) << "the pool never ran out: the case is not exercised";
  EXPECT_GT(spec.stats.accepted_draft_tokens, 0);
}

TEST_F(DraftModelSchedulerTest, CancellingMidDraftFreesTheDraftAndSparesTheOthers) {
  std::vector<GenerateRequest> requests = Requests(4);
  const Outcome plain = RunAll(Options(nullptr), requests);
  auto s = Scheduler::Create(*target_, Options(target_));
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  // Request 0 cancels itself once it has drafted; the others run on.
  auto tokens_seen = std::make_shared<std::atomic<int32_t>>(0);
  requests[0].max_tokens = 200;
  requests[0].on_token = [tokens_seen](const TokenEvent&) { return ++*tokens_seen < 12; };
  std::vector<RequestHandle> handles;
  for (const auto& r : requests) {
    auto h = (*s)->Submit(r);
    ASSERT_TRUE(h.ok()) << h.status().ToString();
    handles.push_back(*h);
  }
  std::vector<GenerateResult> results;
  for (auto& h : handles) results.push_back(h.Wait());
  EXPECT_EQ(results[0].finish, FinishReason::kCancelled);
  EXPECT_GT(results[0].draft_tokens, 0);
  // Its tokens up to the cancel are the plain run's.
  ASSERT_LE(results[0].tokens.size(), plain.results[0].tokens.size());
  EXPECT_TRUE(std::equal(results[0].tokens.begin(), results[0].tokens.end(), plain.results[0].tokens.begin()));
  for (size_t i = 1; i < results.size(); ++i) {
    EXPECT_EQ(results[i].tokens, plain.results[i].tokens) << "request " << i;
  }
  EXPECT_EQ((*s)->Stats().draft_sequences, 0);
  // A handle cancelled from outside, mid-generation, frees its draft too.
  GenerateRequest r = Requests(1)[0];
  r.max_tokens = 200;
  auto h = (*s)->Submit(r);
  ASSERT_TRUE(h.ok());
  RequestHandle handle = *h;
  auto other = (*s)->Submit(Requests(3)[2]);
  ASSERT_TRUE(other.ok());
  TokenEvent event;
  for (int got = 0; got < 8 && handle.Next(&event);) got += event.token >= 0 ? 1 : 0;
  handle.Cancel();
  const GenerateResult cancelled = handle.Wait();
  EXPECT_EQ(cancelled.finish, FinishReason::kCancelled);
  EXPECT_GT(cancelled.draft_tokens, 0);
  other->Wait();
  EXPECT_EQ((*s)->Stats().draft_sequences, 0);
}

TEST_F(DraftModelSchedulerTest, ADraftWithAnotherVocabularyIsRefused) {
  test::TinyModelSpec spec;
  spec.n_layer = 1;
  const std::string path = test::TempPath("sched-other-vocab");
  ASSERT_TRUE(test::WriteTinyModel(spec, path).ok());
  auto other = Model::Load(path);
  std::remove(path.c_str());
  ASSERT_TRUE(other.ok());
  auto created = Scheduler::Create(*target_, Options(std::shared_ptr<const Model>(std::move(other).value())));
  ASSERT_FALSE(created.ok());
  EXPECT_EQ(created.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(created.status().message().find("vocabulary differs"), std::string::npos) << created.status().message();
  // Draft mode without a draft model.
  SchedulerOptions o = Options(nullptr);
  o.speculation.mode = "draft";
  EXPECT_EQ(Scheduler::Create(*target_, o).status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace jarvis
