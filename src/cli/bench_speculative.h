// `jarvis bench --speculative`: what prompt-lookup speculative decoding
// (engine/speculation.h) costs and gains on one model, in three tables:
//
//   verify cost  one forward step over 1 + k tokens of one sequence with
//                logits for every row, against a one-token step, at each
//                depth (-d). k + 1 over this ratio bounds the speedup of
//                drafts that are always accepted.
//   lookup       Generate of N tokens (-n) without and with prompt lookup at
//                draft lengths 2, 4, 8, on two continuations: greedy (random-
//                weight models of small width fall into loops, text that
//                repeats itself), copying (greedy with a repetition penalty
//                of 0.2, which favours tokens already in the context: a
//                random model made to copy its prompt and itself, as real
//                models do when quoting or editing) and sampled at
//                temperature 1 (text that rarely repeats: few drafts, the
//                overhead case).
//                tokens/s, speedup over off, drafts accepted / fed, steps.
//                Outputs are checked equal to the plain run's.
//
// Token ids of the prompt are fixed pseudo-random values.
#pragma once

#include <cstdint>
#include <vector>

#include "engine/engine.h"
#include "jarvis/status.h"

namespace jarvis::cli {

struct VerifyCost {
  int32_t depth = 0;
  int32_t rows = 1;          // 1 + draft tokens
  double step_ms = 0.0;      // median
  double ratio = 1.0;        // step_ms / the one-row step_ms at this depth
};

// Median step time of 1 + k rows for each k in `drafts` (and k = 0) at each
// depth, over `reps` repetitions after a warm-up.
Result<std::vector<VerifyCost>> MeasureVerifyCost(Engine& engine, const std::vector<int32_t>& depths,
                                                  const std::vector<int32_t>& drafts, int reps);

struct LookupRun {
  const char* continuation = "";  // "greedy", "copying" or "sampled"
  int32_t draft_max = 0;          // 0: speculation off
  double tokens_per_s = 0.0;      // median over reps
  double speedup = 1.0;           // over draft_max 0, same continuation
  int32_t tokens = 0;
  int32_t steps = 0;
  int32_t drafted = 0;
  int32_t accepted = 0;
  bool same_output = true;        // tokens equal the draft_max 0 run's
};

// Generate runs of `n_tokens` after a prompt of `n_prompt` tokens, for each
// draft length (0 first) and each continuation; median of `reps`.
Result<std::vector<LookupRun>> MeasureLookup(Engine& engine, int32_t n_prompt, int32_t n_tokens,
                                             const std::vector<int32_t>& drafts, int reps);

}  // namespace jarvis::cli
