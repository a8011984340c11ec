// Speculative decoding by prompt lookup (engine/speculation.h): the n-gram
// drafter, the draft policy, and Generate's output with drafting equal to
// its output without, token for token, greedy and seeded sampling, on the
// real stories260K model and on random models of the quantized weight types
// (whose int8 fast paths must be batch-invariant for this to hold).
#include "engine/speculation.h"

#include <gtest/gtest.h>

#include <memory>
#include <random>
#include <string>
#include <vector>

#include "engine/engine.h"
#include "engine/generator.h"
#include "model/model.h"
#include "support/test_paths.h"
#include "support/tiny_model.h"

namespace jarvis {
namespace {

SpeculationOptions Lookup(int32_t draft_max = 8) {
  SpeculationOptions o;
  o.mode = "lookup";
  o.draft_max = draft_max;
  return o;
}

TEST(PromptLookupDraftTest, CopiesWhatFollowedTheMostRecentMatch) {
  //                          0  1  2  3  4  5  6  7  8  9
  const std::vector<int32_t> t = {5, 6, 7, 8, 9, 5, 6, 1, 2, 5, 6};
  // Last bigram (5, 6) occurs at 0 and at 5; the most recent (5) wins.
  EXPECT_EQ(PromptLookupDraft(t, Lookup(), 8), (std::vector<int32_t>{1, 2, 5, 6}));
  EXPECT_EQ(PromptLookupDraft(t, Lookup(), 2), (std::vector<int32_t>{1, 2}));
  EXPECT_TRUE(PromptLookupDraft(t, Lookup(), 0).empty());
}

TEST(PromptLookupDraftTest, TheLongestNgramWins) {
  // The trigram (1, 2, 3) matches at 0 (followed by 4); the bigram (2, 3)
  // alone would match later, at 6 (followed by 9).
  const std::vector<int32_t> t = {1, 2, 3, 4, 4, 0, 2, 3, 9, 1, 2, 3};
  EXPECT_EQ(PromptLookupDraft(t, Lookup(), 1), (std::vector<int32_t>{4}));
  SpeculationOptions bigrams = Lookup();
  bigrams.ngram_max = 2;
  EXPECT_EQ(PromptLookupDraft(t, bigrams, 1), (std::vector<int32_t>{9}));
}

TEST(PromptLookupDraftTest, NothingWithoutAMatch) {
  EXPECT_TRUE(PromptLookupDraft(std::vector<int32_t>{}, Lookup(), 4).empty());
  EXPECT_TRUE(PromptLookupDraft(std::vector<int32_t>{7}, Lookup(), 4).empty());
  EXPECT_TRUE(PromptLookupDraft(std::vector<int32_t>{1, 2, 3, 4, 5}, Lookup(), 4).empty());
  // A single repeated token is below ngram_min (2)...
  EXPECT_TRUE(PromptLookupDraft(std::vector<int32_t>{3, 9, 3}, Lookup(), 4).empty());
  // ... but a run of it is a bigram that matches itself shifted by one.
  EXPECT_EQ(PromptLookupDraft(std::vector<int32_t>{3, 3, 3}, Lookup(), 4), (std::vector<int32_t>{3}));
}

TEST(SpeculationOptionsTest, ValidatesModeAndLengths) {
  EXPECT_TRUE(MakeSpeculationOptions("off", 8).ok());
  EXPECT_TRUE(MakeSpeculationOptions("lookup", 1).ok());
  EXPECT_TRUE(MakeSpeculationOptions("lookup", kMaxDraftTokens).ok());
  EXPECT_EQ(MakeSpeculationOptions("draft", 8).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(MakeSpeculationOptions("lookup", 0).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(MakeSpeculationOptions("lookup", kMaxDraftTokens + 1).status().code(), StatusCode::kInvalidArgument);
  SpeculationOptions o = Lookup();
  o.ngram_min = 3;
  o.ngram_max = 2;
  EXPECT_FALSE(o.Validate().ok());
}

TEST(DraftPolicyTest, GrowsOnWholeDraftsShrinksOnRejections) {
  DraftPolicy p(8);
  EXPECT_EQ(p.NextLength(), 2);  // starts short
  p.Record(2, 2);
  EXPECT_EQ(p.NextLength(), 4);
  p.Record(4, 4);
  p.Record(6, 6);
  EXPECT_EQ(p.NextLength(), 8);
  p.Record(8, 3);
  EXPECT_EQ(p.NextLength(), 7);
  p.Record(7, 7);
  EXPECT_EQ(p.NextLength(), 8);  // capped at draft_max
  p.Record(8, 8);
  EXPECT_EQ(p.NextLength(), 8);
}

TEST(DraftPolicyTest, PausesWhenDraftsKeepFailingThenTriesAgain) {
  DraftPolicy p(4);
  int rounds = 0;
  while (!p.paused() && rounds < 100) {
    const int32_t n = p.NextLength();
    ASSERT_GT(n, 0);
    p.Record(n, 0);
    ++rounds;
  }
  ASSERT_TRUE(p.paused()) << "never paused at 0% acceptance";
  EXPECT_LE(rounds, 8);
  int paused_steps = 0;
  while (p.NextLength() == 0) ++paused_steps;
  EXPECT_GE(paused_steps, 15);
  // Failing again pauses longer (the pauses double).
  int second = 0;
  while (!p.paused()) p.Record(p.NextLength(), 0);
  while (p.NextLength() == 0) ++second;
  EXPECT_GT(second, paused_steps);
  // Drafts that pay keep it going.
  for (int i = 0; i < 50; ++i) {
    const int32_t n = p.NextLength();
    ASSERT_GT(n, 0) << "paused although every draft was accepted";
    p.Record(n, n);
  }
}

TEST(VerifyDraftTest, AcceptsUntilTheFirstMismatch) {
  const std::vector<int32_t> draft = {4, 5, 6};
  std::vector<size_t> rows;
  auto sampler = [&](std::vector<int32_t> tokens) {
    return [&rows, tokens](size_t i) -> std::optional<int32_t> {
      rows.push_back(i);
      return tokens[i];
    };
  };
  EXPECT_EQ(VerifyDraft(draft, sampler({4, 5, 6, 7})), 3);  // all, plus the bonus row
  EXPECT_EQ(rows.size(), 4u);
  rows.clear();
  EXPECT_EQ(VerifyDraft(draft, sampler({4, 9, 6, 7})), 1);  // row 1 differs: stop there
  EXPECT_EQ(rows, (std::vector<size_t>{0, 1}));
  rows.clear();
  EXPECT_EQ(VerifyDraft(std::span<const int32_t>(), sampler({3})), 0);  // an ordinary step
  EXPECT_EQ(rows.size(), 1u);
  // The sequence finishing ends the verification.
  EXPECT_EQ(VerifyDraft(draft, [](size_t i) -> std::optional<int32_t> {
              if (i == 1) return std::nullopt;
              return 4;
            }),
            1);
}

// Generate with and without prompt lookup: the same tokens and finish.
GenerationResult Run(const Model& model, const std::vector<int32_t>& prompt, GenerateOptions go) {
    EngineOptions eo;
    eo.n_threads = 2;
    eo.n_ctx = 512;
    auto engine = Engine::Create(model, eo);
    EXPECT_TRUE(engine.ok()) << engine.status().ToString();
    if (!engine.ok()) return {};
    auto r = Generate(**engine, prompt, go);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : GenerationResult{};
  }

// Checks every draft length against the plain run; returns the drafts
// accepted over all of them.
int32_t ExpectSameAsPlain(const Model& model, const std::vector<int32_t>& prompt, GenerateOptions go) {
    const GenerationResult plain = Run(model, prompt, go);
    EXPECT_EQ(plain.draft_tokens, 0);
    int32_t accepted = 0;
    for (int32_t k : {1, 2, 4, 8}) {
      go.speculation = Lookup(k);
      const GenerationResult spec = Run(model, prompt, go);
      EXPECT_EQ(spec.tokens, plain.tokens) << "draft_max " << k;
      EXPECT_EQ(spec.text, plain.text) << "draft_max " << k;
      EXPECT_EQ(spec.finish, plain.finish) << "draft_max " << k;
      EXPECT_LE(spec.accepted_draft_tokens, spec.draft_tokens);
      // Each accepted draft saves one step.
      EXPECT_EQ(spec.decode_steps, plain.decode_steps - spec.accepted_draft_tokens) << "draft_max " << k;
      accepted += spec.accepted_draft_tokens;
    }
    return accepted;
}

TEST(SpeculativeGenerateTest, StoriesGreedyAndSampledOutputsAreUnchanged) {
  auto m = Model::Load(test::StoriesModelPath());
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  const Tokenizer& tok = (*m)->tokenizer();
  auto prompt = tok.Encode("Once upon a time, there was a little girl named Lily. Lily liked to play", {});
  ASSERT_TRUE(prompt.ok());
  GenerateOptions go;
  go.max_tokens = 200;
  go.sampling.temperature = 0.0f;
  // Stories repeat names and phrases: drafts are accepted.
  EXPECT_GT(ExpectSameAsPlain(**m, *prompt, go), 20);
  go.sampling.temperature = 0.8f;
  go.sampling.top_k = 40;
  go.sampling.top_p = 0.95f;
  go.sampling.repeat_penalty = 1.1f;
  go.sampling.seed = 7;
  go.sampling.has_seed = true;
  ExpectSameAsPlain(**m, *prompt, go);
  go.sampling = SamplingParams();
  go.sampling.temperature = 0.0f;
  go.stop = {" Lily"};
  go.max_tokens = 100;
  ExpectSameAsPlain(**m, *prompt, go);
}

class SpeculativeWeightTypeTest : public ::testing::TestWithParam<GgmlType> {};

TEST_P(SpeculativeWeightTypeTest, GreedyLoopsAreDraftedAndUnchanged) {
  test::TinyModelSpec spec;
  spec.weight_type = GetParam();
  spec.n_embd = 256;  // K types need rows of 256
  spec.n_ff = 512;
  const std::string path = test::TempPath(std::string("speculation-") + TypeName(GetParam()));
  ASSERT_TRUE(test::WriteTinyModel(spec, path).ok());
  auto m = Model::Load(path);
  std::remove(path.c_str());
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  std::mt19937 rng(3);
  std::vector<int32_t> prompt;
  for (int i = 0; i < 24; ++i) prompt.push_back(static_cast<int32_t>(3 + rng() % 250));
  GenerateOptions go;
  go.max_tokens = 160;
  go.ignore_eos = true;
  go.sampling.temperature = 0.0f;
  // Greedy random models fall into loops, which prompt lookup drafts.
  EXPECT_GT(ExpectSameAsPlain(**m, prompt, go), 40);
}

INSTANTIATE_TEST_SUITE_P(Types, SpeculativeWeightTypeTest,
                         ::testing::Values(GgmlType::kF32, GgmlType::kF16, GgmlType::kQ8_0, GgmlType::kQ4_0,
                                           GgmlType::kQ4_K, GgmlType::kQ6_K),
                         [](const ::testing::TestParamInfo<GgmlType>& p) { return std::string(TypeName(p.param)); });

}  // namespace
}  // namespace jarvis
