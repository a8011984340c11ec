// `jarvis bench --json-schema S.json`: decode speed with and without a JSON
// schema constraint, through the same TokenPipeline serving uses (sampling
// with the default parameters, the grammar's masks, detokenization), for one
// stream and for B streams decoding in one batch. Free and constrained runs
// alternate (free, constrained, free, ...) so a noisy machine affects both
// alike; the ratio of the two is the result. Each run is also timed in
// process CPU time (tokens per CPU-second), which a machine shared with other
// work disturbs far less than wall time. A constrained sequence whose
// JSON value is complete starts a new one in the same KV sequence, so every
// step decodes every stream.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "engine/engine.h"
#include "jarvis/status.h"

namespace jarvis::cli {

struct ConstrainedBenchResult {
  int32_t batch = 1;
  int32_t n = 0;                         // tokens per stream per run
  std::vector<double> free_tps;          // aggregate tokens/s (wall), one per repetition
  std::vector<double> constrained_tps;
  std::vector<double> free_cpu_tps;      // aggregate tokens per process CPU-second
  std::vector<double> constrained_cpu_tps;
};

// REQUIRES: engine's KV cache holds `batch` sequences of 32 + n positions.
Result<ConstrainedBenchResult> RunConstrainedBench(Engine& engine, const std::string& gbnf, int32_t batch,
                                                   int32_t n, int reps);

}  // namespace jarvis::cli
