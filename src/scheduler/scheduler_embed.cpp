// The scheduler's embedding half: SubmitEmbed (caller's thread) and the
// embedding batch the loop runs between generation steps (scheduler.h).
#include <exception>
#include <string>
#include <utility>

#include "scheduler/embed_prep.h"
#include "scheduler/request_state.h"
#include "scheduler/scheduler_impl.h"

namespace jarvis {

Result<EmbedHandle> Scheduler::Impl::SubmitEmbed(EmbedRequest request, EmbedFilter filter) {
  {
    std::lock_guard<std::mutex> lock(inbox_->mu);
    if (inbox_->stopping) return Status::Cancelled("the scheduler is shutting down");
  }
  JARVIS_ASSIGN_OR_RETURN(std::vector<std::vector<int32_t>> inputs,
                          PrepareEmbedInputs(model_.tokenizer(), model_.hparams().n_vocab, n_ctx_, embedding_size_,
                                             request));
  auto job = std::make_shared<EmbedJob>();
  job->state = std::make_shared<EmbedState>(NextRequestId());
  job->state->SetCompletionHook(std::move(request.on_complete));
  job->state->SetResultFilter(std::move(filter));
  std::weak_ptr<Inbox> weak = inbox_;
  job->state->SetCancelHook([weak] {
    if (auto inbox = weak.lock()) {
      {
        std::lock_guard<std::mutex> lock(inbox->mu);
        inbox->kick = true;
      }
      inbox->cv.notify_one();
    }
  });
  for (const auto& input : inputs) job->prompt_tokens += static_cast<int32_t>(input.size());
  job->vectors.resize(inputs.size());
  job->inputs = std::move(inputs);
  job->dimensions = request.dimensions;
  job->deadline = request.deadline;
  EmbedHandle handle(job->state);
  {
    std::lock_guard<std::mutex> lock(inbox_->mu);
    if (inbox_->stopping) return Status::Cancelled("the scheduler is shutting down");
    if (static_cast<int64_t>(inbox_->embeds.size()) >= options_.max_queue) {
      return Status::ResourceExhausted("the embedding queue is full (" + std::to_string(inbox_->embeds.size()) +
                                       " waiting); retry later");
    }
    inbox_->embeds.push_back(std::move(job));
  }
  inbox_->cv.notify_one();
  return handle;
}

void Scheduler::Impl::CompleteEmbedJobs(std::vector<std::pair<EmbedJob*, Status>> finished) {
  if (finished.empty()) return;
  embed_requests_ += static_cast<int64_t>(finished.size());
  {
    // Stats first, so a caller woken by its completion sees them counted.
    std::lock_guard<std::mutex> lock(inbox_->mu);
    SchedulerStats& s = inbox_->stats;
    s.embed_requests = embed_requests_;
    s.embed_inputs = embed_inputs_;
    s.embed_tokens = embed_tokens_;
    s.embed_batches = embed_batches_;
  }
  const auto now = Clock::now();
  for (auto& [job, error] : finished) job->state->Complete(FinishEmbedJob(*job, error, now));
}

void Scheduler::Impl::RunEmbedBatch(EmbedBatch batch, StepStats* step) {
  const auto start = Clock::now();
  for (const EmbedBatch::Slot& slot : batch.slots) {
    if (!slot.job->first_batch) slot.job->first_batch = start;
  }
  Status status;
  try {
    status = engine_->Embed(batch.inputs, &embed_out_);
  } catch (const std::exception& e) {
    status = Status::Internal(std::string("embedding batch failed: ") + e.what());
  }
  ++embed_batches_;
  step->embed_inputs = static_cast<int32_t>(batch.inputs.size());
  step->embed_tokens = batch.tokens;
  step->embed_ms = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
  const size_t width = static_cast<size_t>(embedding_size_);
  if (status.ok() && embed_out_.size() != batch.inputs.size() * width) {
    status = Status::Internal("the engine returned " + std::to_string(embed_out_.size()) + " floats for " +
                              std::to_string(batch.inputs.size()) + " inputs");
  }
  if (status.ok()) {
    embed_inputs_ += static_cast<int64_t>(batch.inputs.size());
    embed_tokens_ += batch.tokens;
  }
  std::vector<std::pair<EmbedJob*, Status>> finished;
  for (size_t i = 0; i < batch.slots.size(); ++i) {
    EmbedJob& job = *batch.slots[i].job;
    if (job.failed) continue;  // an earlier slot of this batch failed it already
    if (!status.ok()) {
      // Its inputs still queued are dropped at the next iteration.
      job.failed = true;
      finished.emplace_back(&job, status);
      continue;
    }
    const float* row = embed_out_.data() + i * width;
    job.vectors[batch.slots[i].input].assign(row, row + width);
    ++job.computed;
    if (!job.all_computed()) continue;
    // Cancelled while its last batch ran: the work is done, but the caller
    // asked not to have it.
    finished.emplace_back(&job, job.state->cancelled() ? Status::Cancelled("the embedding request was cancelled")
                                                       : Status::Ok());
  }
  CompleteEmbedJobs(std::move(finished));  // the batch's shared_ptrs keep the jobs alive
}

}  // namespace jarvis
