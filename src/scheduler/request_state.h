// RequestState: what a RequestHandle (caller side) and the scheduler (producer
// side) share for one request: the id, submit time, cancellation flag, the
// pull-stream event queue and the final result (promise/future).
//
// Producer protocol (the scheduler's loop thread, or MakeCompletedHandle):
// Push() any number of events, then Complete() exactly once. Events pushed
// after Complete() are dropped. The event queue is bounded by the generation
// itself (at most one event per generated token plus one for flushed text).
//
// Thread safety: every method may be called from any thread.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <optional>

#include "jarvis/request.h"

namespace jarvis {

class RequestState {
 public:
  using Clock = std::chrono::steady_clock;

  explicit RequestState(uint64_t id);
  RequestState(const RequestState&) = delete;
  RequestState& operator=(const RequestState&) = delete;

  uint64_t id() const { return id_; }
  Clock::time_point submit_time() const { return submit_time_; }

  // Cancellation: sets the flag, then runs the hook (the scheduler installs
  // one that wakes its loop). The hook runs on the cancelling thread, at most
  // once, and must not call back into this state's Cancel().
  void Cancel();
  bool cancelled() const { return cancelled_.load(std::memory_order_acquire); }
  void SetCancelHook(std::function<void()> hook);
  // GenerateRequest::on_complete: Complete() runs it once, with the result,
  // before Wait()/the future can see the result.
  void SetCompletionHook(std::function<void(const GenerateResult&)> hook);
  // Internal: Complete() runs it first, on the producer's thread; it may
  // change the result (the service fails a request whose model file was
  // damaged meanwhile) before the completion hook, Wait(), the future and the
  // end of the pull stream see it.
  using ResultFilter = std::function<void(GenerateResult&)>;
  void SetResultFilter(ResultFilter filter);

  // Producer side.
  void Push(TokenEvent event);
  void Complete(GenerateResult result);
  bool done() const;

  // Consumer side (RequestHandle).
  GenerateResult Wait();
  std::future<GenerateResult> TakeFuture();
  bool Next(TokenEvent* event);

 private:
  const uint64_t id_;
  const Clock::time_point submit_time_;
  std::atomic<bool> cancelled_{false};

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<TokenEvent> events_;
  std::optional<GenerateResult> result_;
  std::function<void()> cancel_hook_;
  bool hook_ran_ = false;
  std::function<void(const GenerateResult&)> completion_hook_;
  ResultFilter result_filter_;
  bool completing_ = false;
  std::promise<GenerateResult> promise_;
  std::future<GenerateResult> future_;
};

// Fresh process-unique request ids, starting at 1.
uint64_t NextRequestId();

// An already-completed handle for a result obtained without the scheduler
// (e.g. a response-cache hit): delivers result.text as ONE TokenEvent
// (token -1) to `on_token` (if set, on the calling thread; its return value is
// ignored) and to the pull stream, then completes. Empty text: no event.
RequestHandle MakeCompletedHandle(GenerateResult result, const TokenCallback& on_token = {});

}  // namespace jarvis
