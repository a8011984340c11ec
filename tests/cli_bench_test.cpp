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

}  // namespace
}  // namespace jarvis
