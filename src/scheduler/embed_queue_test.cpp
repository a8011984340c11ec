#include "scheduler/embed_queue.h"

#include <gtest/gtest.h>

#include <cmath>
#include <deque>
#include <memory>
#include <vector>

#include "scheduler/embed_prep.h"

namespace jarvis {
namespace {

using Queue = std::deque<std::shared_ptr<EmbedJob>>;

std::shared_ptr<EmbedJob> Job(std::vector<int32_t> lengths) {
  auto job = std::make_shared<EmbedJob>();
  job->state = std::make_shared<EmbedState>(1);
  for (int32_t n : lengths) {
    job->inputs.emplace_back(static_cast<size_t>(n), 7);
    job->prompt_tokens += n;
  }
  job->vectors.resize(lengths.size());
  return job;
}

std::vector<size_t> Sizes(const EmbedBatch& b) {
  std::vector<size_t> out;
  for (const auto& in : b.inputs) out.push_back(in.size());
  return out;
}

TEST(EmbedQueueTest, PacksInputsOfOneAndManyRequestsUpToTheBudget) {
  Queue q;
  auto a = Job({10, 20, 30});
  auto b = Job({15, 5});
  q.push_back(a);
  q.push_back(b);
  EmbedBatch first = PackEmbedBatch(q, 64);
  EXPECT_EQ(Sizes(first), (std::vector<size_t>{10, 20, 30}));  // 15 more would pass 64
  EXPECT_EQ(first.tokens, 60);
  ASSERT_EQ(q.size(), 1u);  // a is fully packed: out of the queue
  EXPECT_EQ(q.front(), b);
  EmbedBatch second = PackEmbedBatch(q, 64);
  EXPECT_EQ(Sizes(second), (std::vector<size_t>{15, 5}));
  EXPECT_TRUE(q.empty());
  ASSERT_EQ(second.slots.size(), 2u);
  EXPECT_EQ(second.slots[1].job, b);
  EXPECT_EQ(second.slots[1].input, 1u);
}

TEST(EmbedQueueTest, SplitsARequestAcrossBatchesAndLetsTheNextOneFillTheRest) {
  Queue q;
  auto a = Job({40, 40, 8});
  auto b = Job({16});
  q.push_back(a);
  q.push_back(b);
  EXPECT_EQ(Sizes(PackEmbedBatch(q, 64)), (std::vector<size_t>{40}));
  EXPECT_EQ(a->next_input, 1u);
  EXPECT_EQ(q.front(), a);  // still has inputs to pack
  EXPECT_EQ(Sizes(PackEmbedBatch(q, 64)), (std::vector<size_t>{40, 8, 16}));
  EXPECT_TRUE(q.empty());
}

TEST(EmbedQueueTest, AnInputOverTheBudgetRunsAlone) {
  Queue q;
  q.push_back(Job({100, 3}));
  EXPECT_EQ(Sizes(PackEmbedBatch(q, 64)), (std::vector<size_t>{100}));
  EXPECT_EQ(Sizes(PackEmbedBatch(q, 64)), (std::vector<size_t>{3}));
  EXPECT_TRUE(PackEmbedBatch(q, 64).empty());
}

TEST(EmbedQueueTest, DropsCancelledExpiredAndFailedJobs) {
  Queue q;
  auto live = Job({4});
  auto cancelled = Job({4});
  cancelled->state->Cancel();
  auto expired = Job({4});
  const auto now = EmbedJob::Clock::now();
  expired->deadline = now - std::chrono::milliseconds(1);
  auto failed = Job({4});
  failed->failed = true;
  q = {live, cancelled, expired, failed};
  std::vector<std::shared_ptr<EmbedJob>> dropped;
  DropDeadEmbedJobs(q, now, /*cancel_all=*/false, &dropped);
  EXPECT_EQ(q, Queue{live});
  EXPECT_EQ(dropped.size(), 3u);
  DropDeadEmbedJobs(q, now, /*cancel_all=*/true, &dropped);
  EXPECT_TRUE(q.empty());
  EXPECT_EQ(dropped.size(), 4u);
}

TEST(EmbedQueueTest, FinishShrinksToTheRequestedDimensions) {
  auto job = Job({2, 2});
  job->dimensions = 2;
  job->vectors = {{0.6f, 0.8f, 0.0f}, {0.0f, 0.0f, 1.0f}};
  job->computed = 2;
  EmbedResult r = FinishEmbedJob(*job, Status::Ok(), EmbedJob::Clock::now());
  ASSERT_TRUE(r.error.ok());
  ASSERT_EQ(r.embeddings.size(), 2u);
  EXPECT_EQ(r.embeddings[0], (std::vector<float>{0.6f, 0.8f}));
  EXPECT_EQ(r.embeddings[1], (std::vector<float>{0.0f, 0.0f}));  // a zero prefix stays zero
  EXPECT_EQ(r.prompt_tokens, 4);
  EmbedResult failed = FinishEmbedJob(*job, Status::Internal("x"), EmbedJob::Clock::now());
  EXPECT_TRUE(failed.embeddings.empty());
  EXPECT_EQ(failed.error.code(), StatusCode::kInternal);
}

TEST(EmbedPrepTest, ShrinkRenormalizes) {
  const std::vector<float> full = {3.0f, 4.0f, 12.0f};
  std::vector<float> two = ShrinkEmbedding(full, 2);
  ASSERT_EQ(two.size(), 2u);
  EXPECT_FLOAT_EQ(two[0], 0.6f);
  EXPECT_FLOAT_EQ(two[1], 0.8f);
  EXPECT_EQ(ShrinkEmbedding(full, 0), full);
  EXPECT_EQ(ShrinkEmbedding(full, 3), full);
}

}  // namespace
}  // namespace jarvis
