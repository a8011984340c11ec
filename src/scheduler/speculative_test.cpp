// Speculative decoding in the scheduler (engine/speculation.h): concurrent
// requests drafting by prompt lookup give exactly the tokens they give
// without it, greedy and seeded sampling, next to chunked prefills, a small
// KV pool that preempts, grammars and stop strings; drafts are batched across
// sequences within max_step_rows; the counters add up.
#include <gtest/gtest.h>

#include <algorithm>
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

class SpeculativeSchedulerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    test::TinyModelSpec spec;
    spec.weight_type = GgmlType::kQ8_0;
    spec.seed = 11;
    path_ = new std::string(test::TempPath("speculative-sched"));
    ASSERT_TRUE(test::WriteTinyModel(spec, *path_).ok());
    auto m = Model::Load(*path_);
    ASSERT_TRUE(m.ok()) << m.status().ToString();
    model_ = std::move(m).value().release();
  }
  static void TearDownTestSuite() {
    delete model_;
    std::remove(path_->c_str());
    delete path_;
  }

  static SchedulerOptions Options(bool speculative, int32_t max_sequences = 8) {
    SchedulerOptions o;
    o.max_sequences = max_sequences;
    o.n_ctx = 256;
    o.n_threads = 2;
    o.max_batch_tokens = 48;  // prompts are chunked next to decodes and drafts
    if (speculative) {
      o.speculation.mode = "lookup";
      o.speculation.draft_max = 6;
    }
    return o;
  }

  static std::vector<GenerateRequest> Requests(int n) {
    std::vector<GenerateRequest> out;
    std::mt19937 rng(5);
    for (int i = 0; i < n; ++i) {
      GenerateRequest r;
      for (int j = 0; j < 5 + 9 * i; ++j) r.prompt_tokens.push_back(static_cast<int32_t>(3 + rng() % 250));
      r.max_tokens = 100 + 10 * i;
      r.ignore_eos = true;
      r.sampling.temperature = 0.0f;
      if (i % 3 == 1) {  // seeded sampling is per request
        r.sampling.temperature = 0.7f;
        r.sampling.top_k = 20;
        r.sampling.seed = 100 + static_cast<uint64_t>(i);
        r.sampling.has_seed = true;
      }
      out.push_back(std::move(r));
    }
    return out;
  }

  using Outcome = test::SpeculationOutcome;
  static Outcome RunAll(const SchedulerOptions& o, const std::vector<GenerateRequest>& requests) {
    return test::RunRequests(*model_, o, requests);
  }

  static Model* model_;
  static std::string* path_;
};
Model* SpeculativeSchedulerTest::model_ = nullptr;
std::string* SpeculativeSchedulerTest::path_ = nullptr;

TEST_F(SpeculativeSchedulerTest, ConcurrentRequestsGiveTheTokensTheyGiveWithout) {
  const std::vector<GenerateRequest> requests = Requests(6);
  const Outcome plain = RunAll(Options(false), requests);
  const Outcome spec = RunAll(Options(true), requests);
  test::ExpectSameTokens(plain, spec);
  EXPECT_EQ(plain.stats.draft_tokens, 0);
  EXPECT_GT(spec.stats.accepted_draft_tokens, 40)
      << "greedy loops were not drafted: " << spec.stats.draft_tokens << " drafted, steps " << spec.stats.steps
      << " vs " << plain.stats.steps;
  EXPECT_LE(spec.stats.accepted_draft_tokens, spec.stats.draft_tokens);
  EXPECT_LT(spec.stats.steps, plain.stats.steps);
  EXPECT_EQ(spec.stats.generated_tokens, plain.stats.generated_tokens);
  // Several sequences drafted in one step, within max_step_rows.
  EXPECT_GT(spec.max_step_drafts, Options(true).speculation.draft_max);
  EXPECT_LE(spec.max_step_drafts, Options(true).speculation.max_step_rows);
  int32_t per_request_accepted = 0;
  for (const auto& r : spec.results) per_request_accepted += r.accepted_draft_tokens;
  EXPECT_EQ(per_request_accepted, spec.stats.accepted_draft_tokens);
}

TEST_F(SpeculativeSchedulerTest, APreemptingPoolStopStringsAndGrammarsKeepTheTokens) {
  std::vector<GenerateRequest> requests = Requests(5);
  requests[0].grammar = R"(root ::= [a-z ]+ "." [a-z ]+ "." [a-z ]*)";
  requests[2].stop = {"e"};
  SchedulerOptions plain_options = Options(false);
  SchedulerOptions spec_options = Options(true);
  plain_options.kv_size = spec_options.kv_size = 192;  // fewer positions than the requests need at once
  const Outcome plain = RunAll(plain_options, requests);
  const Outcome spec = RunAll(spec_options, requests);
  test::ExpectSameTokens(plain, spec);
  EXPECT_GT(spec.stats.preemptions, 0) << "the pool never ran out: the case is not exercised";
  EXPECT_GT(spec.stats.accepted_draft_tokens, 0);
}

TEST_F(SpeculativeSchedulerTest, ManySequencesLeaveNoRoomForDrafts) {
  SchedulerOptions o = Options(true, 8);
  o.speculation.max_step_rows = 8;  // eight decode rows already fill it
  const Outcome spec = RunAll(o, Requests(8));
  // Drafts happen only while fewer than eight sequences decode (at the start
  // and the tail); never more rows than allowed.
  EXPECT_LE(spec.max_step_drafts, 7);
}

TEST_F(SpeculativeSchedulerTest, BadOptionsAreRefused) {
  SchedulerOptions o = Options(true);
  o.speculation.mode = "medusa";
  EXPECT_EQ(Scheduler::Create(*model_, o).status().code(), StatusCode::kInvalidArgument);
  o = Options(true);
  o.speculation.draft_max = 0;
  EXPECT_EQ(Scheduler::Create(*model_, o).status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace jarvis
