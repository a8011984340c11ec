// EmbedState: what an EmbedHandle (caller side) and the scheduler (producer
// side) share for one embedding request: a CompletionState (id, submit time,
// cancellation, the final result; scheduler/completion_state.h), like
// RequestState without its token stream.
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
#include "scheduler/completion_state.h"

namespace jarvis {

class EmbedState final : public CompletionState<EmbedResult> {
 public:
  using CompletionState::CompletionState;
};

// An already-completed handle (a response-cache hit): runs `on_complete`
// (if set) with the result, then completes.
EmbedHandle MakeCompletedEmbedHandle(EmbedResult result, const std::function<void(const EmbedResult&)>& on_complete);

}  // namespace jarvis
