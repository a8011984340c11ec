// Generate through the token pipeline: grammar constraints, logprobs and the
// callback rules (the scheduler's Sequence shares the pipeline; its batched
// behaviour is tested in src/scheduler/structured_output_test.cpp).
#include "engine/token_pipeline.h"

#include <cmath>
#include <cstdio>
#include <stdexcept>

#include <gtest/gtest.h>

#include "constrain/gbnf_parser.h"
#include "constrain/grammar_matcher.h"
#include "engine/generator.h"
#include "model/model.h"
#include "support/tiny_model.h"

namespace jarvis {
namespace {

class TokenPipelineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    test::TinyModelSpec spec;
    spec.seed = 3;
    path_ = test::TempPath("pipeline");
    ASSERT_TRUE(test::WriteTinyModel(spec, path_).ok());
    auto m = Model::Load(path_);
    ASSERT_TRUE(m.ok()) << m.status().ToString();
    model_ = std::move(m).value();
    EngineOptions o;
    o.n_threads = 1;
    o.n_ctx = 256;
    o.max_sequences = 1;
    auto e = Engine::Create(*model_, o);
    ASSERT_TRUE(e.ok());
    engine_ = std::move(e).value();
  }
  void TearDown() override { std::remove(path_.c_str()); }

  std::string path_;
  std::unique_ptr<Model> model_;
  std::unique_ptr<Engine> engine_;
};

TEST_F(TokenPipelineTest, GrammarConstrainsGreedyAndSampledOutput) {
  const std::string gbnf = R"(root ::= ("yes" | "no") " " [0-9]{1,3} "!")";
  auto g = constrain::ParseGbnf(gbnf);
  ASSERT_TRUE(g.ok());
  for (float temperature : {0.0f, 1.0f}) {
    for (uint64_t seed = 1; seed <= 5; ++seed) {
      GenerateOptions o;
      o.max_tokens = 64;
      o.sampling.temperature = temperature;
      o.sampling.seed = seed;
      o.sampling.has_seed = true;
      o.grammar = gbnf;
      const std::vector<int32_t> prompt{1, static_cast<int32_t>(10 + seed)};
      auto r = Generate(*engine_, prompt, o);
      ASSERT_TRUE(r.ok()) << r.status().ToString();
      EXPECT_EQ(r->finish, FinishReason::kStop) << r->text;
      constrain::GrammarMatcher m(*g);
      constrain::MatchState s = m.Initial();
      EXPECT_TRUE(m.AdvanceBytes(&s, r->text) && s.complete()) << "'" << r->text << "'";
    }
  }
}

TEST_F(TokenPipelineTest, LogprobsAreNormalizedAndMatchTheChoice) {
  GenerateOptions o;
  o.max_tokens = 8;
  o.sampling.temperature = 0.0f;
  o.logprobs = 5;
  o.ignore_eos = true;
  auto r = Generate(*engine_, std::vector<int32_t>{1, 42}, o);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->logprobs.size(), r->tokens.size());
  for (size_t i = 0; i < r->tokens.size(); ++i) {
    const TokenLogprob& lp = r->logprobs[i];
    EXPECT_EQ(lp.token, r->tokens[i]);
    ASSERT_EQ(lp.top.size(), 5u);
    EXPECT_EQ(lp.top[0].token, lp.token);  // greedy
    double mass = 0.0;
    for (size_t k = 0; k < lp.top.size(); ++k) {
      if (k > 0) {
        EXPECT_LE(lp.top[k].logprob, lp.top[k - 1].logprob);
      }
      mass += std::exp(lp.top[k].logprob);
    }
    EXPECT_LE(mass, 1.0 + 1e-5);
    EXPECT_GT(mass, 0.0);
  }
  o.logprobs = -1;
  auto none = Generate(*engine_, std::vector<int32_t>{1, 42}, o);
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->logprobs.empty());
  EXPECT_EQ(none->tokens, r->tokens);  // recording logprobs changes nothing
}

TEST_F(TokenPipelineTest, ThrowingCallbackIsAnErrorNotACrash) {
  GenerateOptions o;
  o.max_tokens = 8;
  o.ignore_eos = true;
  o.sampling.temperature = 0.0f;
  auto r = Generate(*engine_, std::vector<int32_t>{1, 42}, o, [](std::string_view) -> bool {
    throw std::runtime_error("boom");
  });
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInternal);
  EXPECT_NE(r.status().message().find("boom"), std::string::npos);
}

TEST_F(TokenPipelineTest, BadGrammarIsInvalidArgument) {
  GenerateOptions o;
  o.grammar = "root ::= root \"x\"";
  auto r = Generate(*engine_, std::vector<int32_t>{1, 42}, o);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace jarvis
