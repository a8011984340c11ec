// End-to-end: `jarvis logits` on stories260K. Teacher-forced over the prompt
// and the known greedy continuation of an independent implementation
// (../shared/models/README.md, as in stories_golden_test.cpp), the argmax at
// each position must be the next token of that continuation; the views of
// the same logits (--top, --top 0, --all-positions, --prompt vs --tokens)
// must agree; bad token lists are usage errors.
#include <gtest/gtest.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "support/run_jarvis.h"
#include "support/test_paths.h"

namespace {

using jarvis::test::JarvisRun;
using jarvis::test::RunJarvis;
using jarvis::test::ShellQuote;

std::string Model() { return ShellQuote(jarvis::test::StoriesModelPath()); }

// "Once upon a time" (with BOS), then the first greedy tokens.
const std::vector<int> kPrompt = {1, 403, 407, 261, 378};
const std::vector<int> kGreedy = {432, 383, 286, 261, 376};

TEST(CliLogitsTest, TeacherForcedArgmaxFollowsTheReferenceContinuation) {
  std::vector<int> tokens = kPrompt;
  tokens.insert(tokens.end(), kGreedy.begin(), kGreedy.end() - 1);
  std::string list;
  for (int t : tokens) {
    if (!list.empty()) list += ',';
    list += std::to_string(t);
  }
  const JarvisRun r = RunJarvis("logits -m " + Model() + " --tokens " + list + " --all-positions --top 3 --json -t 1");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  ASSERT_EQ(j["tokens"].get<std::vector<int>>(), tokens);
  ASSERT_EQ(j["positions"].size(), tokens.size());
  for (size_t i = kPrompt.size() - 1; i < tokens.size(); ++i) {
    const auto& top = j["positions"][i]["top"];
    ASSERT_EQ(top.size(), 3u);
    EXPECT_EQ(top[0]["id"], kGreedy[i - (kPrompt.size() - 1)]) << "position " << i;
    EXPECT_GE(top[0]["logit"].get<double>(), top[1]["logit"].get<double>());
    EXPECT_GE(top[1]["logit"].get<double>(), top[2]["logit"].get<double>());
  }
  EXPECT_EQ(j["positions"][4]["top"][0]["piece"], ",");
}

TEST(CliLogitsTest, PromptLastPositionAndAllLogitsAgree) {
  const JarvisRun by_prompt = RunJarvis("logits -m " + Model() + " -p 'Once upon a time' --top 5 --json");
  ASSERT_EQ(by_prompt.exit_code, 0) << by_prompt.err;
  const auto p = nlohmann::json::parse(by_prompt.out);
  EXPECT_EQ(p["tokens"].get<std::vector<int>>(), kPrompt);  // the prompt gets BOS, as `run` does
  ASSERT_EQ(p["positions"].size(), 1u);
  EXPECT_EQ(p["positions"][0]["pos"], 4);
  EXPECT_EQ(p["positions"][0]["top"][0]["id"], kGreedy[0]);

  const JarvisRun all = RunJarvis("logits -m " + Model() + " --tokens 1,403,407,261,378 --top 0 --json");
  ASSERT_EQ(all.exit_code, 0) << all.err;
  const auto a = nlohmann::json::parse(all.out);
  const auto logits = a["positions"][0]["logits"].get<std::vector<double>>();
  ASSERT_EQ(logits.size(), 512u);
  const auto best = std::max_element(logits.begin(), logits.end());
  EXPECT_EQ(best - logits.begin(), kGreedy[0]);
  EXPECT_FLOAT_EQ(static_cast<float>(*best), p["positions"][0]["top"][0]["logit"].get<float>());
}

TEST(CliLogitsTest, HumanOutputListsTheCandidates) {
  const JarvisRun r = RunJarvis("logits -m " + Model() + " --tokens 1,403,407,261,378 --top 2");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("pos 4 (after 378"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("  432\t"), std::string::npos) << r.out;
}

TEST(CliLogitsTest, BadTokenListsAreUsageErrors) {
  for (const std::string args : {"--tokens 1,x", "--tokens 1,,2", "--tokens 99999", "--tokens -3",
                                 "--tokens 1 -p hi", ""}) {
    const JarvisRun r = RunJarvis("logits -m " + Model() + " " + args);
    EXPECT_EQ(r.exit_code, 2) << args << ": " << r.err;
    EXPECT_NE(r.err, "") << args;
  }
}

}  // namespace
