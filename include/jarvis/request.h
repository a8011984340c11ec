// The request/response types of jarvis's non-blocking generation API, shared
// by the scheduler (which fulfils requests), the service layer (which adds
// model lookup and the response cache) and every front end (HTTP, CLI, tests).
//
// Thread safety: GenerateRequest and GenerateResult are plain values.
// RequestHandle is thread-safe: any thread may wait on, pull from or cancel it.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <future>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "jarvis/chat_message.h"
#include "jarvis/sampling_params.h"
#include "jarvis/status.h"

namespace jarvis {

enum class FinishReason {
  kStop,       // end-of-generation token or a stop string
  kLength,     // max_tokens reached or the context is full
  kCancelled,  // cancel(), the callback returned false, or the deadline passed
  kError,      // see GenerateResult::error
};
inline const char* FinishReasonName(FinishReason reason) {
  switch (reason) {
    case FinishReason::kStop: return "stop";
    case FinishReason::kLength: return "length";
    case FinishReason::kCancelled: return "cancelled";
    case FinishReason::kError: return "error";
  }
  return "unknown";
}

// Log-probabilities of one generated token (GenerateRequest::logprobs >= 0).
// Measured on the distribution the sampler draws from after logit_bias, the
// repetition penalties and the grammar mask, before temperature, top-k, top-p
// and min-p (OpenAI reports the model's distribution, not the truncated one).
struct TokenLogprob {
  struct Alternative {
    int32_t token = -1;
    std::string piece;  // the token's bytes (may be part of a UTF-8 character)
    float logprob = 0.0f;
  };
  int32_t token = -1;
  std::string piece;
  float logprob = 0.0f;
  std::vector<Alternative> top;  // the most likely tokens, best first (logprobs of them)
};

// One piece of streamed output.
struct TokenEvent {
  int32_t token = -1;  // the sampled id
  std::string text;    // text that became final with it (may be empty: held-back UTF-8 or stop prefix)
  std::optional<TokenLogprob> logprob = std::nullopt;  // when requested, for a sampled token
};

struct RequestTimings {
  double queue_ms = 0.0;        // submit -> first scheduled step
  double ttft_ms = 0.0;         // submit -> first generated token
  double prompt_ms = 0.0;       // prefill compute
  double decode_ms = 0.0;       // first token -> last token
  double total_ms = 0.0;        // submit -> completion
  double per_token_ms = 0.0;    // decode_ms / (completion_tokens - 1), 0 if < 2 tokens
};

struct GenerateResult {
  std::string text;
  std::vector<int32_t> tokens;
  FinishReason finish = FinishReason::kLength;
  Status error;                     // non-OK iff finish == kError
  int32_t prompt_tokens = 0;
  int32_t cached_prompt_tokens = 0; // prompt tokens whose KV came from the prefix cache
  int32_t completion_tokens = 0;
  bool from_response_cache = false;
  RequestTimings timings;
  std::vector<TokenLogprob> logprobs;  // one per token in `tokens`, when requested
  // Speculative decoding (RuntimeOptions::speculative): draft tokens
  // verified and how many of them were accepted (0 when off).
  int32_t draft_tokens = 0;
  int32_t accepted_draft_tokens = 0;
};

// Called on the scheduler's thread for every generated token; must be quick.
// Return false to cancel the request.
using TokenCallback = std::function<bool(const TokenEvent&)>;

struct GenerateRequest {
  std::string model;                      // model name; empty: the server's default model
  std::string prompt;                     // raw text (used when messages is empty)
  std::vector<ChatMessage> messages;      // chat turns, rendered with the model's template
  // Chat requests: both reach the prompt through the model's chat template.
  std::string tools_json;                 // JSON array of OpenAI tool definitions; empty: none
  std::string chat_template_kwargs_json;  // JSON object, e.g. {"enable_thinking": false}
  std::vector<int32_t> prompt_tokens;     // already tokenized (library users); overrides prompt/messages
  bool add_special = true;                // BOS/EOS per the vocabulary (raw prompts only)
  SamplingParams sampling;
  int32_t max_tokens = 128;               // < 0: until the context is full
  std::vector<std::string> stop;
  bool ignore_eos = false;
  std::string grammar;  // GBNF text; empty: unconstrained
  // < 0: no log-probabilities; N >= 0: each generated token's logprob and its
  // N most likely alternatives (TokenLogprob; at most kMaxTopLogprobs).
  int32_t logprobs = -1;
  static constexpr int32_t kMaxTopLogprobs = 20;
  bool use_response_cache = true;         // per-request opt-out ("cache": false)
  std::optional<std::chrono::steady_clock::time_point> deadline;
  TokenCallback on_token;                 // optional push stream
  // Optional completion hook (the service layer records timings, fills the
  // response cache and releases its model lease here). Called exactly once per
  // request that Submit accepted, whatever the finish reason, with the final
  // result, BEFORE the handle's future becomes ready (so a caller that has
  // seen the result also sees the hook's effects). Runs on the scheduler's
  // thread: must be quick and must not call back into that scheduler.
  std::function<void(const GenerateResult&)> on_complete;
};

class RequestState;  // shared between the handle and the scheduler (src/scheduler/request_state.h)

// The caller's side of a submitted request.
class RequestHandle {
 public:
  RequestHandle() = default;
  explicit RequestHandle(std::shared_ptr<RequestState> state);

  bool valid() const { return state_ != nullptr; }
  uint64_t id() const;
  // Blocks until the request completes; call at most once.
  GenerateResult Wait();
  // The result future (alternative to Wait()); obtainable once.
  std::future<GenerateResult> TakeFuture();
  // Pull stream: blocks for the next event; false when the request has ended
  // and every event was pulled. Independent of on_token (both see all events).
  bool Next(TokenEvent* event);
  // Asks the scheduler to stop the request at its next step; its KV blocks are
  // freed then. Safe to call any number of times, from any thread.
  void Cancel();

 private:
  std::shared_ptr<RequestState> state_;
};

}  // namespace jarvis
