// ModelDrafter: the draft source of speculative decoding with a draft model
// (SpeculationOptions mode "draft", engine/speculation.h): a small model with
// the target's vocabulary (engine/draft_vocabulary.h) guesses the next tokens
// greedily, and the target verifies them exactly as it verifies prompt-lookup
// drafts, so the output stays identical to decoding without drafts.
//
// The drafter owns the draft model's Engine and KV cache (same context as the
// target's) and keeps one draft sequence per target sequence (Open/Close).
// Each draft sequence remembers the tokens it has K/V for; Draft() first
// catches it up on the target's history (the longest common prefix is kept:
// after a verify step that is everything up to the first rejected draft, so
// usually one or two tokens are fed; rejected positions are overwritten),
// then decodes up to max_tokens tokens one at a time, each the argmax of the
// draft's logits. The last draft token is not fed (the next catch-up feeds it
// if the target accepts it).
//
// Batching: Draft() takes the jobs of every drafting sequence of a scheduler
// step and runs each of its forward steps as ONE batch over all of them: the
// catch-up tokens (chunked to max_batch_tokens), then one row per sequence
// per draft position. k draft tokens for n sequences cost about k small
// forward passes, not n * k.
//
// Catch-up per call: a new sequence's first draft catches the draft model up
// on its whole prompt. With a limit (the scheduler's: max_batch_tokens) a
// call feeds at most that many catch-up tokens in all; a sequence not caught
// up gets no draft this time and goes on from there at the next call, so a
// long prompt's draft prefill is spread over steps (as the target's chunked
// prefill is) instead of stalling one step of every running sequence.
//
// A sequence whose draft K/V does not fit (more open sequences than the pool
// was sized for, a context beyond the draft model's) gets a shorter or empty
// draft: drafts never fail a request.
//
// Thread safety: none; the thread that drives the target's engine drives this.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <unordered_map>
#include <vector>

#include "engine/engine.h"
#include "jarvis/status.h"

namespace jarvis {

class ModelDrafter {
 public:
  // Checks `draft` against `target` (CheckDraftModel) and creates the draft
  // engine with `options` (n_ctx: the target engine's; max_sequences: the
  // target sequences that may draft at once; shared_pool: the target
  // engine's pool). `draft` must outlive the drafter. max_batch_tokens
  // bounds one catch-up forward step; catch_up_per_call > 0 bounds the
  // catch-up tokens of one Draft() call (above; 0: no limit).
  static Result<std::unique_ptr<ModelDrafter>> Create(const Model& target, const Model& draft,
                                                      const EngineOptions& options, int32_t max_batch_tokens,
                                                      int32_t catch_up_per_call = 0);

  // A new, empty draft sequence; Close() frees its KV (-1 and unknown ids
  // are ignored).
  int32_t Open();
  void Close(int32_t seq);

  struct Job {
    int32_t seq = -1;                  // from Open()
    std::span<const int32_t> tokens;   // the target's history: prompt, generated, the pending token last
    int32_t max_tokens = 0;            // draft length wanted
    std::vector<int32_t> draft;        // out: up to max_tokens guesses of the tokens after `tokens`
  };
  // Fills every job's draft (above; empty for a sequence still catching up
  // under the per-call limit). An error only when a forward step
  // failed; the drafts are then empty and the draft sequences resync on the
  // next call.
  Status Draft(std::span<Job> jobs);

  Engine& engine() { return *engine_; }
  int32_t open_sequences() const { return static_cast<int32_t>(fed_.size()); }
  // Forward steps run so far (the batching is visible in it: k draft tokens
  // for any number of caught-up sequences take k steps).
  int64_t forward_steps() const { return forward_steps_; }

 private:
  ModelDrafter(std::unique_ptr<Engine> engine, int32_t max_batch_tokens, int32_t catch_up_per_call)
      : engine_(std::move(engine)), max_batch_tokens_(max_batch_tokens), catch_up_per_call_(catch_up_per_call) {}

  std::unique_ptr<Engine> engine_;
  int32_t max_batch_tokens_;
  int32_t catch_up_per_call_;  // 0: no limit
  // Per open draft sequence: the tokens at positions 0.. whose K/V it holds.
  std::unordered_map<int32_t, std::vector<int32_t>> fed_;
  Batch batch_;
  std::vector<float> logits_;
  int64_t forward_steps_ = 0;
};

// Opens a draft sequence for its lifetime (Generate's one sequence).
class ScopedDraftSequence {
 public:
  explicit ScopedDraftSequence(ModelDrafter& drafter) : drafter_(drafter), id_(drafter.Open()) {}
  ~ScopedDraftSequence() { drafter_.Close(id_); }
  ScopedDraftSequence(const ScopedDraftSequence&) = delete;
  ScopedDraftSequence& operator=(const ScopedDraftSequence&) = delete;
  int32_t id() const { return id_; }

 private:
  ModelDrafter& drafter_;
  int32_t id_;
};

}  // namespace jarvis
