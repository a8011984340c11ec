// `jarvis bench --load`: how long a model takes to load and to reach its
// first token, for each way the packed weights can come to be:
//   cold, packing        the model file evicted from the page cache, no packed cache
//   warm, packing        the model file in the page cache, no packed cache
//   warm, no repack      JARVIS_REPACK=0: mapping only (decode is slower)
//   first load with cache           packing; the file is written in the background after
//   from packed cache (warm)        both files in the page cache
//   from packed cache (cold)        both files evicted from the page cache
// "Cold" evicts the files' own pages with posix_fadvise(POSIX_FADV_DONTNEED)
// (after syncing them): no root needed and nothing else's cache is dropped;
// the fraction of the model file still resident after it is reported.
// The packed cache lives in a private temporary directory removed at the end
// (the user's cache is not touched).
// First token = load + engine creation + one 8-token prompt's logits. CPU
// seconds (user + system, all threads) are reported beside the wall time:
// on a shared machine they say what the load cost when the wall time mostly
// says how long it waited for a core.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "jarvis/status.h"

namespace jarvis::cli {

struct LoadBenchRow {
  std::string scenario;
  std::vector<double> load_s;         // one per repetition
  std::vector<double> first_token_s;  // load included
  std::vector<double> first_token_cpu_s;  // CPU time of the process until the first token
  std::string packed;                 // PackedWeights::Describe() of the last repetition
  double resident_before = -1.0;      // model file fraction in the page cache before loading (-1: not measured)
};

// Runs every scenario `reps` times with `threads` engine threads.
Result<std::vector<LoadBenchRow>> RunLoadBench(const std::string& model_path, int32_t threads, int reps);

// Median of `v` (0 when empty).
double Median(std::vector<double> v);

}  // namespace jarvis::cli
