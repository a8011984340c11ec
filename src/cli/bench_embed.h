// `jarvis bench --embed`: embedding throughput through Engine::Embed, the
// call the scheduler's embedding batches make. Each test embeds B inputs of
// T tokens (fixed pseudo-random ids) in one call: inputs/s and tokens/s.
//
// GOP/s counts 2 operations per multiply-add of the work an embedding pass
// does per token: every layer matrix once (the output head is never run when
// embedding), plus attention's scores and weighted sum over the input,
// 2 * n_layer * n_embd * (T for an encoder's bidirectional attention, T/2 on
// average for a decoder's causal one). Norms, activations and pooling are
// not counted (a few percent at these widths).
#pragma once

#include <cstdint>
#include <vector>

#include "engine/engine.h"
#include "jarvis/status.h"
#include "model/model.h"

namespace jarvis::cli {

struct EmbedBenchResult {
  int32_t batch = 0;   // inputs per call
  int32_t tokens = 0;  // tokens per input
  int32_t threads = 0;
  std::vector<double> inputs_per_s;  // one per repetition
  double best_inputs_per_s() const;
  double mean_inputs_per_s() const;
  double best_tokens_per_s() const { return best_inputs_per_s() * tokens; }
};

// Multiply-adds per token of an embedding pass over inputs of `tokens` tokens.
double EmbedMacsPerToken(const Model& model, int32_t tokens);

// One untimed warm-up call, then `reps` timed calls of `batch` inputs of
// `tokens` tokens each. REQUIRES: tokens <= engine.n_ctx().
Result<EmbedBenchResult> RunEmbedBench(Engine& engine, int32_t batch, int32_t tokens, int reps);

}  // namespace jarvis::cli
