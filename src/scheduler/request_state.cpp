#include "scheduler/request_state.h"

#include <utility>

namespace jarvis {

uint64_t NextRequestId() {
  static std::atomic<uint64_t> next{1};
  return next.fetch_add(1, std::memory_order_relaxed);
}

void RequestState::Push(TokenEvent event) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (result_.has_value()) return;
    events_.push_back(std::move(event));
  }
  cv_.notify_all();
}

bool RequestState::Next(TokenEvent* event) {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait(lock, [&] { return !events_.empty() || result_.has_value(); });
  if (events_.empty()) return false;
  *event = std::move(events_.front());
  events_.pop_front();
  return true;
}

// --- RequestHandle (declared in jarvis/request.h) ---------------------------

RequestHandle::RequestHandle(std::shared_ptr<RequestState> state) : state_(std::move(state)) {}

uint64_t RequestHandle::id() const { return state_ ? state_->id() : 0; }

GenerateResult RequestHandle::Wait() {
  if (!state_) {
    GenerateResult r;
    r.finish = FinishReason::kError;
    r.error = Status::InvalidArgument("Wait() on an empty RequestHandle");
    return r;
  }
  return state_->Wait();
}

std::future<GenerateResult> RequestHandle::TakeFuture() {
  return state_ ? state_->TakeFuture() : std::future<GenerateResult>();
}

bool RequestHandle::Next(TokenEvent* event) { return state_ && state_->Next(event); }

void RequestHandle::Cancel() {
  if (state_) state_->Cancel();
}

RequestHandle MakeCompletedHandle(GenerateResult result, const TokenCallback& on_token) {
  auto state = std::make_shared<RequestState>(NextRequestId());
  if (!result.text.empty()) {
    TokenEvent event{-1, result.text};
    if (on_token) {
      try {
        on_token(event);
      } catch (...) {
        // A throwing callback must not escape the library; the result stands.
      }
    }
    state->Push(std::move(event));
  }
  state->Complete(std::move(result));
  return RequestHandle(std::move(state));
}

}  // namespace jarvis
