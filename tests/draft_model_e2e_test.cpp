// `--draft-model` end to end (engine/model_drafter.h): `jarvis run` prints
// the same text with and without a draft model, greedy and seeded; a draft
// with another vocabulary is a usage error for run and a startup error for
// serve; a serving draft model gives concurrent streams the answers a plain
// server gives, and /metrics counts its drafts.
#include <gtest/gtest.h>

#include <signal.h>

#include <cstdio>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "api/http_test_client.h"
#include "support/completion_streams.h"
#include "support/run_jarvis.h"
#include "support/serve_process.h"
#include "support/test_paths.h"
#include "support/tiny_model.h"

namespace jarvis {
namespace {

using api::testing::Fetch;
using api::testing::HttpReply;
using test::JarvisRun;
using test::RunJarvis;
using test::ServeProcess;
using test::ShellQuote;

// A random model with its own 300-token vocabulary: no draft for stories260K.
class OtherVocabulary {
 public:
  OtherVocabulary() : path_(test::TempPath("draft-e2e-other-vocab")) {
    test::TinyModelSpec spec;
    spec.n_layer = 1;
    EXPECT_TRUE(test::WriteTinyModel(spec, path_).ok());
  }
  ~OtherVocabulary() { std::remove(path_.c_str()); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

TEST(DraftModelCli, RunPrintsTheSameTextWithADraftModel) {
  const std::string model = ShellQuote(test::StoriesModelPath());
  for (const std::string sampling : {"--temperature 0", "--temperature 0.8 --top-k 40 --seed 11"}) {
    const std::string args = "run --model " + model + " --prompt 'Once upon a time' -n 80 --ignore-eos " + sampling;
    const JarvisRun plain = RunJarvis(args);
    const JarvisRun drafted = RunJarvis(args + " --draft-model " + model);
    ASSERT_EQ(plain.exit_code, 0) << plain.err;
    ASSERT_EQ(drafted.exit_code, 0) << drafted.err;
    EXPECT_EQ(drafted.out, plain.out) << sampling;
    EXPECT_NE(drafted.err.find("speculative (draft)"), std::string::npos) << drafted.err;
  }
}

TEST(DraftModelCli, ADraftWithAnotherVocabularyIsAUsageError) {
  const OtherVocabulary other;
  const std::string model = ShellQuote(test::StoriesModelPath());
  const JarvisRun r = RunJarvis("run --model " + model + " -n 4 --draft-model " + ShellQuote(other.path()));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("vocabulary differs"), std::string::npos) << r.err;
  const JarvisRun both = RunJarvis("run --model " + model + " -n 4 --speculative lookup --draft-model " + model);
  EXPECT_EQ(both.exit_code, 2);
  EXPECT_NE(both.err.find("exclude each other"), std::string::npos) << both.err;
  EXPECT_EQ(RunJarvis("run --model " + model + " -n 4 --speculative draft").exit_code, 2);
}

TEST(DraftModelServe, ADraftWithAnotherVocabularyStopsTheStart) {
  const OtherVocabulary other;
  ServeProcess p;
  EXPECT_EQ(p.Start({}, {"--port", "0", "--model", test::StoriesModelPath(), "--draft-model", other.path()}), 0);
  const int status = p.Signal(0);  // it has exited already: its status
  EXPECT_NE(status, 0);
  EXPECT_NE(status, -1) << "still running";
}

TEST(DraftModelServe, ConcurrentStreamsGetThePlainServersAnswers) {
  const std::vector<std::string> prompts = {"Once upon a time", "The little dog", "Lily and Ben", "Tom had a red ball"};
  auto body = [](const std::string& prompt, bool stream) {
    return nlohmann::json{{"prompt", prompt}, {"max_tokens", 100}, {"temperature", 0}, {"ignore_eos", true},
                          {"stream", stream}, {"cache", false}}
        .dump();
  };
  std::vector<std::string> plain;
  {
    ServeProcess p;
    const uint16_t port = p.Start({}, {"--port", "0", "--model", test::StoriesModelPath(), "--threads", "1"});
    ASSERT_NE(port, 0);
    ASSERT_TRUE(test::WaitHealthy(port));
    for (const auto& prompt : prompts) {
      HttpReply r = Fetch(port, "POST", "/v1/completions", body(prompt, false));
      ASSERT_EQ(r.status, 200) << r.body;
      plain.push_back(nlohmann::json::parse(r.body)["choices"][0]["text"].get<std::string>());
    }
    EXPECT_EQ(p.Signal(SIGTERM), 0);
  }
  ServeProcess p;
  const uint16_t port = p.Start({"JARVIS_DRAFT_MODEL=" + test::StoriesModelPath()},
                                {"--port", "0", "--model", test::StoriesModelPath(), "--threads", "1"});
  ASSERT_NE(port, 0);
  ASSERT_TRUE(test::WaitHealthy(port));
  std::vector<std::string> bodies;
  for (const auto& prompt : prompts) bodies.push_back(body(prompt, true));
  const std::vector<test::StreamedCompletion> streamed = test::StreamCompletionsAtOnce(port, bodies);
  for (size_t i = 0; i < prompts.size(); ++i) {
    EXPECT_EQ(streamed[i].status, 200) << prompts[i];
    EXPECT_EQ(streamed[i].text, plain[i]) << prompts[i];
  }
  const std::string metrics = Fetch(port, "GET", "/metrics").body;
  const auto accepted =
      test::MetricSample(metrics, "jarvis_speculative_accepted_tokens_total{model=\"stories260K\"} ");
  ASSERT_TRUE(accepted.has_value()) << metrics;
  EXPECT_GT(*accepted, 0.0);
  EXPECT_EQ(p.Signal(SIGTERM), 0);
}

}  // namespace
}  // namespace jarvis
