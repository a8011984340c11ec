#include "scheduler/request_state.h"

#include <utility>

namespace jarvis {

uint64_t NextRequestId() {
  static std::atomic<uint64_t> next{1};
  return next.fetch_add(1, std::memory_order_relaxed);
}

RequestState::RequestState(uint64_t id) : id_(id), submit_time_(Clock::now()), future_(promise_.get_future()) {}

void RequestState::Cancel() {
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

void RequestState::SetCancelHook(std::function<void()> hook) {
  std::lock_guard<std::mutex> lock(mu_);
  cancel_hook_ = std::move(hook);
}

void RequestState::Push(TokenEvent event) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (result_.has_value()) return;
    events_.push_back(std::move(event));
  }
  cv_.notify_all();
}

void RequestState::SetCompletionHook(std::function<void(const GenerateResult&)> hook) {
  std::lock_guard<std::mutex> lock(mu_);
  completion_hook_ = std::move(hook);
}

void RequestState::SetResultFilter(ResultFilter filter) {
  std::lock_guard<std::mutex> lock(mu_);
  result_filter_ = std::move(filter);
}

void RequestState::Complete(GenerateResult result) {
  std::function<void(const GenerateResult&)> completion;
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

bool RequestState::done() const {
  std::lock_guard<std::mutex> lock(mu_);
  return result_.has_value();
}

GenerateResult RequestState::Wait() {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait(lock, [&] { return result_.has_value(); });
  return *result_;
}

std::future<GenerateResult> RequestState::TakeFuture() {
  std::lock_guard<std::mutex> lock(mu_);
  return std::move(future_);  // invalid after the first call
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
