// Speculative decoding with a draft model (engine/model_drafter.h,
// engine/draft_vocabulary.h): the vocabulary check, the drafter's greedy
// drafts (the same one at a time or batched, and after resyncing on a
// history that took only part of the last draft), and Generate's output
// with a draft model equal to its output without, greedy and seeded, for a
// draft that agrees with the target (stories260K drafting for itself) and
// one that mostly does not (random weights with the stories vocabulary).
#include "engine/model_drafter.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "engine/draft_vocabulary.h"
#include "engine/engine.h"
#include "engine/generator.h"
#include "engine/speculation.h"
#include "model/model.h"
#include "support/test_paths.h"
#include "support/tiny_model.h"
#include "tokenizer/tokenizer.h"

namespace jarvis {
namespace {

std::unique_ptr<Model> LoadOrDie(const std::string& path) {
  auto m = Model::Load(path);
  EXPECT_TRUE(m.ok()) << m.status().ToString();
  return m.ok() ? std::move(m).value() : nullptr;
}

// A random-weight model (1 layer) written to a temporary file and loaded.
std::unique_ptr<Model> TinyModel(test::TinyModelSpec spec, const std::string& name) {
  const std::string path = test::TempPath(name);
  const Status written = test::WriteTinyModel(spec, path);
  EXPECT_TRUE(written.ok()) << written.ToString();
  auto m = LoadOrDie(path);
  std::remove(path.c_str());
  return m;
}

// Random weights with the stories260K vocabulary: a draft that rarely agrees.
std::unique_ptr<Model> RandomStoriesDraft() {
  test::TinyModelSpec spec;
  spec.vocab_from = test::StoriesModelPath();
  spec.n_vocab = 512;
  spec.n_layer = 1;
  spec.seed = 5;
  return TinyModel(spec, "draft-random-stories");
}

EngineOptions SmallEngine(int32_t max_sequences = 1) {
  EngineOptions eo;
  eo.n_threads = 2;
  eo.n_ctx = 512;
  eo.max_sequences = max_sequences;
  return eo;
}

std::unique_ptr<ModelDrafter> MakeDrafter(const Model& target, const Model& draft, int32_t max_sequences = 1,
                                          int32_t max_batch_tokens = 512) {
  auto d = ModelDrafter::Create(target, draft, SmallEngine(max_sequences), max_batch_tokens);
  EXPECT_TRUE(d.ok()) << d.status().ToString();
  return d.ok() ? std::move(d).value() : nullptr;
}

std::vector<int32_t> Encode(const Model& m, const std::string& text) {
  auto ids = m.tokenizer().Encode(text, {});
  EXPECT_TRUE(ids.ok());
  return ids.ok() ? *ids : std::vector<int32_t>{};
}

TEST(DraftVocabularyTest, TheSameVocabularyPasses) {
  auto stories = LoadOrDie(test::StoriesModelPath());
  auto random = RandomStoriesDraft();
  ASSERT_TRUE(stories && random);
  EXPECT_TRUE(CheckDraftModel(*stories, *stories).ok());
  const Status s = CheckDraftModel(*stories, *random);
  EXPECT_TRUE(s.ok()) << s.ToString();
}

TEST(DraftVocabularyTest, AnotherSizeOrTokenTextIsRefused) {
  auto stories = LoadOrDie(test::StoriesModelPath());
  test::TinyModelSpec spec;
  spec.n_layer = 1;
  auto small_vocab = TinyModel(spec, "draft-vocab-300");
  spec.n_vocab = 512;  // the stories size, but other pieces after the byte tokens
  auto other_pieces = TinyModel(spec, "draft-vocab-512");
  ASSERT_TRUE(stories && small_vocab && other_pieces);
  const Status size = CheckDraftModel(*stories, *small_vocab);
  EXPECT_EQ(size.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(size.message().find("vocabulary differs"), std::string::npos) << size.message();
  const Status text = CheckDraftModel(*stories, *other_pieces);
  EXPECT_EQ(text.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(text.message().find("token 259 is"), std::string::npos) << text.message();
  // The drafter refuses to start with such a draft.
  EXPECT_EQ(ModelDrafter::Create(*stories, *other_pieces, SmallEngine(), 64).status().code(),
            StatusCode::kInvalidArgument);
}

TEST(DraftVocabularyTest, AnEncoderCannotDraft) {
  auto stories = LoadOrDie(test::StoriesModelPath());
  test::TinyModelSpec spec;
  spec.arch = "bert";
  spec.pooling = 1;
  auto encoder = TinyModel(spec, "draft-encoder");
  ASSERT_TRUE(stories && encoder);
  const Status s = CheckDraftModel(*stories, *encoder);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("encoder"), std::string::npos) << s.message();
}

TEST(SpeculationOptionsTest, ADraftModelSelectsDraftMode) {
  auto o = MakeSpeculationOptions("off", 4, /*has_draft_model=*/true);
  ASSERT_TRUE(o.ok());
  EXPECT_EQ(o->mode, "draft");
  EXPECT_TRUE(MakeSpeculationOptions("draft", 4, true).ok());
  EXPECT_EQ(MakeSpeculationOptions("lookup", 4, true).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(MakeSpeculationOptions("draft", 4, false).status().code(), StatusCode::kInvalidArgument);
}

// The drafter's guesses are its model's greedy continuation.
TEST(ModelDrafterTest, DraftsAreTheDraftModelsGreedyContinuation) {
  auto stories = LoadOrDie(test::StoriesModelPath());
  ASSERT_TRUE(stories);
  const std::vector<int32_t> prompt = Encode(*stories, "Once upon a time, there was a little dog");
  GenerateOptions go;
  go.max_tokens = 6;
  go.ignore_eos = true;
  go.sampling.temperature = 0.0f;
  auto engine = Engine::Create(*stories, SmallEngine());
  ASSERT_TRUE(engine.ok());
  auto plain = Generate(**engine, prompt, go);
  ASSERT_TRUE(plain.ok());
  auto drafter = MakeDrafter(*stories, *stories);
  ASSERT_TRUE(drafter);
  ScopedDraftSequence seq(*drafter);
  // The history ends with the pending token: the prompt's last one here.
  ModelDrafter::Job job{seq.id(), prompt, 6, {}};
  ASSERT_TRUE(drafter->Draft(std::span<ModelDrafter::Job>(&job, 1)).ok());
  EXPECT_EQ(job.draft, plain->tokens);
}

// After a verify step that took only part of a draft (and a token of the
// target's own), the draft sequence keeps its common prefix and drafts what
// a fresh one drafts for the same history.
TEST(ModelDrafterTest, ResyncsOnAHistoryThatLeftTheDraft) {
  auto stories = LoadOrDie(test::StoriesModelPath());
  auto random = RandomStoriesDraft();
  ASSERT_TRUE(stories && random);
  const std::vector<int32_t> prompt = Encode(*stories, "Lily and Tom went to the park to play");
  for (const Model* draft_model : {stories.get(), random.get()}) {
    auto drafter = MakeDrafter(*stories, *draft_model, 2);
    ASSERT_TRUE(drafter);
    ScopedDraftSequence kept(*drafter);
    ModelDrafter::Job first{kept.id(), prompt, 5, {}};
    ASSERT_TRUE(drafter->Draft(std::span<ModelDrafter::Job>(&first, 1)).ok());
    ASSERT_EQ(first.draft.size(), 5u);
    for (int32_t taken : {0, 2, 5}) {
      std::vector<int32_t> history = prompt;
      history.insert(history.end(), first.draft.begin(), first.draft.begin() + taken);
      history.push_back(taken == 5 ? 42 : (first.draft[static_cast<size_t>(taken)] + 1) % 512);  // the target's token
      ModelDrafter::Job again{kept.id(), history, 4, {}};
      ASSERT_TRUE(drafter->Draft(std::span<ModelDrafter::Job>(&again, 1)).ok());
      ScopedDraftSequence fresh_seq(*drafter);
      ModelDrafter::Job fresh{fresh_seq.id(), history, 4, {}};
      ASSERT_TRUE(drafter->Draft(std::span<ModelDrafter::Job>(&fresh, 1)).ok());
      EXPECT_EQ(again.draft, fresh.draft) << "taken " << taken;
      // Back to the first history for the next round.
      ModelDrafter::Job reset{kept.id(), prompt, 5, {}};
      ASSERT_TRUE(drafter->Draft(std::span<ModelDrafter::Job>(&reset, 1)).ok());
      EXPECT_EQ(reset.draft, first.draft);
    }
  }
}

// One Draft call over several sequences (batched steps, catch-up chunked to a
// small max_batch_tokens) drafts what each gets alone, and once caught up
// they share each forward step.
TEST(ModelDrafterTest, BatchedDraftsEqualDraftsOneAtATime) {
  auto stories = LoadOrDie(test::StoriesModelPath());
  ASSERT_TRUE(stories);
  const std::vector<std::vector<int32_t>> histories = {
      Encode(*stories, "The cat sat on the mat"),
      Encode(*stories, "Once upon a time, in a small town, there lived a boy named Tim. Tim had a red ball"),
      Encode(*stories, "Sue"),
  };
  auto together = MakeDrafter(*stories, *stories, 3, /*max_batch_tokens=*/7);
  auto alone = MakeDrafter(*stories, *stories, 1);
  ASSERT_TRUE(together && alone);
  std::vector<ModelDrafter::Job> jobs;
  std::vector<std::unique_ptr<ScopedDraftSequence>> seqs;
  std::vector<std::vector<int32_t>> next_histories(histories.size());
  for (size_t i = 0; i < histories.size(); ++i) {
    seqs.push_back(std::make_unique<ScopedDraftSequence>(*together));
    jobs.push_back({seqs.back()->id(), histories[i], static_cast<int32_t>(2 + i * 2), {}});
  }
  ASSERT_TRUE(together->Draft(jobs).ok());
  for (size_t i = 0; i < histories.size(); ++i) {
    ScopedDraftSequence seq(*alone);
    ModelDrafter::Job job{seq.id(), histories[i], jobs[i].max_tokens, {}};
    ASSERT_TRUE(alone->Draft(std::span<ModelDrafter::Job>(&job, 1)).ok());
    EXPECT_EQ(jobs[i].draft.size(), static_cast<size_t>(jobs[i].max_tokens));
    EXPECT_EQ(jobs[i].draft, job.draft) << "sequence " << i;
  }
  // Next round: each history took its draft but the last token (never fed)
  // and then a token of the target's own, so each catches up on that one
  // token in the step that gives its first draft token: the drafts of all
  // three sequences take one forward step per draft position.
  for (size_t i = 0; i < histories.size(); ++i) {
    std::vector<int32_t> next(histories[i].begin(), histories[i].end());
    next.insert(next.end(), jobs[i].draft.begin(), jobs[i].draft.end() - 1);
    next.push_back(7);
    jobs[i] = {seqs[i]->id(), {}, 5, {}};
    next_histories[i] = std::move(next);
    jobs[i].tokens = next_histories[i];
  }
  const int64_t before = together->forward_steps();
  ASSERT_TRUE(together->Draft(jobs).ok());
  EXPECT_EQ(together->forward_steps() - before, 5);
  for (const auto& job : jobs) EXPECT_EQ(job.draft.size(), 5u);
  seqs.clear();
  EXPECT_EQ(together->open_sequences(), 0);
}

// With a catch-up limit per call a long history is caught up over several
// calls (no draft meanwhile), then drafts what an unlimited drafter drafts.
TEST(ModelDrafterTest, ACatchUpLimitSpreadsTheDraftPrefillOverCalls) {
  auto stories = LoadOrDie(test::StoriesModelPath());
  ASSERT_TRUE(stories);
  const std::vector<int32_t> history =
      Encode(*stories, "Once upon a time, in a small town, there lived a boy named Tim. Tim had a red ball");
  ASSERT_GT(history.size(), 24u);
  ASSERT_LE(history.size(), 36u);
  auto limited = ModelDrafter::Create(*stories, *stories, SmallEngine(), 64, /*catch_up_per_call=*/12);
  ASSERT_TRUE(limited.ok()) << limited.status().ToString();
  auto unlimited = MakeDrafter(*stories, *stories);
  ASSERT_TRUE(unlimited);
  ScopedDraftSequence seq(**limited);
  ModelDrafter::Job job{seq.id(), history, 3, {}};
  for (int call = 0; call < 2; ++call) {  // 12 + 12 tokens: not there yet
    ASSERT_TRUE((*limited)->Draft(std::span<ModelDrafter::Job>(&job, 1)).ok());
    EXPECT_TRUE(job.draft.empty()) << "call " << call;
    job.max_tokens = 3;
  }
  ASSERT_TRUE((*limited)->Draft(std::span<ModelDrafter::Job>(&job, 1)).ok());  // the rest (<= 12)
  ScopedDraftSequence fresh(*unlimited);
  ModelDrafter::Job reference{fresh.id(), history, 3, {}};
  ASSERT_TRUE(unlimited->Draft(std::span<ModelDrafter::Job>(&reference, 1)).ok());
  EXPECT_EQ(job.draft.size(), 3u);
  EXPECT_EQ(job.draft, reference.draft);
  EXPECT_EQ(ModelDrafter::Create(*stories, *stories, SmallEngine(), 64, -1).status().code(),
            StatusCode::kInvalidArgument);
}

// Generate with and without the draft model: the same tokens, text and finish.
struct Compared {
  GenerationResult plain, spec;
};
Compared RunBoth(const Model& target, const Model& draft, const std::vector<int32_t>& prompt, GenerateOptions go) {
  Compared c;
  auto engine = Engine::Create(target, SmallEngine());
  EXPECT_TRUE(engine.ok());
  if (!engine.ok()) return c;
  auto plain = Generate(**engine, prompt, go);
  EXPECT_TRUE(plain.ok()) << plain.status().ToString();
  auto drafter = MakeDrafter(target, draft);
  if (!plain.ok() || !drafter) return c;
  go.speculation.mode = "draft";
  go.speculation.draft_max = 6;
  go.drafter = drafter.get();
  auto spec = Generate(**engine, prompt, go);
  EXPECT_TRUE(spec.ok()) << spec.status().ToString();
  if (!spec.ok()) return c;
  c.plain = *plain;
  c.spec = *spec;
  EXPECT_EQ(c.spec.tokens, c.plain.tokens);
  EXPECT_EQ(c.spec.text, c.plain.text);
  EXPECT_EQ(c.spec.finish, c.plain.finish);
  EXPECT_LE(c.spec.accepted_draft_tokens, c.spec.draft_tokens);
  EXPECT_EQ(c.spec.decode_steps, c.plain.decode_steps - c.spec.accepted_draft_tokens);
  EXPECT_EQ(drafter->open_sequences(), 0);  // Generate closed its draft sequence
  return c;
}

GenerateOptions Greedy(int32_t max_tokens) {
  GenerateOptions go;
  go.max_tokens = max_tokens;
  go.sampling.temperature = 0.0f;
  return go;
}

GenerateOptions Seeded(int32_t max_tokens) {
  GenerateOptions go = Greedy(max_tokens);
  go.sampling.temperature = 0.8f;
  go.sampling.top_k = 40;
  go.sampling.top_p = 0.95f;
  go.sampling.repeat_penalty = 1.1f;
  go.sampling.seed = 7;
  go.sampling.has_seed = true;
  return go;
}

TEST(DraftModelGenerateTest, TheTargetAsItsOwnDraftAcceptsGreedyDraftsAndKeepsTheOutput) {
  auto stories = LoadOrDie(test::StoriesModelPath());
  ASSERT_TRUE(stories);
  const std::vector<int32_t> prompt = Encode(*stories, "Once upon a time, there was a little girl named Lily.");
  const Compared greedy = RunBoth(*stories, *stories, prompt, Greedy(150));
  // Its own greedy continuation: every draft is accepted.
  EXPECT_GT(greedy.spec.draft_tokens, 50);
  EXPECT_EQ(greedy.spec.accepted_draft_tokens, greedy.spec.draft_tokens);
  const Compared seeded = RunBoth(*stories, *stories, prompt, Seeded(150));
  EXPECT_GT(seeded.spec.accepted_draft_tokens, 0);
  GenerateOptions stop = Greedy(100);
  stop.stop = {" Lily"};
  RunBoth(*stories, *stories, prompt, stop);
}

TEST(DraftModelGenerateTest, ARandomDraftIsMostlyRejectedAndKeepsTheOutput) {
  auto stories = LoadOrDie(test::StoriesModelPath());
  auto random = RandomStoriesDraft();
  ASSERT_TRUE(stories && random);
  const std::vector<int32_t> prompt = Encode(*stories, "Tom had a big red ball. He liked to");
  const Compared greedy = RunBoth(*stories, *random, prompt, Greedy(150));
  EXPECT_GT(greedy.spec.draft_tokens, 0);
  EXPECT_LT(greedy.spec.accepted_draft_tokens * 2, greedy.spec.draft_tokens);
  RunBoth(*stories, *random, prompt, Seeded(150));
}

TEST(DraftModelGenerateTest, DraftModeWithoutADrafterIsInvalid) {
  auto stories = LoadOrDie(test::StoriesModelPath());
  ASSERT_TRUE(stories);
  auto engine = Engine::Create(*stories, SmallEngine());
  ASSERT_TRUE(engine.ok());
  GenerateOptions go = Greedy(4);
  go.speculation.mode = "draft";
  const std::vector<int32_t> prompt = Encode(*stories, "Hi");
  EXPECT_EQ(Generate(**engine, prompt, go).status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace jarvis
