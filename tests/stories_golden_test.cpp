// stories260K (a real trained model) against the known greedy output of an
// independent F32 implementation (../shared/models/README.md), through the
// library and through the `jarvis run` binary.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "engine/engine.h"
#include "engine/generator.h"
#include "model/model.h"
#include "reference/reference_llama.h"
#include "support/run_jarvis.h"
#include "support/test_paths.h"
#include "tokenizer/tokenizer.h"

namespace jarvis {
namespace {

const std::vector<int32_t> kPromptIds = {1, 403, 407, 261, 378};
const std::vector<int32_t> kExpectedIds = {
    432, 383, 286, 261, 376, 298, 315, 421, 395, 317, 426, 338, 401, 396, 267, 337, 410, 408, 419, 292, 411, 322,
    265, 282, 295, 433, 426, 385, 328, 432, 358, 394, 261, 370, 432, 352, 266, 268, 388, 426, 338, 391, 266, 267,
    337, 335, 312, 432, 398, 312, 286, 267, 414, 270, 333, 415, 426, 13,  438, 310, 439, 419, 357, 336, 432, 313,
    438, 310, 432, 278, 316, 439, 419, 298, 414, 267, 265, 282, 295, 433, 426, 436, 317, 286, 296, 418, 269, 279,
    292, 416, 439, 413, 409, 416, 327, 263, 415, 294, 267, 400, 426, 338, 336, 432, 313, 442, 391, 267, 337, 335,
    364, 420, 268, 388, 432, 398, 359, 280, 303, 439, 413, 272, 417, 264, 312, 426, 436, 13,  438, 310, 286, 296,
    418, 269, 279, 292, 416, 439, 413, 409, 416, 327, 263, 415, 294, 267, 400, 426, 338, 336, 432, 313, 442, 439,
    423, 262, 304, 420, 422, 432, 317, 426, 359, 279, 292, 416, 439, 413, 409, 416, 327, 263, 415, 294, 267, 400,
    426, 436, 13,  438, 310, 279, 292, 416, 439, 413, 391, 267, 281, 421, 427, 311, 357, 432, 384, 358, 336, 432,
    313, 442, 439, 423, 262, 304, 420, 422, 432, 357, 426, 359, 279, 292, 416, 439, 413, 409, 416, 327, 263, 415,
    294, 267, 400, 426, 436, 320, 285, 357, 336, 432, 313, 455, 289, 439, 413, 263, 304, 420, 422, 432, 317, 426,
    410, 448, 411, 280, 303, 281, 421, 427, 364, 426};
const char* kExpectedText =
    ", there was a little girl named Lily. She loved to play outside in the park. One day, she saw a big, red "
    "ball. She wanted to play with it, but it was too high.\nLily's mom said, \"Lily, let's go to the park.\" Lily "
    "was sad and didn't know what to do. She said, \"I want to play with your ball, but I can't find it.\"\nLily "
    "was sad and didn't know what to do. She said, \"I'm sorry, Lily. I didn't know what to do.\"\nLily didn't want "
    "to help her mom, so she said, \"I'm sorry, mom. I didn't know what to do.\" Her mom said, \"Don't worry, Lily. "
    "We can help you.";

class StoriesTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto m = Model::Load(test::StoriesModelPath());
    ASSERT_TRUE(m.ok()) << m.status().ToString();
    model_ = std::move(m).value().release();
  }
  static void TearDownTestSuite() { delete model_; }

  static std::unique_ptr<Engine> MakeEngine(int threads, KvType kv_type) {
    EngineOptions o;
    o.n_threads = threads;
    o.n_ctx = 512;
    o.kv_type = kv_type;
    auto e = Engine::Create(*model_, o);
    EXPECT_TRUE(e.ok());
    return std::move(e).value();
  }
  static GenerateOptions Greedy(int n) {
    GenerateOptions g;
    g.max_tokens = n;
    g.sampling.temperature = 0.0f;
    return g;
  }

  static Model* model_;
};
Model* StoriesTest::model_ = nullptr;

