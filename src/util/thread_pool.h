// ThreadPool: a fixed set of worker threads that run one parallel-for at a
// time. Work is split statically (thread i always gets the same slice for the
// same n and thread count), so results never depend on scheduling.
//
// Waiting: a decode step issues a hundred or more Run() calls a few
// microseconds apart, so workers (and the caller, waiting for them) spin on an
// atomic, then yield, for about a millisecond before sleeping on a
// condition variable: the handoff costs well under a microsecond while the
// engine is busy, and an idle pool still sleeps.
//
// Thread safety: Run() must be called from one thread at a time (the engine's
// step thread); it blocks until every slice has finished. Slices must not throw.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace jarvis {

class ThreadPool {
 public:
  // `n_threads` >= 1 counts the calling thread, so n_threads - 1 workers start.
  explicit ThreadPool(int n_threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int size() const { return n_threads_; }

  // Calls fn(thread_index, n_threads) once on each of the pool's threads
  // (the caller runs index 0) and waits for all of them.
  void Run(const std::function<void(int thread_index, int n_threads)>& fn);

  // Splits [0, n) into size() contiguous chunks, each a multiple of `grain`
  // (except the last), and calls fn(begin, end) for each non-empty chunk.
  void ParallelFor(int64_t n, int64_t grain, const std::function<void(int64_t, int64_t)>& fn);

 private:
  void WorkerLoop(int index);

  const int n_threads_;
  std::vector<std::thread> workers_;
  std::mutex mu_;
  std::condition_variable start_cv_;
  std::condition_variable done_cv_;
  // job_ is written before generation_ is bumped (release) and read after a
  // worker sees the new generation (acquire). generation_ and stop_ change
  // only under mu_, so a worker that checks them under mu_ cannot miss a wake.
  const std::function<void(int, int)>* job_ = nullptr;
  std::atomic<uint64_t> generation_{0};
  std::atomic<int> pending_{0};  // workers still running the current job
  std::atomic<bool> stop_{false};
};

// Number of physical cores (falls back to hardware_concurrency()).
int DefaultThreadCount();

}  // namespace jarvis
