// Perplexity of a model over a token stream, evaluated the way llama.cpp's
// perplexity tool does so numbers are comparable: the text is cut into chunks
// of n_ctx tokens, each chunk starts a fresh sequence whose first token is
// replaced by BOS (when the vocabulary has one), and only the second half of
// each chunk is scored (those tokens see at least n_ctx/2 of context).
#pragma once

#include <cstdint>
#include <functional>
#include <span>

#include "engine/engine.h"
#include "jarvis/status.h"

namespace jarvis {

struct PerplexityResult {
  double perplexity = 0.0;  // exp(mean negative log-likelihood)
  double uncertainty = 0.0; // standard error of the estimate, propagated to PPL
  int32_t chunks = 0;
  int64_t scored_tokens = 0;
};

// `on_chunk(i, ppl_so_far)` is called after each chunk. InvalidArgument when
// the text has fewer than n_ctx tokens, or n_ctx exceeds the engine's context
// or is < 8.
Result<PerplexityResult> ComputePerplexity(Engine& engine, std::span<const int32_t> tokens, int32_t n_ctx,
                                           const std::function<void(int32_t, double)>& on_chunk = {});

}  // namespace jarvis
