// RequestState: what a RequestHandle (caller side) and the scheduler (producer
// side) share for one request: CompletionState (id, submit time, cancellation,
// the final result; scheduler/completion_state.h) plus the pull-stream event
// queue.
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
#include "scheduler/completion_state.h"

namespace jarvis {

class RequestState final : public CompletionState<GenerateResult> {
 public:
  using CompletionState::CompletionState;

  // Producer side: an event for the pull stream (dropped after Complete()).
  void Push(TokenEvent event);
  // Consumer side (RequestHandle): the next event, waiting for one; false
  // once the request is complete and every event was taken.
  bool Next(TokenEvent* event);

 private:
  std::deque<TokenEvent> events_;  // under mu_
};

// Fresh process-unique request ids, starting at 1.
uint64_t NextRequestId();

// An already-completed handle for a result obtained without the scheduler
// (e.g. a response-cache hit): delivers result.text as ONE TokenEvent
// (token -1) to `on_token` (if set, on the calling thread; its return value is
// ignored) and to the pull stream, then completes. Empty text: no event.
RequestHandle MakeCompletedHandle(GenerateResult result, const TokenCallback& on_token = {});

}  // namespace jarvis
