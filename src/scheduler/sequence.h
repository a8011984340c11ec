// Sequence: one admitted request inside the scheduler loop: its tokens, KV
// sequence, token pipeline (engine/token_pipeline.h: logits processors,
// sampler, detokenizer, stop strings, finish rules; the same one Generate
// runs, so both give the same tokens) and the result being built.
//
// Preemption by recompute: when the KV pool runs dry the scheduler may take a
// sequence's KV away (Preempt()) and later give it a new, empty KV sequence
// (Resume()). Everything but the K/V stays here: the tokens generated so far,
// the pipeline (sampler RNG, penalty history, grammar state, detokenizer, stop
// matcher) and the result being built. The resumed sequence prefills its
// prompt + generated tokens again and samples from the last position, which
// is exactly the decode step it was preempted before, so its output continues
// as if nothing had happened.
//
// Thread safety: owned and used by the scheduler's loop thread only. Events go
// to the RequestState (thread-safe) and to on_token, called on the loop thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "constrain/grammar.h"
#include "engine/speculation.h"
#include "engine/token_pipeline.h"
#include "jarvis/request.h"
#include "scheduler/request_state.h"

namespace jarvis {

// A validated, tokenized request waiting for admission.
struct PendingRequest {
  std::shared_ptr<RequestState> state;
  std::vector<int32_t> prompt;  // non-empty, shorter than the context
  SamplingParams sampling;
  int32_t max_tokens = 128;     // < 0: until the context is full
  std::vector<std::string> stop;
  bool ignore_eos = false;
  std::string grammar;                                   // GBNF; empty: unconstrained
  std::shared_ptr<const constrain::Grammar> parsed_grammar;  // grammar, checked at Submit
  int32_t logprobs = -1;                                 // GenerateRequest::logprobs
  std::optional<std::chrono::steady_clock::time_point> deadline;
  TokenCallback on_token;
};

class Sequence {
 public:
  using Clock = std::chrono::steady_clock;

  // `tokenizer` must outlive the sequence. `admitted` is the start of the
  // step that admitted it; n_ctx is the engine's context per sequence.
  // `processor` (may be null) constrains the logits (the request's grammar).
  Sequence(PendingRequest request, const Tokenizer& tokenizer, int32_t n_vocab, int32_t n_ctx,
           Clock::time_point admitted, std::unique_ptr<LogitsProcessor> processor = nullptr);
  Sequence(const Sequence&) = delete;
  Sequence& operator=(const Sequence&) = delete;

  // Prefill feeds positions [n_computed(), prefill_end()) and samples after
  // the last one: the prompt, or after a preemption the prompt and every
  // generated token (recompute).
  bool prefilling() const { return n_computed_ < prefill_end_; }
  int32_t prefill_end() const { return prefill_end_; }
  int32_t n_prompt() const { return static_cast<int32_t>(request_.prompt.size()); }
  int32_t n_computed() const { return n_computed_; }
  // Prompt and generated tokens; the next step needs K/V for all of them
  // (the last one is fed next when it is a sampled token).
  std::span<const int32_t> tokens() const { return tokens_; }
  int32_t n_tokens() const { return static_cast<int32_t>(tokens_.size()); }
  // Tokens at positions [0, n_computed()): computed K/V.
  std::span<const int32_t> computed_tokens() const {
    return std::span<const int32_t>(tokens_).first(static_cast<size_t>(n_computed_));
  }
  // Next token to feed: the sampled one (decode) or the next prompt token.
  int32_t token_at(int32_t pos) const { return tokens_[static_cast<size_t>(pos)]; }
  bool has_pending_decode() const { return !prefilling() && static_cast<int32_t>(tokens_.size()) > n_computed_; }
  int32_t n_generated() const { return static_cast<int32_t>(tokens_.size()) - n_prompt(); }
  // Nothing to generate at all (max_tokens == 0).
  bool wants_no_tokens() const { return pipeline_.budget() == 0; }

  int32_t kv_seq = -1;
  // Speculation mode "draft": this sequence's draft sequence on the
  // scheduler's ModelDrafter, opened at its first draft; -1 when none (the
  // scheduler closes it when the sequence finishes or is preempted).
  int32_t draft_seq = -1;

  // The first n prompt positions came from the prefix cache.
  void SetCachedPrefix(int32_t n);
  int32_t cached_prompt_tokens() const { return result_.cached_prompt_tokens; }

  // Preemption (see above). Preempt(): the caller has freed kv_seq; nothing
  // is computed any more and prefill_end() covers every token. Resume(): a
  // new KV sequence whose first n_cached positions came from the prefix cache.
  void Preempt();
  void Resume(int32_t kv, int32_t n_cached);
  bool preempted() const { return preempted_; }  // between Preempt() and Resume()
  bool resumed() const { return n_preemptions_ > 0; }  // prefill is recompute
  int32_t n_preemptions() const { return n_preemptions_; }

  // The step fed positions [n_computed, n_computed + n) successfully.
  void Advance(int32_t n, Clock::time_point step_end);
  // Samples from this sequence's logits row; false when it has finished
  // (finish() says why), true to keep decoding.
  bool Sample(std::span<float> logits, Clock::time_point now);

  // Speculative decoding (engine/speculation.h). ProposeDraft: the tokens to
  // feed after the pending one this step, at most `max_tokens` (empty: an
  // ordinary step). SampleVerified: after a step that fed the pending token
  // and `draft` with logits for every row (`rows`: draft.size() + 1 rows of
  // n_vocab), samples them in order and marks the accepted drafts computed;
  // returns how many were accepted. REQUIRES: the pending token was advanced.
  std::vector<int32_t> ProposeDraft(const SpeculationOptions& options, int32_t max_tokens);
  // The draft length this step asks for (DraftPolicy, at most max_tokens and
  // what the budget and context leave room for; 0: no draft). ProposeDraft
  // uses it; a draft model's drafts are made by the scheduler, batched
  // across sequences (engine/model_drafter.h), for this many tokens.
  int32_t DraftLength(const SpeculationOptions& options, int32_t max_tokens);
  int32_t SampleVerified(std::span<float> rows, size_t n_vocab, std::span<const int32_t> draft,
                         Clock::time_point now);

  bool expired(Clock::time_point now) const {
    return request_.deadline.has_value() && now >= *request_.deadline;
  }
  const RequestState& state() const { return *request_.state; }
  std::optional<FinishReason> finish() const { return finish_; }
  void set_finish(FinishReason reason, Status error = Status::Ok());

  // Flushes held-back text (stop/length only), fills in the result and
  // completes the request. Call once, after the KV sequence is freed.
  void Complete(Clock::time_point now);

 private:
  // Appends text, delivers the event; false if on_token asked to cancel.
  bool Emit(int32_t token, std::string text, std::optional<TokenLogprob> logprob = std::nullopt);

  PendingRequest request_;
  TokenPipeline pipeline_;
  std::optional<DraftPolicy> draft_policy_;  // made by the first ProposeDraft
  std::vector<int32_t> tokens_;  // prompt, then generated
  int32_t n_computed_ = 0;
  int32_t prefill_end_ = 0;
  bool preempted_ = false;
  int32_t n_preemptions_ = 0;
  std::optional<FinishReason> finish_;
  Status callback_error_;  // on_token threw
  GenerateResult result_;
  Clock::time_point admitted_;
  std::optional<Clock::time_point> prompt_done_, first_token_, last_token_;
};

}  // namespace jarvis
