// `jarvis bench --speculative --draft-model F`: what speculative decoding
// with a draft model (engine/model_drafter.h) gains on one target, in two
// tables (beside bench_speculative.h's verify cost):
//
//   one sequence  Generate of N tokens (-n) without drafts and with each
//                 --draft length, greedy and sampled at temperature 1, for
//                 two drafters: the file F (its measured acceptance) and the
//                 target itself (a check: it accepts nearly every greedy
//                 draft and must give the same output; each draft costs a
//                 full step of the target, so it saves little or nothing).
//                 tokens/s, speedup over off, steps, accepted / drafted.
//   concurrent    B greedy requests at once through the Scheduler (each -b),
//                 draft length RuntimeOptions::draft_max: aggregate tokens/s
//                 without drafts, with F and with the target as draft. The
//                 draft model's steps run batched across the B sequences.
//
// Every output is checked equal to the run without drafts. Prompts are fixed
// pseudo-random token ids (bench_runner.h BenchTokenAt). Repetitions go
// round the configurations (off, F, target, off, ...), so a shared
// machine's changing load falls on all of them alike.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "engine/engine.h"
#include "jarvis/status.h"
#include "model/model.h"

namespace jarvis::cli {

struct DraftModelRun {
  std::string drafter;            // "off", the draft file's name, or "target"
  const char* continuation = "";  // "greedy" or "sampled"
  int32_t draft_max = 0;          // 0: no drafts
  double tokens_per_s = 0.0;      // median over reps
  double speedup = 1.0;           // over no drafts, same continuation
  int32_t tokens = 0;
  int32_t steps = 0;              // target forward steps after the prompt
  int32_t drafted = 0;
  int32_t accepted = 0;
  bool same_output = true;        // tokens equal the no-draft run's
};

// Where the models run: EngineOptions::gpu_layers of each, as planned when
// it was loaded (gpu/gpu_layer_plan.h).
struct DraftBenchPlacement {
  int32_t target_gpu_layers = 0;
  int32_t draft_gpu_layers = 0;
};

// One sequence (above), on `engine` (the target's). `draft_name` labels the
// file's rows.
Result<std::vector<DraftModelRun>> MeasureDraftModel(Engine& engine, const Model& draft,
                                                     const std::string& draft_name, DraftBenchPlacement placement,
                                                     int32_t n_prompt, int32_t n_tokens,
                                                     const std::vector<int32_t>& drafts, int reps);

struct ConcurrentDraftRun {
  std::string drafter;        // "off", the draft file's name, or "target"
  int32_t sequences = 1;
  double tokens_per_s = 0.0;  // all sequences' tokens over the wall time, median over reps
  double speedup = 1.0;       // over "off" at the same sequences
  int64_t steps = 0;          // scheduler steps of the last rep
  int64_t drafted = 0;
  int64_t accepted = 0;
  bool same_output = true;
};

// Concurrent requests (above) for each count in `sequences`.
Result<std::vector<ConcurrentDraftRun>> MeasureConcurrentDraftModel(const Model& target,
                                                                    std::shared_ptr<const Model> draft,
                                                                    const std::string& draft_name,
                                                                    DraftBenchPlacement placement,
                                                                    const std::vector<int32_t>& sequences,
                                                                    int32_t n_prompt, int32_t n_tokens,
                                                                    int32_t threads, int reps);

}  // namespace jarvis::cli
