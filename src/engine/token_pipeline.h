// TokenPipeline: everything that happens to one row of logits, for one
// sequence, on the way to one token of output. Generate (generator.h) and the
// scheduler's Sequence both drive it, so single-sequence and batched
// generation cannot drift apart:
//
//   logits processors (grammar mask; LogitsProcessor) -> sampler (bias,
//   penalties, greedy or top-k/top-p/min-p/temperature) -> logprobs record ->
//   detokenizer (UTF-8 safe pieces) -> stop strings -> finish rules
//   (end-of-generation token, stop string, grammar complete, max_tokens,
//   context full).
//
// The caller owns the model and the output channel: it feeds logits rows to
// Step(), delivers each step's text, and calls Finish() once at the end to
// get text held back by the detokenizer or the stop matcher.
//
// Thread safety: one pipeline per sequence, used on one thread.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "engine/sampling.h"
#include "engine/stop_matcher.h"
#include "jarvis/request.h"
#include "jarvis/status.h"
#include "tokenizer/streaming_decoder.h"
#include "tokenizer/tokenizer.h"

namespace jarvis {

// A hook that edits the logits before sampling (constraints plug in here).
class LogitsProcessor {
 public:
  virtual ~LogitsProcessor() = default;
  // Bans tokens by setting their logits to -inf. Returns the token when it is
  // the only one possible (the sampler is then skipped), else -1. An error
  // finishes the sequence with FinishReason::kError.
  virtual Result<int32_t> Process(std::span<float> logits) = 0;
  // The token the sequence took (never an end-of-generation token).
  virtual Status Accept(int32_t token) = 0;
  // Nothing may follow the accepted tokens: the sequence finishes with stop.
  virtual bool Complete() const = 0;
};

struct TokenPipelineOptions {
  SamplingParams sampling;      // REQUIRES: Validate(n_vocab).ok()
  std::vector<std::string> stop;
  bool ignore_eos = false;
  int32_t max_tokens = 128;     // < 0: until the context is full
  int32_t logprobs = -1;        // GenerateRequest::logprobs
};

class TokenPipeline {
 public:
  // `tokenizer` must outlive the pipeline. `prompt` primes the penalties.
  // `processor` may be null.
  TokenPipeline(const Tokenizer& tokenizer, int32_t n_vocab, int32_t n_ctx, std::span<const int32_t> prompt,
                const TokenPipelineOptions& options, std::unique_ptr<LogitsProcessor> processor);
  TokenPipeline(const TokenPipeline&) = delete;
  TokenPipeline& operator=(const TokenPipeline&) = delete;

  struct StepResult {
    int32_t token = -1;  // appended token; -1 when the step ended without one (end token)
    std::string text;    // text that became final (possibly empty)
    std::optional<TokenLogprob> logprob;  // when requested and token >= 0
    std::optional<FinishReason> finish;   // set: the sequence is done (do not feed `token`)
    Status error;                         // finish == kError
  };
  // One step. REQUIRES: logits.size() >= n_vocab; no finish returned yet.
  // Modifies `logits` in place.
  StepResult Step(std::span<float> logits);

  // The end: for stop and length finishes, returns the text held back (an
  // unfinished UTF-8 character, a possible stop-string prefix) and turns
  // *finish into kStop if that text completes a stop string. "" otherwise.
  std::string Finish(FinishReason* finish);

  // Maximum tokens to generate (max_tokens resolved; 0: none at all).
  int32_t budget() const { return budget_; }
  int32_t n_generated() const { return n_generated_; }
  int32_t n_ctx() const { return n_ctx_; }
  uint64_t seed() const { return sampler_.seed(); }

 private:
  TokenLogprob RecordLogprob(std::span<const float> logits, int32_t token) const;

  const Tokenizer& tokenizer_;
  int32_t n_vocab_;
  int32_t n_ctx_;
  int32_t n_prompt_;
  int32_t budget_;
  TokenPipelineOptions options_;
  std::unique_ptr<LogitsProcessor> processor_;
  Sampler sampler_;
  StopMatcher stops_;
  StreamingDecoder decoder_;
  int32_t n_generated_ = 0;
};

}  // namespace jarvis
