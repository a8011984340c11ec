#include "scheduler/embed_queue.h"

#include <utility>

#include "scheduler/embed_prep.h"

namespace jarvis {

void DropDeadEmbedJobs(std::deque<std::shared_ptr<EmbedJob>>& queue, EmbedJob::Clock::time_point now,
                       bool cancel_all, std::vector<std::shared_ptr<EmbedJob>>* dropped) {
  for (auto it = queue.begin(); it != queue.end();) {
    EmbedJob& job = **it;
    if (cancel_all || job.state->cancelled() || job.expired(now) || job.failed) {
      dropped->push_back(std::move(*it));
      it = queue.erase(it);
    } else {
      ++it;
    }
  }
}

EmbedBatch PackEmbedBatch(std::deque<std::shared_ptr<EmbedJob>>& queue, int32_t max_tokens) {
  EmbedBatch batch;
  while (!queue.empty()) {
    const std::shared_ptr<EmbedJob> job = queue.front();
    while (!job->all_packed()) {
      std::vector<int32_t>& input = job->inputs[job->next_input];
      const int32_t n = static_cast<int32_t>(input.size());
      if (!batch.empty() && batch.tokens + n > max_tokens) return batch;  // FCFS: it opens the next batch
      batch.tokens += n;
      batch.inputs.push_back(std::move(input));
      batch.slots.push_back({job, job->next_input});
      ++job->next_input;
    }
    queue.pop_front();
  }
  return batch;
}

EmbedResult FinishEmbedJob(EmbedJob& job, const Status& error, EmbedJob::Clock::time_point now) {
  EmbedResult r;
  r.error = error;
  r.prompt_tokens = job.prompt_tokens;
  const auto ms = [](auto d) { return std::chrono::duration<double, std::milli>(d).count(); };
  const auto submitted = job.state->submit_time();
  r.timings.total_ms = ms(now - submitted);
  r.timings.queue_ms = ms((job.first_batch ? *job.first_batch : now) - submitted);
  r.timings.compute_ms = job.first_batch ? ms(now - *job.first_batch) : 0.0;
  if (!error.ok()) return r;
  r.embeddings.reserve(job.vectors.size());
  for (const std::vector<float>& v : job.vectors) r.embeddings.push_back(ShrinkEmbedding(v, job.dimensions));
  return r;
}

}  // namespace jarvis
