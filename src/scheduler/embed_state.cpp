#include "scheduler/embed_state.h"

#include <utility>

#include "scheduler/request_state.h"  // NextRequestId: one id space for both kinds

namespace jarvis {

EmbedState::EmbedState(uint64_t id) : id_(id), submit_time_(Clock::now()), future_(promise_.get_future()) {}

void EmbedState::Cancel() {
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

void EmbedState::SetCancelHook(std::function<void()> hook) {
  std::lock_guard<std::mutex> lock(mu_);
  cancel_hook_ = std::move(hook);
}

void EmbedState::SetCompletionHook(std::function<void(const EmbedResult&)> hook) {
  std::lock_guard<std::mutex> lock(mu_);
  completion_hook_ = std::move(hook);
}

void EmbedState::SetResultFilter(ResultFilter filter) {
  std::lock_guard<std::mutex> lock(mu_);
  result_filter_ = std::move(filter);
}

void EmbedState::Complete(EmbedResult result) {
  std::function<void(const EmbedResult&)> completion;
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

bool EmbedState::done() const {
  std::lock_guard<std::mutex> lock(mu_);
  return result_.has_value();
}

EmbedResult EmbedState::Wait() {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait(lock, [&] { return result_.has_value(); });
  return *result_;
}

std::future<EmbedResult> EmbedState::TakeFuture() {
  std::lock_guard<std::mutex> lock(mu_);
  return std::move(future_);  // invalid after the first call
}

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