TEST_F(StoriesTest, TokenizesThePrompt) {
  auto ids = model_->tokenizer().Encode("Once upon a time", {});
  ASSERT_TRUE(ids.ok());
  EXPECT_EQ(*ids, kPromptIds);
}

TEST_F(StoriesTest, GreedyOutputMatchesIndependentReference) {
  for (int threads : {1, 2}) {
    auto engine = MakeEngine(threads, KvType::kF32);
    std::string streamed;
    auto r = Generate(*engine, kPromptIds, Greedy(static_cast<int>(kExpectedIds.size())), [&](std::string_view p) {
      streamed += p;
      return true;
    });
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(r->tokens, kExpectedIds) << threads << " threads";
    EXPECT_EQ(r->text, kExpectedText);
    EXPECT_EQ(streamed, kExpectedText);
    EXPECT_EQ(model_->tokenizer().Decode(r->tokens), kExpectedText);
  }
}

// Other prompts: the engine against the test's own double-precision reference.
TEST_F(StoriesTest, OtherPromptsMatchPlainReference) {
  for (const char* prompt : {"The cat", "Tom and his dog went to the big park. They", "\"Hello!\""}) {
    auto ids = model_->tokenizer().Encode(prompt, {});
    ASSERT_TRUE(ids.ok());
    auto engine = MakeEngine(2, KvType::kF32);
    auto r = Generate(*engine, *ids, Greedy(48));
    ASSERT_TRUE(r.ok());
    test::ReferenceLlama ref(model_->gguf());
    std::vector<double> logits;
    for (int32_t t : *ids) logits = ref.Step(t);
    for (size_t i = 0; i < r->tokens.size(); ++i) {
      const int32_t best = static_cast<int32_t>(std::max_element(logits.begin(), logits.end()) - logits.begin());
      ASSERT_EQ(r->tokens[i], best) << prompt << " step " << i;
      logits = ref.Step(best);
    }
  }
}

TEST_F(StoriesTest, PromptLongerThanContextIsAClearError) {
  EngineOptions o;
  o.n_ctx = 16;
  auto engine = Engine::Create(*model_, o);
  ASSERT_TRUE(engine.ok());
  std::vector<int32_t> prompt(16, 403);
  auto r = Generate(**engine, prompt, Greedy(4));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("context"), std::string::npos);
}

TEST_F(StoriesTest, GenerationStopsAtContextEnd) {
  EngineOptions o;
  o.n_ctx = 24;
  auto engine = Engine::Create(*model_, o);
  ASSERT_TRUE(engine.ok());
  auto r = Generate(**engine, kPromptIds, Greedy(-1));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->finish, FinishReason::kLength);
  EXPECT_EQ(r->tokens.size() + kPromptIds.size(), 24u);
}

TEST_F(StoriesTest, StopStringEndsGenerationAndIsNotEmitted) {
  auto engine = MakeEngine(1, KvType::kF32);
  GenerateOptions g = Greedy(200);
  g.stop = {"Lily."};
  auto r = Generate(*engine, kPromptIds, g);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->finish, FinishReason::kStop);
  EXPECT_EQ(r->text, ", there was a little girl named ");
}


TEST(StoriesCli, RunPrintsTheReferenceContinuation) {
  const test::JarvisRun r = test::RunJarvis("run --model " + test::ShellQuote(test::StoriesModelPath()) +
                                            " --prompt 'Once upon a time' -n 252 --temperature 0 --kv-type f32");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, std::string(kExpectedText) + "\n");
}

TEST(StoriesCli, BadInputGivesExitCodes) {
  const std::string model = test::ShellQuote(test::StoriesModelPath());
  test::JarvisRun r = test::RunJarvis("run --model /nonexistent.gguf");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("/nonexistent.gguf"), std::string::npos) << r.err;
  r = test::RunJarvis("run --model " + model + " --kv-type f8");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("q8_0"), std::string::npos) << r.err;  // the message lists the accepted types
  EXPECT_EQ(test::RunJarvis("run --model " + model + " --temperature -1").exit_code, 2);
}

}  // namespace
}  // namespace jarvis
