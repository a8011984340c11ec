// CompletionState<Result>: the part of a request's shared state that every
// kind of request has (RequestState for generation, EmbedState for
// embeddings): the id, submit time, cancellation flag and hook, and the final
// result delivered once through a result filter, a completion hook, Wait()
// and a future.
//
// Producer protocol: Complete() exactly once (later calls are ignored); it
// runs the result filter (internal: the service fails a request whose model
// file was damaged meanwhile), then the completion hook (the request's
// on_complete), then makes the result visible to Wait() and the future.
// Cancel() sets the flag, then runs the cancel hook (the scheduler installs
// one that wakes its loop) on the cancelling thread, at most once; the hook
// must not call back into Cancel().
//
// Thread safety: every method may be called from any thread. Derived states
// guard their own fields with mu_ and wake waiters on cv_.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <future>
#include <mutex>
#include <optional>
#include <utility>

namespace jarvis {

template <typename Result>
class CompletionState {
 public:
  using Clock = std::chrono::steady_clock;
  using ResultFilter = std::function<void(Result&)>;

  explicit CompletionState(uint64_t id) : id_(id), submit_time_(Clock::now()), future_(promise_.get_future()) {}
  CompletionState(const CompletionState&) = delete;
  CompletionState& operator=(const CompletionState&) = delete;

  uint64_t id() const { return id_; }
  Clock::time_point submit_time() const { return submit_time_; }

  void Cancel() {
    cancelled_.store(true, std::memory_order_release);
    std::function<void()> hook;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (hook_ran_ || result_.has_value()) return;
      hook_ran_ = true;
      hook = std::move(cancel_hook_);
    }
    if (hook) hook();
  }
  bool cancelled() const { return cancelled_.load(std::memory_order_acquire); }
  void SetCancelHook(std::function<void()> hook) {
    std::lock_guard<std::mutex> lock(mu_);
    cancel_hook_ = std::move(hook);
  }

  void SetCompletionHook(std::function<void(const Result&)> hook) {
    std::lock_guard<std::mutex> lock(mu_);
    completion_hook_ = std::move(hook);
  }
  void SetResultFilter(ResultFilter filter) {
    std::lock_guard<std::mutex> lock(mu_);
    result_filter_ = std::move(filter);
  }

  void Complete(Result result) {
    std::function<void(const Result&)> completion;
    ResultFilter filter;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (result_.has_value() || completing_) return;
      completing_ = true;
      completion = std::move(completion_hook_);
      filter = std::move(result_filter_);
    }
    if (filter) {
      try {
        filter(result);
      } catch (...) {
        // A throwing filter must not escape the library; the result stands.
      }
    }
    if (completion) {
      try {
        completion(result);
      } catch (...) {
        // A throwing hook must not escape the library; the result stands.
      }
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      result_ = result;
      cancel_hook_ = nullptr;  // drop whatever the hook captured
    }
    cv_.notify_all();
    promise_.set_value(std::move(result));
  }
  bool done() const {
    std::lock_guard<std::mutex> lock(mu_);
    return result_.has_value();
  }

  Result Wait() {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [&] { return result_.has_value(); });
    return *result_;
  }
  std::future<Result> TakeFuture() {
    std::lock_guard<std::mutex> lock(mu_);
    return std::move(future_);  // invalid after the first call
  }

 protected:
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::optional<Result> result_;  // set by Complete, under mu_

 private:
  const uint64_t id_;
  const Clock::time_point submit_time_;
  std::atomic<bool> cancelled_{false};
  std::function<void()> cancel_hook_;
  bool hook_ran_ = false;
  std::function<void(const Result&)> completion_hook_;
  ResultFilter result_filter_;
  bool completing_ = false;
  std::promise<Result> promise_;
  std::future<Result> future_;
};

}  // namespace jarvis
