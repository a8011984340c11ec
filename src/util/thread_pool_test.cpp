#include "util/thread_pool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

namespace jarvis {
namespace {

TEST(ThreadPoolTest, ParallelForCoversEveryIndexOnce) {
  for (int threads : {1, 2, 3, 4}) {
    ThreadPool pool(threads);
    for (int64_t n : {1, 2, 7, 64, 1000}) {
      std::vector<std::atomic<int>> hits(static_cast<size_t>(n));
      pool.ParallelFor(n, 4, [&](int64_t begin, int64_t end) {
        for (int64_t i = begin; i < end; ++i) hits[static_cast<size_t>(i)]++;
      });
      for (auto& h : hits) ASSERT_EQ(h.load(), 1) << threads << " threads, n=" << n;
    }
  }
}

// Back-to-back jobs (the spin path) and jobs after the workers fell asleep
// (the condition-variable path) all complete: a lost wake-up would hang here.
TEST(ThreadPoolTest, ManyJobsAndJobsAfterSleep) {
  ThreadPool pool(3);
  std::atomic<int64_t> sum{0};
  for (int round = 0; round < 3; ++round) {
    for (int i = 0; i < 5000; ++i) pool.Run([&](int t, int) { sum += t + 1; });
    std::this_thread::sleep_for(std::chrono::milliseconds(20));  // workers go to sleep
  }
  EXPECT_EQ(sum.load(), 3 * 5000 * (1 + 2 + 3));
}

TEST(ThreadPoolTest, RunGivesEachThreadItsIndex) {
  ThreadPool pool(4);
  std::vector<std::atomic<int>> seen(4);
  pool.Run([&](int t, int n) {
    EXPECT_EQ(n, 4);
    seen[static_cast<size_t>(t)]++;
  });
  for (auto& s : seen) EXPECT_EQ(s.load(), 1);
}

}  // namespace
}  // namespace jarvis
