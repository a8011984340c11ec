// The request/response types of jarvis's embedding API: one request embeds
// one or more inputs (texts or token-id arrays) with one model; the result
// holds one L2-normalized vector per input, in input order.
//
// How an input becomes tokens: a text is tokenized with the model's special
// tokens ([CLS] text [SEP] for a WordPiece model, BOS text for a decoder that
// adds BOS; whatever the vocabulary's add_bos / add_eos / add_sep say). Token
// arrays are used as given (checked against the vocabulary).
//
// Inputs longer than the model's context (n_ctx tokens): with truncate = true
// (the default) the input keeps its first tokens; when the tokenizer appended
// a final special token ([SEP], EOS) it stays last, so the input becomes its
// first n_ctx - 1 tokens + that token; otherwise its first n_ctx tokens.
// Token arrays are truncated to their first n_ctx tokens (nothing is known
// about their special tokens). With truncate = false such an input is
// InvalidArgument naming its length and the context's.
//
// dimensions (Matryoshka models such as nomic-embed-text v1.5): each vector
// keeps its first `dimensions` components and is L2-normalized again.
//
// Thread safety: EmbedRequest and EmbedResult are plain values. EmbedHandle is
// thread-safe: any thread may wait on or cancel it.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <future>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "jarvis/status.h"

namespace jarvis {

struct EmbedTimings {
  double queue_ms = 0.0;    // submit -> its first input entered a batch
  double compute_ms = 0.0;  // first batch start -> last batch end
  double total_ms = 0.0;    // submit -> completion
};

struct EmbedResult {
  // One per input, in input order; each of `dimensions` (or the model's
  // width) floats with L2 norm 1.
  std::vector<std::vector<float>> embeddings;
  int32_t prompt_tokens = 0;  // tokens embedded, all inputs together (after truncation)
  bool from_response_cache = false;
  EmbedTimings timings;
  // OK, or why the request failed: Cancelled (Cancel(), deadline, shutdown)
  // or the engine's error. Then `embeddings` is empty.
  Status error;
};

struct EmbedRequest {
  std::string model;  // model name; empty: the server's default model
  // The inputs: token arrays when `token_inputs` is not empty, else `texts`.
  // At least one input; every input non-empty.
  std::vector<std::string> texts;
  std::vector<std::vector<int32_t>> token_inputs;
  bool truncate = true;        // see the header comment
  int32_t dimensions = 0;      // 0: the model's width; more than it: InvalidArgument
  // > 0: a context of this many tokens for this request (Ollama's
  // options.num_ctx): inputs are cut (truncate) or refused at the smaller of
  // it and the model's context. 0: the model's context.
  int32_t context = 0;
  bool use_response_cache = true;  // embeddings are deterministic: repeated requests can be answered from it
  std::optional<std::chrono::steady_clock::time_point> deadline;
  // Optional: called exactly once per accepted request with the final result,
  // before the handle sees it, on the scheduler's thread (quick; must not
  // call back into the scheduler).
  std::function<void(const EmbedResult&)> on_complete;
};

class EmbedState;  // shared between the handle and the scheduler (src/scheduler/embed_state.h)

// The caller's side of a submitted embedding request.
class EmbedHandle {
 public:
  EmbedHandle() = default;
  explicit EmbedHandle(std::shared_ptr<EmbedState> state);

  bool valid() const { return state_ != nullptr; }
  uint64_t id() const;
  // Blocks until the request completes; call at most once (or TakeFuture).
  EmbedResult Wait();
  std::future<EmbedResult> TakeFuture();
  // Inputs not yet computed are dropped at the scheduler's next step; the
  // result is then Cancelled. Safe to call any number of times, from any thread.
  void Cancel();

 private:
  std::shared_ptr<EmbedState> state_;
};

}  // namespace jarvis
