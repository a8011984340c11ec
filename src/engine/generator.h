// Generate: the single-sequence generation loop (prefill in chunks, then
// sample one token per step), used by `jarvis run`, `jarvis perplexity` and
// tests. The scheduler runs the same steps for many sequences at once.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "engine/engine.h"
#include "engine/model_drafter.h"
#include "engine/sampling.h"
#include "engine/speculation.h"
#include "jarvis/request.h"
#include "jarvis/status.h"

namespace jarvis {

struct GenerateOptions {
  // Tokens to generate at most. Default 128. < 0: until the context is full.
  int32_t max_tokens = 128;
  SamplingParams sampling;
  // Generation stops before any of these strings; they are not emitted.
  std::vector<std::string> stop;
  // Keep going past end-of-generation tokens (EOS/EOT). Default false.
  bool ignore_eos = false;
  // Prompt tokens per forward step while prefilling. Default 256.
  int32_t prefill_chunk = 256;
  // GBNF the output must match; empty: unconstrained (GenerateRequest::grammar).
  std::string grammar;
  // GenerateRequest::logprobs: < 0 off, N >= 0 with N alternatives.
  int32_t logprobs = -1;
  // Speculative decoding (engine/speculation.h): same output, fewer steps
  // when drafts are accepted. Default off.
  SpeculationOptions speculation;
  // The draft model for speculation mode "draft" (required then; unused
  // otherwise). Generate opens one draft sequence on it and closes it before
  // returning.
  ModelDrafter* drafter = nullptr;
};

// The single-sequence loop's result (the scheduler's public result type is
// jarvis::GenerateResult in jarvis/request.h).
struct GenerationResult {
  std::vector<int32_t> tokens;  // generated ids (the stop/EOS token excluded)
  std::string text;             // emitted text
  FinishReason finish = FinishReason::kLength;
  int32_t prompt_tokens = 0;
  double prompt_seconds = 0.0;    // prefill wall time
  double generate_seconds = 0.0;  // decode wall time
  std::vector<TokenLogprob> logprobs;  // per token, when options.logprobs >= 0
  // Speculative decoding: forward steps after the prompt, draft tokens fed
  // and accepted (decode_steps == tokens.size() without speculation).
  int32_t decode_steps = 0;
  int32_t draft_tokens = 0;
  int32_t accepted_draft_tokens = 0;
};

// Called with each piece of text as it becomes final (complete UTF-8, not part
// of a possible stop string). Return false to cancel.
using TextCallback = std::function<bool(std::string_view piece)>;

// Runs `prompt` then generates, one TokenPipeline step per token (the same
// per-token logic as the scheduler). Uses a sequence of `engine`'s KV cache and
// frees it before returning. InvalidArgument when the prompt is empty or does
// not fit in the context (n_ctx - 1 tokens at most), for bad sampling params
// or a bad grammar, or speculation mode "draft" without a drafter; Internal
// if on_text throws or the grammar fails mid-way.
Result<GenerationResult> Generate(Engine& engine, std::span<const int32_t> prompt,
                                const GenerateOptions& options, const TextCallback& on_text = {});

}  // namespace jarvis
