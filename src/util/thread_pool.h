// ThreadPool: a fixed set of worker threads that run one parallel-for at a
// time. Work is split statically (thread i always gets the same slice for the
// same n and thread count), so results never depend on scheduling.
//
// Thread safety: Run() must be called from one thread at a time (the engine's
// step thread); it blocks until every slice has finished. Slices must not throw.
#pragma once

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
  const std::function<void(int, int)>* job_ = nullptr;  // guarded by mu_
  uint64_t generation_ = 0;                              // guarded by mu_
  int pending_ = 0;                                      // guarded by mu_
  bool stop_ = false;                                    // guarded by mu_
};

// Number of physical cores (falls back to hardware_concurrency()).
int DefaultThreadCount();

}  // namespace jarvis
