#include "engine/model_drafter.h"

#include <algorithm>
#include <limits>
#include <utility>

#include "engine/draft_vocabulary.h"

namespace jarvis {
namespace {

// Greedy: the draft's most likely token (the first on a tie).
int32_t Argmax(std::span<const float> row) {
  return static_cast<int32_t>(std::max_element(row.begin(), row.end()) - row.begin());
}

}  // namespace

Result<std::unique_ptr<ModelDrafter>> ModelDrafter::Create(const Model& target, const Model& draft,
                                                           const EngineOptions& options, int32_t max_batch_tokens,
                                                           int32_t catch_up_per_call) {
  JARVIS_RETURN_IF_ERROR(CheckDraftModel(target, draft));
  if (max_batch_tokens < 1) return Status::InvalidArgument("the draft model's max_batch_tokens must be >= 1");
  if (catch_up_per_call < 0) return Status::InvalidArgument("the draft model's catch_up_per_call must be >= 0");
  JARVIS_ASSIGN_OR_RETURN(std::unique_ptr<Engine> engine, Engine::Create(draft, options));
  return std::unique_ptr<ModelDrafter>(new ModelDrafter(std::move(engine), max_batch_tokens, catch_up_per_call));
}

int32_t ModelDrafter::Open() {
  const int32_t seq = engine_->kv().CreateSequence();
  fed_[seq].clear();
  return seq;
}

void ModelDrafter::Close(int32_t seq) {
  if (fed_.erase(seq) > 0) engine_->kv().FreeSequence(seq);
}

Status ModelDrafter::Draft(std::span<Job> jobs) {
  KvCache& kv = engine_->kv();
  const int32_t n_ctx = engine_->n_ctx();
  const auto n_vocab = static_cast<size_t>(engine_->model().hparams().n_vocab);
  // One per job that drafts: where its next forward row goes.
  struct Work {
    Job* job;
    std::vector<int32_t>* fed;
    int32_t n;     // tokens.size(): positions [0, n) are the history
    int32_t next;  // next position to feed (< n: catching up; n..: draft tokens)
    int32_t fed_this_step = 0;
    bool wants_row = false;
    bool done = false;
  };
  std::vector<Work> work;
  for (Job& job : jobs) {
    job.draft.clear();
    auto it = fed_.find(job.seq);
    const auto n = static_cast<int32_t>(job.tokens.size());
    // Draft token i (i >= 1) is fed at position n + i - 1, so the last of k
    // sits at n + k - 2, which must stay inside the draft's context.
    job.max_tokens = std::min(job.max_tokens, n_ctx - n + 1);
    if (it == fed_.end() || n == 0 || n > n_ctx || job.max_tokens <= 0) continue;
    std::vector<int32_t>& fed = it->second;
    const auto common = static_cast<int32_t>(
        std::mismatch(fed.begin(), fed.end(), job.tokens.begin(), job.tokens.end()).first - fed.begin());
    // The last history token is fed again when it was fed before: its logits
    // give the first draft token.
    const int32_t keep = std::min(common, n - 1);
    fed.resize(static_cast<size_t>(keep));
    work.push_back({&job, &fed, n, keep});
  }
  int32_t catch_up_left = catch_up_per_call_ > 0 ? catch_up_per_call_ : std::numeric_limits<int32_t>::max();
  for (;;) {
    batch_.Clear();
    std::vector<Work*> in_batch;
    int32_t budget = max_batch_tokens_;
    for (Work& w : work) {
      if (w.done || budget <= 0) continue;
      const bool catching_up = w.next < w.n;
      if (catching_up && catch_up_left <= 0) {  // the rest of its catch-up waits for the next call
        w.done = true;
        continue;
      }
      const int32_t m = catching_up ? std::min({w.n - w.next, budget, catch_up_left}) : 1;
      if (!kv.Reserve(w.job->seq, w.next + m).ok()) {  // no room: the draft so far
        w.done = true;
        continue;
      }
      const auto index = static_cast<int32_t>(in_batch.size());
      w.wants_row = !catching_up || w.next + m == w.n;
      for (int32_t i = 0; i < m; ++i) {
        const int32_t token =
            catching_up ? w.job->tokens[static_cast<size_t>(w.next + i)] : w.job->draft.back();
        batch_.Add(token, w.next + i, index, w.wants_row && i + 1 == m);
      }
      w.fed_this_step = m;
      budget -= m;
      if (catching_up) catch_up_left -= m;
      in_batch.push_back(&w);
    }
    if (in_batch.empty()) return Status::Ok();
    // Tables after every Reserve of the step, as the scheduler takes them.
    for (const Work* w : in_batch) batch_.block_tables.push_back(kv.block_table(w->job->seq));
    ++forward_steps_;
    if (Status s = engine_->Decode(batch_, &logits_); !s.ok()) {
      for (Job& job : jobs) job.draft.clear();
      return s;
    }
    size_t row = 0;
    for (Work* w : in_batch) {
      const int32_t first = w->next;
      for (int32_t i = 0; i < w->fed_this_step; ++i) {
        const int32_t pos = first + i;
        w->fed->push_back(pos < w->n ? w->job->tokens[static_cast<size_t>(pos)] : w->job->draft.back());
      }
      w->next += w->fed_this_step;
      if (!w->wants_row) continue;
      w->job->draft.push_back(Argmax(std::span<const float>(logits_.data() + row * n_vocab, n_vocab)));
      ++row;
      if (static_cast<int32_t>(w->job->draft.size()) >= w->job->max_tokens) w->done = true;
    }
  }
}

}  // namespace jarvis
