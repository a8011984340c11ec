// The embedding queue of a model's scheduler: requests waiting to be
// embedded, and the packing of their inputs into Engine::Embed batches.
//
// Packing: inputs are taken FCFS (the inputs of one request in order, then
// the next request's) while the batch stays within a token budget; the first
// input is always taken, whatever its length, so an input longer than the
// budget still runs (alone). A request leaves the queue when its last input
// is packed; its result is complete when every batch holding one of its
// inputs has run. Many inputs of one request and inputs of many requests
// thus share batches, and a long request does not hold the queue: the
// requests behind it join the batches its inputs leave room in.
//
// Thread safety: none; the scheduler guards the queue with its inbox mutex
// and runs batches on its loop thread (scheduler_embed.cpp).
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <vector>

#include "jarvis/embed.h"
#include "scheduler/embed_state.h"

namespace jarvis {

// One queued request.
struct EmbedJob {
  using Clock = std::chrono::steady_clock;
  std::shared_ptr<EmbedState> state;
  std::vector<std::vector<int32_t>> inputs;  // each moved into a batch when packed
  int32_t dimensions = 0;                    // 0: the model's width
  int32_t prompt_tokens = 0;                 // all inputs
  std::optional<Clock::time_point> deadline;
  // Loop thread only.
  size_t next_input = 0;                     // first input not packed yet
  size_t computed = 0;                       // inputs whose vector is in `vectors`
  std::vector<std::vector<float>> vectors;   // one per input
  std::optional<Clock::time_point> first_batch;
  bool failed = false;                       // completed with an engine error (inputs may still be queued)

  bool expired(Clock::time_point now) const { return deadline.has_value() && now >= *deadline; }
  bool all_packed() const { return next_input == inputs.size(); }
  bool all_computed() const { return computed == inputs.size(); }
};

struct EmbedBatch {
  struct Slot {
    std::shared_ptr<EmbedJob> job;
    size_t input = 0;  // which of the job's inputs
  };
  std::vector<std::vector<int32_t>> inputs;  // Engine::Embed's argument
  std::vector<Slot> slots;                   // one per input, same order
  int32_t tokens = 0;
  bool empty() const { return inputs.empty(); }
};

// Moves cancelled, expired (or, with cancel_all, every) jobs and failed ones
// (completed already) from `queue` to `dropped`.
void DropDeadEmbedJobs(std::deque<std::shared_ptr<EmbedJob>>& queue, EmbedJob::Clock::time_point now,
                       bool cancel_all, std::vector<std::shared_ptr<EmbedJob>>* dropped);

// Packs inputs from the front of `queue` (see the file comment); max_tokens >= 1.
EmbedBatch PackEmbedBatch(std::deque<std::shared_ptr<EmbedJob>>& queue, int32_t max_tokens);

// The final result of a job (vectors shrunk to its dimensions when `error`
// is OK; none otherwise).
EmbedResult FinishEmbedJob(EmbedJob& job, const Status& error, EmbedJob::Clock::time_point now);

}  // namespace jarvis
