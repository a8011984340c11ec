// `jarvis serve` as a process: configured through JARVIS_* environment
// variables, prints where it listens, serves, and exits 0 on SIGTERM after a
// graceful shutdown; survives hostile requests and model files that change
// or break on disk (issue 17).
#include <gtest/gtest.h>

#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "api/http_test_client.h"
#include "support/completion_streams.h"
#include "support/serve_process.h"
#include "support/test_paths.h"

namespace jarvis {
namespace {

using api::testing::Fetch;
using api::testing::HttpReply;
using test::ServeProcess;
using test::WaitHealthy;

TEST(ServeBinary, EnvConfiguredServeAnswersAndExitsCleanlyOnSigterm) {
  ServeProcess p;
  const uint16_t port = p.Start({"JARVIS_PORT=0", "JARVIS_MODEL=" + test::StoriesModelPath(), "JARVIS_API_KEY=k1",
                                 "JARVIS_PARALLEL=2", "JARVIS_THREADS=1"},
                                {});
  ASSERT_NE(port, 0);
  ASSERT_TRUE(WaitHealthy(port));
  EXPECT_EQ(Fetch(port, "GET", "/v1/models").status, 401);  // JARVIS_API_KEY applied
  HttpReply models = Fetch(port, "GET", "/v1/models", "", {"Authorization: Bearer k1"});
  ASSERT_EQ(models.status, 200);
  EXPECT_EQ(nlohmann::json::parse(models.body)["data"][0]["id"], "stories260K");
  HttpReply gen = Fetch(port, "POST", "/v1/completions",
                        R"({"prompt":"Once upon a time","max_tokens":8,"temperature":0})",
                        {"Authorization: Bearer k1"});
  EXPECT_EQ(gen.status, 200) << gen.body;
  EXPECT_EQ(p.Signal(SIGTERM), 0);
}

TEST(ServeBinary, FlagsOverrideAndSigintStops) {
  ServeProcess p;
  const uint16_t port =
      p.Start({"JARVIS_PORT=1"}, {"--port", "0", "--model", test::StoriesModelPath(), "--cors-origin", "*",
                                  "--max-body", "1KiB", "--threads", "1"});
  ASSERT_NE(port, 0);
  ASSERT_TRUE(WaitHealthy(port));
  HttpReply r = Fetch(port, "GET", "/api/tags");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.Header("access-control-allow-origin"), "*");
  EXPECT_EQ(Fetch(port, "POST", "/v1/completions", "{\"prompt\":\"" + std::string(2000, 'a') + "\"}").status, 413);
  EXPECT_EQ(p.Signal(SIGINT), 0);
}

// ---- issue 17: requests, files and faults must not take the server down ----

class ServeFaultTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("jarvis_serve_fault_" + std::to_string(getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  static void Put(const std::filesystem::path& path, const std::string& bytes) {
    std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
  }
  static std::string Stories() {
    std::ifstream in(test::StoriesModelPath(), std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }
  std::filesystem::path dir_;
};

// Defect 1: a chunked trailer field past 64 KiB aborted the process (SIGABRT).
TEST_F(ServeFaultTest, HugeChunkedTrailerIsAnsweredAndTheServerLives) {
  ServeProcess p;
  const uint16_t port = p.Start({}, {"--port", "0", "--model", test::StoriesModelPath(), "--threads", "1",
                                     "--api-key", "k1"});
  ASSERT_NE(port, 0);
  ASSERT_TRUE(WaitHealthy(port));
  api::testing::TestConnection c;
  ASSERT_TRUE(c.Connect(port));
  ASSERT_TRUE(c.Send("POST /health HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX-T: " +
                     std::string(70000, 't') + "\r\n\r\n"));
  EXPECT_EQ(c.ReadReply().status, 431);
  EXPECT_TRUE(WaitHealthy(port));
  EXPECT_EQ(p.Signal(SIGTERM), 0);
}

// Defect 3: a corrupt file sorting first kept `serve` from starting.
TEST_F(ServeFaultTest, CorruptFileInTheModelDirectoryIsReportedOthersServed) {
  Put(dir_ / "a-corrupt.gguf", "GGUF\x03\x00\x00\x00garbage");
  Put(dir_ / "stories.gguf", Stories());
  ServeProcess p;
  const uint16_t port = p.Start({}, {"--port", "0", "--model", dir_.string(), "--threads", "1"});
  ASSERT_NE(port, 0);
  ASSERT_TRUE(WaitHealthy(port));
  HttpReply ok = Fetch(port, "POST", "/v1/completions", R"({"prompt":"Once upon a time","max_tokens":4})");
  EXPECT_EQ(ok.status, 200) << ok.body;
  EXPECT_EQ(nlohmann::json::parse(ok.body)["model"], "stories");
  HttpReply bad = Fetch(port, "POST", "/v1/completions", R"({"model":"a-corrupt","prompt":"x","max_tokens":4})");
  EXPECT_GE(bad.status, 400);
  EXPECT_NE(nlohmann::json::parse(bad.body)["error"]["message"].get<std::string>().find("a-corrupt.gguf"),
            std::string::npos)
      << bad.body;
  const auto stats = nlohmann::json::parse(Fetch(port, "GET", "/api/models/stats").body);
  bool reported = false;
  for (const auto& m : stats["available"]) {
    if (m["name"] == "a-corrupt") reported = m["error"].is_string();
  }
  EXPECT_TRUE(reported) << stats.dump();
  EXPECT_EQ(p.Signal(SIGTERM), 0);
}

// Defect 2: truncating a loaded model file crashed the next request (SIGBUS).
TEST_F(ServeFaultTest, ModelFileTruncatedDeletedAndRestoredWhileServing) {
  const auto model = dir_ / "m.gguf";
  const std::string bytes = Stories();
  Put(model, bytes);
  ServeProcess p;
  const uint16_t port = p.Start({}, {"--port", "0", "--model", model.string(), "--threads", "1"});
  ASSERT_NE(port, 0);
  ASSERT_TRUE(WaitHealthy(port));
  const std::string body = R"({"prompt":"Once upon a time","max_tokens":8,"temperature":0,"cache":false})";
  HttpReply before = Fetch(port, "POST", "/v1/completions", body);
  ASSERT_EQ(before.status, 200) << before.body;

  ASSERT_EQ(truncate(model.c_str(), static_cast<off_t>(bytes.size() / 2)), 0);
  for (int i = 0; i < 3; ++i) {
    HttpReply r = Fetch(port, "POST", "/v1/completions", body);
    EXPECT_GE(r.status, 500) << r.body;
    EXPECT_NE(r.body.find("m.gguf"), std::string::npos) << r.body;
  }
  std::filesystem::remove(model);
  HttpReply gone = Fetch(port, "POST", "/v1/completions", body);
  EXPECT_GE(gone.status, 400) << gone.body;
  EXPECT_NE(gone.body.find("m.gguf"), std::string::npos) << gone.body;

  Put(model, bytes);
  HttpReply after = Fetch(port, "POST", "/v1/completions", body);
  ASSERT_EQ(after.status, 200) << after.body;
  EXPECT_EQ(nlohmann::json::parse(after.body)["choices"][0]["text"],
            nlohmann::json::parse(before.body)["choices"][0]["text"]);
  EXPECT_EQ(p.Signal(SIGTERM), 0);
}

// KV exhaustion: a pool of one context (--kv-size) shared by six long greedy
// streams. The newest sequences are preempted and recomputed; every stream
// still equals the same request run alone, and /metrics counts it.
TEST(ServeBinary, KvPoolExhaustionPreemptsAndStreamsStayExact) {
  ServeProcess p;
  const uint16_t port = p.Start({}, {"--port", "0", "--model", test::StoriesModelPath(), "--threads", "1",
                                     "--ctx-size", "512", "--kv-size", "512", "--parallel", "6"});
  ASSERT_NE(port, 0);
  ASSERT_TRUE(WaitHealthy(port));
  const std::vector<std::string> prompts = {"Once upon a time", "The little dog", "Lily and Ben",
                                            "One day, a bird",  "The sun was hot", "Tom had a red ball"};
  auto body = [](const std::string& prompt, bool stream) {
    return nlohmann::json{{"prompt", prompt}, {"max_tokens", 180}, {"temperature", 0}, {"ignore_eos", true},
                          {"stream", stream}, {"cache", false}}
        .dump();
  };
  std::vector<std::string> solo;
  for (const auto& prompt : prompts) {
    HttpReply r = Fetch(port, "POST", "/v1/completions", body(prompt, false));
    ASSERT_EQ(r.status, 200) << r.body;
    solo.push_back(nlohmann::json::parse(r.body)["choices"][0]["text"].get<std::string>());
  }
  std::vector<std::string> bodies;
  for (const auto& prompt : prompts) bodies.push_back(body(prompt, true));
  const std::vector<test::StreamedCompletion> streamed = test::StreamCompletionsAtOnce(port, bodies);
  for (size_t i = 0; i < prompts.size(); ++i) {
    EXPECT_EQ(streamed[i].status, 200) << prompts[i];
    EXPECT_EQ(streamed[i].text, solo[i]) << prompts[i];
  }
  // The counters, as Prometheus reads them.
  const std::string metrics = Fetch(port, "GET", "/metrics").body;
  const auto preemptions = test::MetricSample(metrics, "jarvis_scheduler_preemptions_total{model=\"stories260K\"} ");
  ASSERT_TRUE(preemptions.has_value()) << metrics;
  EXPECT_GT(*preemptions, 0.0);
  const auto recomputed =
      test::MetricSample(metrics, "jarvis_scheduler_recomputed_tokens_total{model=\"stories260K\"} ");
  ASSERT_TRUE(recomputed.has_value());
  EXPECT_GT(*recomputed, 0.0);
  const auto stats = nlohmann::json::parse(Fetch(port, "GET", "/api/models/stats").body);
  ASSERT_EQ(stats["loaded"].size(), 1u) << stats.dump();
  EXPECT_GT(stats["loaded"][0]["preemptions"].get<int64_t>(), 0) << stats.dump();
  EXPECT_EQ(stats["loaded"][0]["kv_blocks_total"], 32);
  EXPECT_EQ(p.Signal(SIGTERM), 0);
}

}  // namespace
}  // namespace jarvis
