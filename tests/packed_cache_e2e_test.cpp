// The packed-weights cache through the CLI: JARVIS_PACKED_CACHE names the
// directory, the load log line says where the packed weights came from, a
// cached load prints the same logits as packing afresh, "off" writes nothing,
// and `jarvis bench --load` measures every way of loading.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>
#include <string>

#include "support/run_jarvis.h"

namespace jarvis {
namespace {

namespace fs = std::filesystem;

using test::JarvisRun;
using test::RunJarvis;
using test::ShellQuote;

class PackedCacheE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("jarvis-packed-e2e-" + std::to_string(::getpid()));
    fs::create_directories(dir_);
    model_ = (dir_ / "tiny-q4_0.gguf").string();
    const JarvisRun r = RunJarvis("synth --preset tiny --type q4_0 --seed 5 --threads 1 --out " + ShellQuote(model_));
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  // `jarvis logits` with JARVIS_PACKED_CACHE=`cache` (the child inherits it).
  JarvisRun Logits(const std::string& cache) {
    ::setenv("JARVIS_PACKED_CACHE", cache.c_str(), 1);
    JarvisRun r = RunJarvis("logits -m " + ShellQuote(model_) + " --tokens 1,300,301,302 --top 0 --all-positions --json");
    ::setenv("JARVIS_PACKED_CACHE", "off", 1);  // as ctest runs every test
    return r;
  }

  fs::path dir_;
  std::string model_;
};

TEST_F(PackedCacheE2eTest, SecondRunMapsTheCacheAndPrintsTheSameLogits) {
  const std::string cache = (dir_ / "cache").string();
  const JarvisRun fresh = Logits("off");
  ASSERT_EQ(fresh.exit_code, 0) << fresh.err;
  EXPECT_FALSE(fs::exists(cache));
  EXPECT_EQ(fresh.err.find("packed weights"), std::string::npos) << fresh.err;

  const JarvisRun first = Logits(cache);
  ASSERT_EQ(first.exit_code, 0) << first.err;
  EXPECT_NE(first.err.find("packed weights packed now"), std::string::npos) << first.err;
  EXPECT_NE(first.err.find("cached to " + cache), std::string::npos) << first.err;

  const JarvisRun second = Logits(cache);
  ASSERT_EQ(second.exit_code, 0) << second.err;
  EXPECT_NE(second.err.find("packed weights from cache " + cache), std::string::npos) << second.err;

  EXPECT_EQ(first.out, fresh.out);
  EXPECT_EQ(second.out, fresh.out);
  int files = 0;
  for (const auto& e : fs::directory_iterator(cache)) files += e.path().extension() == ".jvpack" ? 1 : 0;
  EXPECT_EQ(files, 1);
}

TEST_F(PackedCacheE2eTest, BenchLoadMeasuresEveryScenario) {
  const JarvisRun r = RunJarvis("bench --load -m " + ShellQuote(model_) + " -t 1 -r 1 --json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const nlohmann::json j = nlohmann::json::parse(r.out);
  std::set<std::string> scenarios;
  for (const nlohmann::json& row : j["results"]) {
    const std::string name = row["scenario"];
    scenarios.insert(name);
    EXPECT_GT(row["first_token_s_median"].get<double>(), 0.0) << row.dump();
    EXPECT_GE(row["first_token_s_median"].get<double>(), row["load_s_median"].get<double>()) << row.dump();
    const std::string packed = row["packed"];
    if (name.rfind("from packed cache", 0) == 0) {
      EXPECT_EQ(packed.rfind("from cache", 0), 0u) << row.dump();
    } else if (name.find("no repack") != std::string::npos) {
      EXPECT_EQ(packed, "none") << row.dump();
    } else {
      EXPECT_EQ(packed.rfind("packed now", 0), 0u) << row.dump();
    }
  }
  EXPECT_EQ(scenarios.size(), 6u) << r.out;
}

}  // namespace
}  // namespace jarvis
