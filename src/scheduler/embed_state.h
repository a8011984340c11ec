// EmbedState: what an EmbedHandle (caller side) and the scheduler (producer
// side) share for one embedding request: the id, submit time, cancellation
// flag and the final result. The embedding counterpart of RequestState
// (request_state.h), without a token stream.
//
// Producer protocol: Complete() exactly once (later calls are ignored); it
// runs the completion hook (EmbedRequest::on_complete) first, then makes the
// result visible to Wait() and the future.
//
// Thread safety: every method may be called from any thread.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <future>
#include <mutex>
#include <optional>

#include "jarvis/embed.h"

namespace jarvis {

class EmbedState {
 public:
  using Clock = std::chrono::steady_clock;

  explicit EmbedState(uint64_t id);
  EmbedState(const EmbedState&) = delete;
  EmbedState& operator=(const EmbedState&) = delete;

  uint64_t id() const { return id_; }
  Clock::time_point submit_time() const { return submit_time_; }

  // Sets the flag, then runs the cancel hook once (the scheduler's wakes its loop).
  void Cancel();
  bool cancelled() const { return cancelled_.load(std::memory_order_acquire); }
  void SetCancelHook(std::function<void()> hook);
  void SetCompletionHook(std::function<void(const EmbedResult&)> hook);
  // Internal: Complete() runs it first; it may change the result (the
  // service fails a request whose model file was damaged meanwhile).
  using ResultFilter = std::function<void(EmbedResult&)>;
  void SetResultFilter(ResultFilter filter);

  void Complete(EmbedResult result);
  bool done() const;

  EmbedResult Wait();
  std::future<EmbedResult> TakeFuture();

 private:
  const uint64_t id_;
  const Clock::time_point submit_time_;
  std::atomic<bool> cancelled_{false};

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::optional<EmbedResult> result_;
  bool completing_ = false;
  std::function<void()> cancel_hook_;
  bool hook_ran_ = false;
  std::function<void(const EmbedResult&)> completion_hook_;
  ResultFilter result_filter_;
  std::promise<EmbedResult> promise_;
  std::future<EmbedResult> future_;
};

// An already-completed handle (a response-cache hit): runs `on_complete`
// (if set) with the result, then completes.
EmbedHandle MakeCompletedEmbedHandle(EmbedResult result, const std::function<void(const EmbedResult&)>& on_complete);

}  // namespace jarvis
