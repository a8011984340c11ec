// Test helpers shared by the scheduler's speculative-decoding tests
// (speculative_test.cpp: prompt lookup; draft_model_test.cpp: a draft model):
// run a set of requests through one scheduler, then check that speculation
// changed no token. Header-only; tests only.
#pragma once

#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <vector>

#include "model/model.h"
#include "scheduler/scheduler.h"

namespace jarvis::test {

struct SpeculationOutcome {
  std::vector<GenerateResult> results;  // in request order
  SchedulerStats stats;
  int32_t max_step_drafts = 0;  // the most draft tokens of one step
};

// Submits every request at once to a scheduler of `options` on `model` and
// waits for all; each step's accepted drafts are checked against its drafts.
inline SpeculationOutcome RunRequests(const Model& model, const SchedulerOptions& options,
                                      const std::vector<GenerateRequest>& requests) {
  SchedulerOptions o = options;
  auto max_drafts = std::make_shared<std::atomic<int32_t>>(0);
  o.on_step = [max_drafts](const StepStats& st) {
    if (st.draft_tokens > *max_drafts) *max_drafts = st.draft_tokens;
    EXPECT_LE(st.accepted_draft_tokens, st.draft_tokens);
  };
  auto s = Scheduler::Create(model, o);
  EXPECT_TRUE(s.ok()) << s.status().ToString();
  SpeculationOutcome out;
  if (!s.ok()) return out;
  std::vector<RequestHandle> handles;
  for (const auto& r : requests) {
    auto h = (*s)->Submit(r);
    EXPECT_TRUE(h.ok()) << h.status().ToString();
    if (h.ok()) handles.push_back(*h);
  }
  for (auto& h : handles) out.results.push_back(h.Wait());
  out.stats = (*s)->Stats();
  out.max_step_drafts = *max_drafts;
  return out;
}

// The speculative run gave every request the tokens, text and finish of the
// plain run.
inline void ExpectSameTokens(const SpeculationOutcome& plain, const SpeculationOutcome& spec) {
  ASSERT_EQ(plain.results.size(), spec.results.size());
  for (size_t i = 0; i < plain.results.size(); ++i) {
    EXPECT_NE(spec.results[i].finish, FinishReason::kError) << spec.results[i].error.ToString();
    EXPECT_EQ(spec.results[i].tokens, plain.results[i].tokens) << "request " << i;
    EXPECT_EQ(spec.results[i].text, plain.results[i].text) << "request " << i;
    EXPECT_EQ(spec.results[i].finish, plain.results[i].finish) << "request " << i;
  }
}

}  // namespace jarvis::test
