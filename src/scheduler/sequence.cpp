#include "scheduler/sequence.h"

#include <algorithm>
#include <exception>
#include <utility>

namespace jarvis {
namespace {

double Ms(std::chrono::steady_clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

}  // namespace

Sequence::Sequence(PendingRequest request, const Tokenizer& tokenizer, int32_t n_vocab, int32_t n_ctx,
                   Clock::time_point admitted)
    : request_(std::move(request)),
      tokenizer_(tokenizer),
      n_vocab_(n_vocab),
      n_ctx_(n_ctx),
      budget_(request_.max_tokens < 0 ? n_ctx : request_.max_tokens),
      sampler_(request_.sampling, n_vocab),
      stops_(request_.stop),
      decoder_(tokenizer),
      tokens_(request_.prompt),
      admitted_(admitted) {
  for (int32_t t : request_.prompt) sampler_.Accept(t);  // penalties see the prompt, as in Generate
  result_.prompt_tokens = n_prompt();
}

int32_t Sequence::FinalPositions(int32_t n_prompt, int32_t max_tokens, int32_t n_ctx) {
  // Prompt positions, then every generated token but the last is fed; the
  // context check in Sample() stops before position n_ctx - 1 is needed.
  const int32_t budget = max_tokens < 0 ? n_ctx : max_tokens;
  const int64_t fed = static_cast<int64_t>(n_prompt) + std::max(0, budget - 1);
  return std::max(n_prompt, static_cast<int32_t>(std::min<int64_t>(fed, n_ctx - 1)));
}

void Sequence::SetCachedPrefix(int32_t n) {
  n_computed_ = n;
  result_.cached_prompt_tokens = n;
}

void Sequence::Advance(int32_t n, Clock::time_point step_end) {
  n_computed_ += n;
  if (!prompt_done_ && !prefilling()) prompt_done_ = step_end;
}

void Sequence::set_finish(FinishReason reason, Status error) {
  if (finish_) return;
  finish_ = reason;
  result_.error = std::move(error);
}

bool Sequence::Emit(int32_t token, std::string text) {
  result_.text += text;
  TokenEvent event{token, std::move(text)};
  bool keep = true;
  if (request_.on_token) {
    try {
      keep = request_.on_token(event);
    } catch (const std::exception& e) {
      callback_error_ = Status::Internal(std::string("on_token threw: ") + e.what());
      keep = false;
    } catch (...) {
      callback_error_ = Status::Internal("on_token threw");
      keep = false;
    }
  }
  request_.state->Push(std::move(event));
  return keep;
}

bool Sequence::Sample(std::span<float> logits, Clock::time_point now) {
  if (!first_token_) first_token_ = now;
  const int32_t next = sampler_.Sample(logits.first(static_cast<size_t>(n_vocab_)));
  if (next == kNoToken || (!request_.ignore_eos && tokenizer_.IsEndOfGeneration(next))) {
    set_finish(FinishReason::kStop);
    return false;
  }
  last_token_ = now;
  sampler_.Accept(next);
  tokens_.push_back(next);
  result_.tokens.push_back(next);
  const int32_t generated = static_cast<int32_t>(result_.tokens.size());
  StopMatcher::Output out = stops_.Push(decoder_.Push(next));
  if (!Emit(next, std::move(out.emit))) {
    if (callback_error_.ok()) {
      set_finish(FinishReason::kCancelled);
    } else {
      set_finish(FinishReason::kError, callback_error_);
    }
  } else if (out.stopped) {
    set_finish(FinishReason::kStop);
  } else if (generated >= budget_ || n_prompt() + generated >= n_ctx_) {
    set_finish(FinishReason::kLength);  // max_tokens reached or the context is full
  }
  return !finish_.has_value();
}

void Sequence::Complete(Clock::time_point now) {
  if (!finish_) finish_ = FinishReason::kLength;
  if ((*finish_ == FinishReason::kStop || *finish_ == FinishReason::kLength) && !stops_.stopped()) {
    // Release text held back by the decoder (an unfinished UTF-8 sequence)
    // or by the stop matcher (a possible stop-string prefix).
    StopMatcher::Output out = stops_.Push(decoder_.Flush());
    if (out.stopped) finish_ = FinishReason::kStop;
    std::string rest = std::move(out.emit) + stops_.Flush();
    if (!rest.empty()) Emit(-1, std::move(rest));
  }
  result_.finish = *finish_;
  if (result_.finish != FinishReason::kError) result_.error = Status::Ok();
  result_.completion_tokens = static_cast<int32_t>(result_.tokens.size());
  RequestTimings& t = result_.timings;
  const auto submit = request_.state->submit_time();
  t.queue_ms = Ms(admitted_ - submit);
  if (first_token_) t.ttft_ms = Ms(*first_token_ - submit);
  if (prompt_done_) t.prompt_ms = Ms(*prompt_done_ - admitted_);
  if (first_token_ && last_token_) t.decode_ms = Ms(*last_token_ - *first_token_);
  if (result_.completion_tokens >= 2) t.per_token_ms = t.decode_ms / (result_.completion_tokens - 1);
  t.total_ms = Ms(now - submit);
  request_.state->Complete(std::move(result_));
}

}  // namespace jarvis
