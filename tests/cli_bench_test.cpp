// `jarvis bench` end to end on stories260K: every requested test runs and
// reports a speed, depths (-d) make long-context variants of each test, and
// bad values are usage errors.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <set>
#include <string>

#include "support/run_jarvis.h"
#include "support/test_paths.h"

namespace jarvis {
namespace {

using test::JarvisRun;
using test::RunJarvis;
using test::ShellQuote;

TEST(CliBenchTest, JsonHasEveryTestAtEveryDepth) {
  const JarvisRun r = RunJarvis("bench --model " + ShellQuote(test::StoriesModelPath()) +
                                " -p 16 -n 4 -b 2 -d 0,24 -t 1 -r 1 --no-bandwidth --json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const nlohmann::json j = nlohmann::json::parse(r.out);
  ASSERT_TRUE(j.contains("results"));
  std::set<std::string> names;
  for (const nlohmann::json& row : j["results"]) {
    names.insert(row["test"].get<std::string>());
    EXPECT_GT(row["tokens_per_s_best"].get<double>(), 0.0) << row.dump();
    const int depth = row["depth"].get<int>();
    EXPECT_TRUE(depth == 0 || depth == 24) << row.dump();
    EXPECT_EQ(row["test"].get<std::string>().find(" @ d24") != std::string::npos, depth == 24) << row.dump();
  }
  const std::set<std::string> expected = {"pp16", "tg4", "b2 tg4", "pp16 @ d24", "tg4 @ d24", "b2 tg4 @ d24"};
  EXPECT_EQ(names, expected);
}

TEST(CliBenchTest, NegativeDepthIsAUsageError) {
  const JarvisRun r = RunJarvis("bench --model " + ShellQuote(test::StoriesModelPath()) +
                                " -p 16 -n 0 -d -5 -r 1 --no-bandwidth");
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("-d"), std::string::npos) << r.err;
}

// --speculative: the verify-cost rows at each depth and a lookup row per
// continuation and draft length, every one with the plain run's output.
TEST(CliBenchTest, SpeculativeReportsVerifyCostAndLookupRuns) {
  const JarvisRun r = RunJarvis("bench --speculative --model " + ShellQuote(test::StoriesModelPath()) +
                                " -p 16 -n 48 -d 0,32 --draft 2,4 -t 1 -r 1 --json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const nlohmann::json j = nlohmann::json::parse(r.out);
  ASSERT_EQ(j["verify_cost"].size(), 6u);  // 2 depths x rows 1, 3, 5
  for (const nlohmann::json& c : j["verify_cost"]) {
    EXPECT_GT(c["step_ms"].get<double>(), 0.0) << c.dump();
    if (c["rows"] == 1) {
      EXPECT_EQ(c["ratio"].get<double>(), 1.0);
    }
  }
  ASSERT_EQ(j["lookup"].size(), 9u);  // 3 continuations x off, 2, 4
  int32_t accepted = 0;
  for (const nlohmann::json& l : j["lookup"]) {
    EXPECT_TRUE(l["same_output"].get<bool>()) << l.dump();
    EXPECT_EQ(l["tokens"], 48) << l.dump();
    EXPECT_EQ(l["steps"].get<int>() + l["accepted"].get<int>(), 47) << l.dump();
    accepted += l["accepted"].get<int32_t>();
  }
  EXPECT_GT(accepted, 0);
  const JarvisRun bad = RunJarvis("bench --speculative --model " + ShellQuote(test::StoriesModelPath()) + " --draft 0");
  EXPECT_EQ(bad.exit_code, 2) << bad.err;
}

// --speculative --draft-model: one-sequence rows for the file and the target
// as drafts (the target drafting for itself accepts every greedy draft) and
// concurrent rows for each -b, every one with the plain run's output.
TEST(CliBenchTest, SpeculativeWithADraftModelReportsItsRuns) {
  const std::string model = ShellQuote(test::StoriesModelPath());
  const JarvisRun r = RunJarvis("bench --speculative --model " + model + " --draft-model " + model +
                                " -p 16 -n 32 --draft 2 -b 1,3 -t 1 -r 1 --json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const nlohmann::json j = nlohmann::json::parse(r.out);
  ASSERT_EQ(j["draft_model_runs"].size(), 6u);  // 2 continuations x off, file, target
  for (const nlohmann::json& run : j["draft_model_runs"]) {
    EXPECT_TRUE(run["same_output"].get<bool>()) << run.dump();
    EXPECT_EQ(run["tokens"], 32) << run.dump();
    EXPECT_EQ(run["steps"].get<int>() + run["accepted"].get<int>(), 31) << run.dump();
    if (run["continuation"] == "greedy" && run["drafter"] == "target") {
      EXPECT_GT(run["drafted"].get<int>(), 0) << run.dump();
      EXPECT_EQ(run["accepted"], run["drafted"]) << run.dump();
    }
  }
  ASSERT_EQ(j["concurrent"].size(), 6u);  // 2 sequence counts x off, file, target
  for (const nlohmann::json& run : j["concurrent"]) {
    EXPECT_TRUE(run["same_output"].get<bool>()) << run.dump();
    if (run["drafter"] != "off") {
      EXPECT_GT(run["accepted"].get<int>(), 0) << run.dump();
    }
  }
  const JarvisRun alone = RunJarvis("bench --model " + model + " --draft-model " + model);
  EXPECT_EQ(alone.exit_code, 2) << alone.err;
}

}  // namespace
}  // namespace jarvis
