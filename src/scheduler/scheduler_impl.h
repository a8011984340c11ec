// Scheduler::Impl: the state behind the public Scheduler (scheduler.h).
//
// Two kinds of state:
//   - Inbox (shared, guarded by Inbox::mu): the FCFS waiting queue, the
//     stop flag, the wake-up flag and the stats snapshot. Submit(), Stats(),
//     Shutdown() and the cancel hooks of RequestStates touch only this. Hooks
//     hold a weak_ptr, so a handle may outlive the scheduler.
//   - Loop state (the loop thread only): the engine and its KV cache, the
//     running sequences, the preempted ones (their KV taken back; they wait
//     ahead of every queued request), counters.
// The loop sleeps on Inbox::cv while there is nothing to run; Submit, Cancel
// and Shutdown wake it. No callback is ever called with Inbox::mu held.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "engine/engine.h"
#include "engine/grammar_processor.h"
#include "engine/model_drafter.h"
#include "scheduler/embed_queue.h"
#include "scheduler/scheduler.h"
#include "scheduler/sequence.h"
#include "chat/chat_formatter.h"

namespace jarvis {

class Scheduler::Impl {
 public:
  using Clock = std::chrono::steady_clock;

  // `drafter`: the draft model's (speculation mode "draft"), else null.
  Impl(const Model& model, const SchedulerOptions& options, std::unique_ptr<Engine> engine,
       std::unique_ptr<ModelDrafter> drafter, ChatFormatter chat);
  ~Impl();

  void Start();
  Result<RequestHandle> Submit(GenerateRequest request, ResultFilter filter);
  Result<EmbedHandle> SubmitEmbed(EmbedRequest request, EmbedFilter filter);  // scheduler_embed.cpp
  int32_t embedding_size() const { return embedding_size_; }
  SchedulerStats Stats() const;
  void Shutdown(std::chrono::milliseconds grace);
  const Model& model() const { return model_; }

 private:
  struct Inbox {
    mutable std::mutex mu;
    std::condition_variable cv;
    std::deque<PendingRequest> waiting;
    std::deque<std::shared_ptr<EmbedJob>> embeds;  // embedding requests with inputs still to pack
    bool kick = false;      // a cancel happened: look at the requests
    bool stopping = false;  // Shutdown() was called
    Clock::time_point grace_deadline;
    SchedulerStats stats;   // snapshot after the last step
    int32_t preempted = 0;  // preempted_.size() after the last step (counted as waiting)
  };
  // One sequence's part of a step.
  struct Slot {
    Sequence* seq;
    int32_t n;    // tokens fed this step (a decode: the pending token + the draft)
    bool logits;  // samples after this step
    bool prefill;
    std::vector<int32_t> draft;  // speculative decoding: logits for every row
  };
  // Admitted this step, before its Sequence exists.
  struct Admission {
    PendingRequest request;
    int32_t kv_seq = -1;
    int32_t cached_tokens = 0;
  };

  void Loop();
  // One iteration: false when the loop should end.
  bool Iterate();
  // Under the inbox lock: drops cancelled / expired waiting requests (into
  // `dropped`) and pops what fits (KV blocks, max_sequences) into `admitted`.
  // Preempted sequences come first: they are resumed (straight into running_)
  // while they fit, and no new request is admitted while one still waits.
  void TakeWaiting(Clock::time_point now, bool cancel_all, std::vector<PendingRequest>* dropped,
                   std::vector<Admission>* admitted);
  // Part of TakeWaiting: resumes preempted sequences; false when one is left
  // waiting. Updates the blocks promised and the running count.
  bool ResumePreempted(Clock::time_point now, bool cancel_all, int32_t* promised, int32_t* n_running);
  void StartSequences(std::vector<Admission> admitted, Clock::time_point now);
  // Cancels running sequences that asked for it or passed their deadline.
  void ReapRunning(Clock::time_point now, bool cancel_all);
  // Builds and runs one batch; samples; returns the step's numbers.
  StepStats RunStep();
  // Makes seq's KV cover [0, n_positions), preempting the newest running
  // sequences while the pool is empty. False when seq itself was preempted
  // or (alone, still not fitting) failed.
  bool ReserveOrPreempt(Sequence* seq, int32_t n_positions);
  // Takes seq's KV back and moves it from running_ to the front of preempted_.
  void Preempt(Sequence* seq);
  // Frees seq's KV and its draft sequence (both may be gone already).
  void FreeKv(Sequence* seq);
  // Speculation: adds drafts to the decode slots (oldest sequence first)
  // while the step's decode rows stay within max_step_rows and the token
  // budget; returns the tokens they take from `budget`.
  int32_t AddDrafts(std::vector<Slot>& slots, int32_t budget);
  // Frees the KV of every finished sequence, publishes the stats, then
  // completes the finished requests.
  void RetireFinished(const StepStats& step);
  void FailAll(const Status& status);
  int32_t OutstandingBlocks() const;
  static void CompleteUnadmitted(RequestState& state, int32_t n_prompt, FinishReason reason, const Status& error);
  void PublishStats(const StepStats& step);
  // Runs one packed embedding batch and completes the requests it finishes;
  // fills step's embed_* numbers (scheduler_embed.cpp).
  void RunEmbedBatch(EmbedBatch batch, StepStats* step);
  // Counts and completes jobs that get no more vectors (OK or the error).
  void CompleteEmbedJobs(std::vector<std::pair<EmbedJob*, Status>> finished);

  const Model& model_;
  const SchedulerOptions options_;
  const ChatFormatter chat_;
  const int32_t n_ctx_;  // the engine's context per sequence (immutable)
  const int64_t kv_positions_;  // the KV pool's size in positions (immutable)
  const int32_t embedding_size_;  // Engine::embedding_size (immutable)
  std::shared_ptr<Inbox> inbox_;
  std::thread thread_;
  std::mutex join_mu_;

  // Loop thread only.
  std::unique_ptr<Engine> engine_;
  std::unique_ptr<ModelDrafter> drafter_;  // speculation mode "draft"; else null
  std::vector<std::unique_ptr<Sequence>> running_;  // admission order (a resumed one is the newest)
  std::deque<std::unique_ptr<Sequence>> preempted_;  // waiting for KV, resumed front first
  std::unique_ptr<GrammarProcessorFactory> grammars_;  // token trie and mask caches, built on first use
  std::vector<float> logits_;
  Batch batch_;
  int64_t steps_ = 0;
  int64_t prompt_tokens_computed_ = 0;
  int64_t prompt_tokens_cached_ = 0;
  int64_t generated_tokens_ = 0;
  int64_t preemptions_ = 0;
  int64_t recomputed_tokens_ = 0;
  int64_t draft_tokens_ = 0;           // speculative decoding
  int64_t accepted_draft_tokens_ = 0;
  std::vector<float> embed_out_;
  int64_t embed_requests_ = 0;
  int64_t embed_inputs_ = 0;
  int64_t embed_tokens_ = 0;
  int64_t embed_batches_ = 0;
};

}  // namespace jarvis
