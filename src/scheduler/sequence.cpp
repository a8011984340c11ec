#include "scheduler/sequence.h"

#include <algorithm>
#include <exception>
#include <utility>

namespace jarvis {
namespace {

double Ms(std::chrono::steady_clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

}  // namespace

namespace {

TokenPipelineOptions PipelineOptions(const PendingRequest& r) {
  TokenPipelineOptions o;
  o.sampling = r.sampling;
  o.stop = r.stop;
  o.ignore_eos = r.ignore_eos;
  o.max_tokens = r.max_tokens;
  o.logprobs = r.logprobs;
  return o;
}

}  // namespace

Sequence::Sequence(PendingRequest request, const Tokenizer& tokenizer, int32_t n_vocab, int32_t n_ctx,
                   Clock::time_point admitted, std::unique_ptr<LogitsProcessor> processor)
    : request_(std::move(request)),
      pipeline_(tokenizer, n_vocab, n_ctx, request_.prompt, PipelineOptions(request_), std::move(processor)),
      tokens_(request_.prompt),
      prefill_end_(static_cast<int32_t>(request_.prompt.size())),
      admitted_(admitted) {
  result_.prompt_tokens = n_prompt();
}

void Sequence::SetCachedPrefix(int32_t n) {
  n_computed_ = n;
  result_.cached_prompt_tokens = n;
}

void Sequence::Preempt() {
  kv_seq = -1;
  n_computed_ = 0;
  prefill_end_ = n_tokens();
  preempted_ = true;
  ++n_preemptions_;
}

void Sequence::Resume(int32_t kv, int32_t n_cached) {
  kv_seq = kv;
  n_computed_ = n_cached;
  preempted_ = false;
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

bool Sequence::Emit(int32_t token, std::string text, std::optional<TokenLogprob> logprob) {
  result_.text += text;
  if (logprob) result_.logprobs.push_back(*logprob);
  TokenEvent event{token, std::move(text), std::move(logprob)};
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
  TokenPipeline::StepResult r = pipeline_.Step(logits);
  if (r.token < 0) {  // an end token, or the constraint failed
    set_finish(*r.finish, std::move(r.error));
    return false;
  }
  last_token_ = now;
  tokens_.push_back(r.token);
  result_.tokens.push_back(r.token);
  if (!Emit(r.token, std::move(r.text), std::move(r.logprob))) {
    if (callback_error_.ok()) {
      set_finish(FinishReason::kCancelled);
    } else {
      set_finish(FinishReason::kError, callback_error_);
    }
  } else if (r.finish) {
    set_finish(*r.finish, std::move(r.error));
  }
  return !finish_.has_value();
}

int32_t Sequence::DraftLength(const SpeculationOptions& options, int32_t max_tokens) {
  // Drafts past the token budget or the context would be wasted rows.
  const int32_t room = std::min(pipeline_.budget() - pipeline_.n_generated() - 1, pipeline_.n_ctx() - n_tokens() - 1);
  if (!draft_policy_) draft_policy_.emplace(options.draft_max);
  return std::max(0, std::min({max_tokens, room, draft_policy_->NextLength()}));
}

std::vector<int32_t> Sequence::ProposeDraft(const SpeculationOptions& options, int32_t max_tokens) {
  const int32_t want = DraftLength(options, max_tokens);
  if (want <= 0) return {};
  return PromptLookupDraft(tokens_, options, want);
}

int32_t Sequence::SampleVerified(std::span<float> rows, size_t n_vocab, std::span<const int32_t> draft,
                                 Clock::time_point now) {
  const int32_t accepted = VerifyDraft(draft, [&](size_t i) -> std::optional<int32_t> {
    if (!Sample(rows.subspan(i * n_vocab, n_vocab), now)) return std::nullopt;
    return tokens_.back();
  });
  n_computed_ += accepted;  // the accepted drafts' K/V was computed by this step
  if (!draft.empty()) {
    if (draft_policy_) draft_policy_->Record(static_cast<int32_t>(draft.size()), accepted);
    result_.draft_tokens += static_cast<int32_t>(draft.size());
    result_.accepted_draft_tokens += accepted;
  }
  return accepted;
}

void Sequence::Complete(Clock::time_point now) {
  if (!finish_) finish_ = FinishReason::kLength;
  std::string rest = pipeline_.Finish(&*finish_);  // held-back UTF-8 or stop-string prefix
  if (!rest.empty()) Emit(-1, std::move(rest));
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
