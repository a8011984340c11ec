#include "scheduler/embed_state.h"

#include <utility>

#include "scheduler/request_state.h"  // NextRequestId: one id space for both kinds

namespace jarvis {

EmbedHandle MakeCompletedEmbedHandle(EmbedResult result, const std::function<void(const EmbedResult&)>& on_complete) {
  auto state = std::make_shared<EmbedState>(NextRequestId());
  state->SetCompletionHook(on_complete);
  state->Complete(std::move(result));
  return EmbedHandle(std::move(state));
}

// --- EmbedHandle (declared in jarvis/embed.h) -------------------------------

EmbedHandle::EmbedHandle(std::shared_ptr<EmbedState> state) : state_(std::move(state)) {}

uint64_t EmbedHandle::id() const { return state_ ? state_->id() : 0; }

EmbedResult EmbedHandle::Wait() {
  if (!state_) {
    EmbedResult r;
    r.error = Status::InvalidArgument("Wait() on an empty EmbedHandle");
    return r;
  }
  return state_->Wait();
}

std::future<EmbedResult> EmbedHandle::TakeFuture() { return state_ ? state_->TakeFuture() : std::future<EmbedResult>(); }

void EmbedHandle::Cancel() {
  if (state_) state_->Cancel();
}

}  // namespace jarvis
