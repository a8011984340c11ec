// `jarvis embed` and `jarvis bench --embed` end to end on stories260K (a
// decoder embedder) and a synthesized encoder: vectors are unit length, the
// text and JSON outputs agree, --dimensions cuts, a long input without
// truncation is a usage error; the bench reports every batch x length.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "support/run_jarvis.h"
#include "support/test_paths.h"
#include "support/tiny_model.h"

namespace jarvis {
namespace {

using test::JarvisRun;
using test::RunJarvis;
using test::ShellQuote;

std::string Stories() { return ShellQuote(test::StoriesModelPath()); }

double Norm(const std::vector<float>& v) {
  double s = 0;
  for (float x : v) s += static_cast<double>(x) * x;
  return std::sqrt(s);
}

TEST(CliEmbedTest, JsonAndTextOutputsAgreeAndVectorsAreUnitLength) {
  const JarvisRun j = RunJarvis("embed --model " + Stories() + " --text 'Once upon a time' --text 'a cat' -t 1 --json");
  ASSERT_EQ(j.exit_code, 0) << j.err;
  const nlohmann::json out = nlohmann::json::parse(j.out);
  ASSERT_EQ(out["embeddings"].size(), 2u);
  EXPECT_EQ(out["model"], "stories260K");
  const auto a = out["embeddings"][0].get<std::vector<float>>();
  const auto b = out["embeddings"][1].get<std::vector<float>>();
  EXPECT_EQ(out["dimensions"], a.size());
  EXPECT_NEAR(Norm(a), 1.0, 1e-5);
  EXPECT_NE(a, b);
  EXPECT_GT(out["prompt_tokens"].get<int>(), 4);

  const JarvisRun t = RunJarvis("embed --model " + Stories() + " --text 'Once upon a time' --text 'a cat' -t 1");
  ASSERT_EQ(t.exit_code, 0) << t.err;
  std::istringstream lines(t.out);
  std::string line;
  std::vector<std::vector<float>> parsed;
  while (std::getline(lines, line)) {
    std::istringstream nums(line);
    std::vector<float> v;
    float x;
    while (nums >> x) v.push_back(x);
    parsed.push_back(v);
  }
  ASSERT_EQ(parsed.size(), 2u);
  ASSERT_EQ(parsed[0].size(), a.size());
  for (size_t i = 0; i < a.size(); ++i) EXPECT_NEAR(parsed[0][i], a[i], 1e-6f * std::max(1.0f, std::fabs(a[i])));
}

TEST(CliEmbedTest, DimensionsAndTruncation) {
  const JarvisRun cut = RunJarvis("embed --model " + Stories() + " --text 'Once upon a time' --dimensions 8 --json");
  ASSERT_EQ(cut.exit_code, 0) << cut.err;
  const auto v = nlohmann::json::parse(cut.out)["embeddings"][0].get<std::vector<float>>();
  EXPECT_EQ(v.size(), 8u);
  EXPECT_NEAR(Norm(v), 1.0, 1e-5);

  std::string long_text;
  for (int i = 0; i < 400; ++i) long_text += "once upon a time ";
  const JarvisRun refused = RunJarvis("embed --model " + Stories() + " -c 64 --no-truncate --text '" + long_text + "'");
  EXPECT_EQ(refused.exit_code, 2) << refused.err;
  EXPECT_NE(refused.err.find("context holds 64"), std::string::npos) << refused.err;
  const JarvisRun truncated = RunJarvis("embed --model " + Stories() + " -c 64 --json --text '" + long_text + "'");
  ASSERT_EQ(truncated.exit_code, 0) << truncated.err;
  EXPECT_EQ(nlohmann::json::parse(truncated.out)["prompt_tokens"], 64);
  const JarvisRun too_wide = RunJarvis("embed --model " + Stories() + " --text a --dimensions 100000");
  EXPECT_EQ(too_wide.exit_code, 2) << too_wide.err;
}

TEST(CliEmbedTest, AnEncoderFromSynthEmbeds) {
  const std::string path = test::TempPath("cli-embed-minilm");
  const JarvisRun synth = RunJarvis("synth --preset tiny-bert --type f16 --seed 3 --out " + ShellQuote(path));
  ASSERT_EQ(synth.exit_code, 0) << synth.err;
  const JarvisRun r = RunJarvis("embed --model " + ShellQuote(path) + " --text 'hello world' --json -t 1");
  std::remove(path.c_str());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto v = nlohmann::json::parse(r.out)["embeddings"][0].get<std::vector<float>>();
  EXPECT_NEAR(Norm(v), 1.0, 1e-5);
}

TEST(CliBenchEmbedTest, ReportsEveryBatchAndLength) {
  const JarvisRun r = RunJarvis("bench --model " + Stories() +
                                " --embed --embed-batch 1,4 --embed-tokens 8,16 -t 1 -r 1 --json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const nlohmann::json j = nlohmann::json::parse(r.out);
  std::set<std::string> names;
  for (const nlohmann::json& row : j["results"]) {
    names.insert(row["test"].get<std::string>());
    EXPECT_GT(row["inputs_per_s_best"].get<double>(), 0.0) << row.dump();
    EXPECT_NEAR(row["tokens_per_s_best"].get<double>(),
                row["inputs_per_s_best"].get<double>() * row["tokens"].get<double>(), 1e-6 * row["tokens_per_s_best"].get<double>());
    EXPECT_GT(row["gops"].get<double>(), 0.0) << row.dump();
  }
  EXPECT_EQ(names, (std::set<std::string>{"embed b1 x 8", "embed b4 x 8", "embed b1 x 16", "embed b4 x 16"}));

  const JarvisRun table = RunJarvis("bench --model " + Stories() + " --embed --embed-batch 2 --embed-tokens 8 -t 1 -r 1");
  ASSERT_EQ(table.exit_code, 0) << table.err;
  EXPECT_NE(table.out.find("| inputs/s best |"), std::string::npos) << table.out;
  EXPECT_NE(table.out.find("| embed b2 x 8 |"), std::string::npos) << table.out;

  const JarvisRun bad = RunJarvis("bench --model " + Stories() + " --embed --embed-batch 0 -r 1");
  EXPECT_EQ(bad.exit_code, 2) << bad.err;
}

}  // namespace
}  // namespace jarvis
