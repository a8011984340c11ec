// Scheduler::Impl: the state behind the public Scheduler (scheduler.h).
//
// Two kinds of state:
//   - Inbox (shared, guarded by Inbox::mu): the FCFS waiting queue, the
//     stop flag, the wake-up flag and the stats snapshot. Submit(), Stats(),
//     Shutdown() and the cancel hooks of RequestStates touch only this. Hooks
//     hold a weak_ptr, so a handle may outlive the scheduler.
//   - Loop state (the loop thread only): the engine and its KV cache, the
//     running sequences, counters.
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
#include "scheduler/scheduler.h"
#include "scheduler/sequence.h"
#include "chat/chat_formatter.h"

namespace jarvis {

class Scheduler::Impl {
 public:
  using Clock = std::chrono::steady_clock;

  Impl(const Model& model, const SchedulerOptions& options, std::unique_ptr<Engine> engine,
       ChatFormatter chat);
  ~Impl();

  void Start();
  Result<RequestHandle> Submit(GenerateRequest request);
  SchedulerStats Stats() const;
  void Shutdown(std::chrono::milliseconds grace);
  const Model& model() const { return model_; }

 private:
  struct Inbox {
    mutable std::mutex mu;
    std::condition_variable cv;
    std::deque<PendingRequest> waiting;
    bool kick = false;      // a cancel happened: look at the requests
    bool stopping = false;  // Shutdown() was called
    Clock::time_point grace_deadline;
    SchedulerStats stats;   // snapshot after the last step
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
  void TakeWaiting(Clock::time_point now, bool cancel_all, std::vector<PendingRequest>* dropped,
                   std::vector<Admission>* admitted);
  void StartSequences(std::vector<Admission> admitted, Clock::time_point now);
  // Cancels running sequences that asked for it or passed their deadline.
  void ReapRunning(Clock::time_point now, bool cancel_all);
  // Builds and runs one batch; samples; returns the step's numbers.
  StepStats RunStep();
  // Frees the KV of every finished sequence, publishes the stats, then
  // completes the finished requests.
  void RetireFinished(const StepStats& step);
  void FailAll(const Status& status);
  int32_t OutstandingBlocks() const;
  static void CompleteUnadmitted(RequestState& state, int32_t n_prompt, FinishReason reason, const Status& error);
  void PublishStats(const StepStats& step);

  const Model& model_;
  const SchedulerOptions options_;
  const ChatFormatter chat_;
  const int32_t n_ctx_;  // the engine's context per sequence (immutable)
  std::shared_ptr<Inbox> inbox_;
  std::thread thread_;
  std::mutex join_mu_;

  // Loop thread only.
  std::unique_ptr<Engine> engine_;
  std::vector<std::unique_ptr<Sequence>> running_;  // admission order
  std::unique_ptr<GrammarProcessorFactory> grammars_;  // token trie and mask caches, built on first use
  std::vector<float> logits_;
  Batch batch_;
  int64_t steps_ = 0;
  int64_t prompt_tokens_computed_ = 0;
  int64_t prompt_tokens_cached_ = 0;
  int64_t generated_tokens_ = 0;
};

}  // namespace jarvis
