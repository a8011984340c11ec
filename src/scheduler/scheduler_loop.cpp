// The scheduler's loop thread: reap, admit, build one batch, decode, sample.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <exception>
#include <string>
#include <utility>

#include "scheduler/scheduler_impl.h"

namespace jarvis {
namespace {

double MsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
}

int32_t BlocksFor(int32_t positions, int32_t block_size) { return (positions + block_size - 1) / block_size; }

// A sequence alone with the whole pool that still cannot grow has reached this
// server's context limit, as one reaching n_ctx has: it ends with finish
// "length" and keeps what it generated (an error would throw that work away,
// and a 429 would invite a retry that can never succeed). Only a pool smaller
// than one context (kv_size) makes this possible, so it is logged once.
void EndAtPoolLimit(Sequence& seq, const std::string& why) {
  static std::atomic<bool> warned{false};
  if (!warned.exchange(true)) spdlog::warn("{}; the sequence ends with finish 'length' (raise --kv-size)", why);
  seq.set_finish(FinishReason::kLength);
}

}  // namespace

void Scheduler::Impl::Loop() {
  for (;;) {
    bool keep_going = true;
    try {
      keep_going = Iterate();
    } catch (const std::exception& e) {
      FailAll(Status::Internal(std::string("scheduler step failed: ") + e.what()));
    } catch (...) {
      FailAll(Status::Internal("scheduler step failed"));
    }
    if (!keep_going) break;
  }
}

bool Scheduler::Impl::Iterate() {
  std::vector<PendingRequest> dropped;
  std::vector<Admission> admitted;
  std::vector<std::shared_ptr<EmbedJob>> dropped_embeds;
  EmbedBatch embed_batch;
  bool cancel_all = false;
  {
    std::unique_lock<std::mutex> lock(inbox_->mu);
    inbox_->cv.wait(lock, [&] {
      return inbox_->kick || inbox_->stopping || !inbox_->waiting.empty() || !inbox_->embeds.empty() ||
             !running_.empty() || !preempted_.empty();
    });
    inbox_->kick = false;
    const auto now = Clock::now();
    cancel_all = inbox_->stopping && now >= inbox_->grace_deadline;
    if (inbox_->stopping && inbox_->waiting.empty() && inbox_->embeds.empty() && running_.empty() &&
        preempted_.empty()) {
      return false;
    }
    TakeWaiting(now, cancel_all, &dropped, &admitted);
    // At most one embedding batch per iteration, before the generation step:
    // the two kinds take turns.
    DropDeadEmbedJobs(inbox_->embeds, now, cancel_all, &dropped_embeds);
    embed_batch = PackEmbedBatch(inbox_->embeds, options_.max_batch_tokens);
  }
  const auto now = Clock::now();
  for (PendingRequest& p : dropped) {
    CompleteUnadmitted(*p.state, static_cast<int32_t>(p.prompt.size()), FinishReason::kCancelled, Status::Ok());
  }
  std::vector<std::pair<EmbedJob*, Status>> cancelled_embeds;
  for (auto& job : dropped_embeds) {
    if (!job->failed) cancelled_embeds.emplace_back(job.get(), Status::Cancelled("the embedding request was cancelled"));
  }
  CompleteEmbedJobs(std::move(cancelled_embeds));
  ReapRunning(now, cancel_all);
  StartSequences(std::move(admitted), now);
  StepStats step;
  if (!embed_batch.empty()) RunEmbedBatch(std::move(embed_batch), &step);
  if (!running_.empty()) {
    StepStats gen = RunStep();
    gen.embed_inputs = step.embed_inputs;
    gen.embed_tokens = step.embed_tokens;
    gen.embed_ms = step.embed_ms;
    step = gen;
  }
  RetireFinished(step);
  return true;
}

int32_t Scheduler::Impl::OutstandingBlocks() const {
  // What the running sequences need for their next step: the rest of their
  // prefill, or the position of their next decode token.
  const int32_t bs = engine_->kv().block_size();
  int32_t n = 0;
  for (const auto& seq : running_) {
    if (seq->finish() || seq->kv_seq < 0) continue;
    n += std::max(0, BlocksFor(seq->n_tokens(), bs) -
                         static_cast<int32_t>(engine_->kv().block_table(seq->kv_seq).size()));
  }
  return n;
}

bool Scheduler::Impl::ResumePreempted(Clock::time_point now, bool cancel_all, int32_t* promised,
                                      int32_t* n_running) {
  KvCache& kv = engine_->kv();
  const int32_t bs = kv.block_size();
  // Cancelled or expired while preempted: retired with the finished ones.
  for (auto& seq : preempted_) {
    if (cancel_all || seq->state().cancelled() || seq->expired(now)) {
      seq->set_finish(FinishReason::kCancelled);
      running_.push_back(std::move(seq));
    }
  }
  std::erase(preempted_, nullptr);
  while (!preempted_.empty()) {
    if (options_.continuous_batching ? *n_running >= options_.max_sequences : *n_running > 0) return false;
    std::unique_ptr<Sequence>& head = preempted_.front();
    PrefixMatch match;
    if (options_.prefix_cache) match = kv.MatchPrefix(head->tokens());
    const int32_t need = BlocksFor(head->n_tokens(), bs) - static_cast<int32_t>(match.blocks.size());
    if (need > kv.FreeBlocksAfterAttach(match) - *promised) {
      if (*n_running > 0 || *promised > 0) return false;  // waits for the running ones to free blocks
      // Alone with the whole pool and still too large (a pool of less than
      // one context): it would wait forever.
      EndAtPoolLimit(*head, "context too large for the KV pool: " + std::to_string(head->n_tokens()) +
                                " tokens need " + std::to_string(BlocksFor(head->n_tokens(), bs)) + " blocks of " +
                                std::to_string(bs) + ", the pool has " + std::to_string(kv.n_blocks()));
      running_.push_back(std::move(head));
      preempted_.pop_front();
      continue;
    }
    const int32_t kv_seq = kv.CreateSequence();
    if (options_.prefix_cache) {
      if (Status st = kv.AttachPrefix(kv_seq, match); !st.ok()) match = PrefixMatch();
    }
    head->Resume(kv_seq, match.n_tokens);
    running_.push_back(std::move(head));
    preempted_.pop_front();
    *promised += need;
    ++*n_running;
  }
  return true;
}

void Scheduler::Impl::TakeWaiting(Clock::time_point now, bool cancel_all, std::vector<PendingRequest>* dropped,
                                  std::vector<Admission>* admitted) {
  auto& waiting = inbox_->waiting;
  for (auto it = waiting.begin(); it != waiting.end();) {
    const bool expired = it->deadline.has_value() && now >= *it->deadline;
    if (cancel_all || expired || it->state->cancelled()) {
      dropped->push_back(std::move(*it));
      it = waiting.erase(it);
    } else {
      ++it;
    }
  }
  KvCache& kv = engine_->kv();
  const int32_t bs = kv.block_size();
  // Blocks the running sequences need for their next step and those promised
  // to the ones admitted above. A request needs room for its prompt only (its
  // later growth may preempt the newest sequence: RunStep).
  int32_t promised = OutstandingBlocks();
  int32_t n_running = static_cast<int32_t>(std::count_if(
      running_.begin(), running_.end(), [](const auto& s) { return !s->finish().has_value(); }));
  if (!ResumePreempted(now, cancel_all, &promised, &n_running)) return;  // FCFS: they are the queue's front
  while (!waiting.empty()) {
    if (options_.continuous_batching ? n_running >= options_.max_sequences : n_running > 0) break;
    PendingRequest& head = waiting.front();
    PrefixMatch match;
    if (options_.prefix_cache) match = kv.MatchPrefix(head.prompt);
    const int32_t need =
        BlocksFor(static_cast<int32_t>(head.prompt.size()), bs) - static_cast<int32_t>(match.blocks.size());
    if (need > kv.FreeBlocksAfterAttach(match) - promised) break;  // FCFS: the head waits for room
    Admission a;
    a.kv_seq = kv.CreateSequence();
    if (options_.prefix_cache) {
      if (Status s = kv.AttachPrefix(a.kv_seq, match); !s.ok()) {
        match = PrefixMatch();  // cannot happen (the match is fresh); compute everything
      }
    }
    a.cached_tokens = match.n_tokens;
    a.request = std::move(head);
    waiting.pop_front();
    promised += need;
    ++n_running;
    admitted->push_back(std::move(a));
  }
}

void Scheduler::Impl::StartSequences(std::vector<Admission> admitted, Clock::time_point now) {
  const Tokenizer& tok = model_.tokenizer();
  const int32_t n_vocab = model_.hparams().n_vocab;
  for (Admission& a : admitted) {
    std::unique_ptr<Sequence> seq;
    const std::shared_ptr<RequestState> state = a.request.state;  // a.request is moved from below
    const int32_t n_prompt = static_cast<int32_t>(a.request.prompt.size());
    std::unique_ptr<LogitsProcessor> processor;
    if (!a.request.grammar.empty()) {
      if (!grammars_) grammars_ = std::make_unique<GrammarProcessorFactory>(tok);
      Result<std::unique_ptr<LogitsProcessor>> made =
          grammars_->Make(a.request.grammar, a.request.parsed_grammar, a.request.ignore_eos);
      if (!made.ok()) {
        engine_->kv().FreeSequence(a.kv_seq);
        CompleteUnadmitted(*state, n_prompt, FinishReason::kError, made.status());
        continue;
      }
      processor = std::move(*made);
    }
    try {
      seq = std::make_unique<Sequence>(std::move(a.request), tok, n_vocab, n_ctx_, now, std::move(processor));
    } catch (const std::exception& e) {
      engine_->kv().FreeSequence(a.kv_seq);
      CompleteUnadmitted(*state, n_prompt, FinishReason::kError, Status::ResourceExhausted(e.what()));
      continue;
    }
    seq->kv_seq = a.kv_seq;
    seq->SetCachedPrefix(a.cached_tokens);
    prompt_tokens_cached_ += a.cached_tokens;
    if (seq->wants_no_tokens()) seq->set_finish(FinishReason::kLength);
    running_.push_back(std::move(seq));
  }
}

void Scheduler::Impl::ReapRunning(Clock::time_point now, bool cancel_all) {
  for (auto& seq : running_) {
    if (cancel_all || seq->state().cancelled() || seq->expired(now)) seq->set_finish(FinishReason::kCancelled);
  }
}

void Scheduler::Impl::FreeKv(Sequence* seq) {
  engine_->kv().FreeSequence(seq->kv_seq);  // -1: ignored
  seq->kv_seq = -1;
  if (drafter_ != nullptr) drafter_->Close(seq->draft_seq);  // -1: ignored
  seq->draft_seq = -1;
}

void Scheduler::Impl::Preempt(Sequence* seq) {
  FreeKv(seq);  // the draft sequence too: it catches up on the whole history after Resume
  seq->Preempt();
  auto it = std::find_if(running_.begin(), running_.end(), [seq](const auto& p) { return p.get() == seq; });
  preempted_.push_front(std::move(*it));
  running_.erase(it);
  ++preemptions_;
}

bool Scheduler::Impl::ReserveOrPreempt(Sequence* seq, int32_t n_positions) {
  KvCache& kv = engine_->kv();
  for (;;) {
    Status r = kv.Reserve(seq->kv_seq, n_positions);
    if (r.ok()) return true;
    // The newest running sequence gives its blocks back; when that is seq
    // itself, it waits for the older ones to finish.
    Sequence* victim = nullptr;
    int32_t live = 0;
    for (auto it = running_.rbegin(); it != running_.rend(); ++it) {
      if ((*it)->finish()) continue;
      if (victim == nullptr) victim = it->get();
      ++live;
    }
    if (victim != seq) {
      Preempt(victim);
      continue;
    }
    if (live > 1) {
      Preempt(seq);
      return false;
    }
    const int32_t bs = kv.block_size();
    EndAtPoolLimit(*seq, "context too large for the KV pool: " + std::to_string(n_positions) + " positions need " +
                             std::to_string(BlocksFor(n_positions, bs)) + " blocks of " + std::to_string(bs) +
                             ", the pool has " + std::to_string(kv.n_blocks()) + " (" + r.message() + ")");
    return false;
  }
}

int32_t Scheduler::Impl::AddDrafts(std::vector<Slot>& slots, int32_t budget) {
  // Drafts (engine/speculation.h) ride along, oldest sequence first, while
  // the step's decode rows stay within max_step_rows (each row costs
  // compute; a step full of decodes leaves no room).
  int32_t rows_left = std::min(budget, options_.speculation.max_step_rows - static_cast<int32_t>(slots.size()));
  int32_t taken = 0;
  if (drafter_ == nullptr) {
    for (Slot& s : slots) {
      if (rows_left <= 0) break;
      s.draft = s.seq->ProposeDraft(options_.speculation, rows_left);
      const auto n = static_cast<int32_t>(s.draft.size());
      s.n += n;
      rows_left -= n;
      taken += n;
    }
    return taken;
  }
  // A draft model: the lengths first, then every draft in one batched run.
  std::vector<ModelDrafter::Job> jobs;
  std::vector<Slot*> drafting;
  for (Slot& s : slots) {
    if (rows_left <= 0) break;
    const int32_t want = s.seq->DraftLength(options_.speculation, rows_left);
    if (want <= 0) continue;
    if (s.seq->draft_seq < 0) s.seq->draft_seq = drafter_->Open();
    jobs.push_back({s.seq->draft_seq, s.seq->tokens(), want, {}});
    drafting.push_back(&s);
    rows_left -= want;
  }
  if (jobs.empty()) return 0;
  if (const Status st = drafter_->Draft(jobs); !st.ok()) {
    // A failed draft step costs the drafts, never the requests.
    static std::atomic<bool> warned{false};
    if (!warned.exchange(true)) spdlog::warn("the draft model's step failed; no drafts this step: {}", st.ToString());
    return 0;
  }
  for (size_t i = 0; i < jobs.size(); ++i) {
    drafting[i]->draft = std::move(jobs[i].draft);
    const auto n = static_cast<int32_t>(drafting[i]->draft.size());
    drafting[i]->n += n;
    taken += n;
  }
  return taken;
}

StepStats Scheduler::Impl::RunStep() {
  const auto start = Clock::now();
  KvCache& kv = engine_->kv();
  // Sequences reaped this iteration give their blocks back before anyone is
  // preempted for want of them.
  for (auto& seq : running_) {
    if (seq->finish()) FreeKv(seq.get());
  }
  std::vector<Slot> slots;
  int32_t budget = options_.max_batch_tokens;
  StepStats st;
  const int64_t preemptions_before = preemptions_;
  // Decode tokens first: running sequences never wait behind a long prompt.
  for (auto& seq : running_) {
    if (!seq->finish() && seq->has_pending_decode()) {
      slots.push_back({seq.get(), 1, true, false, {}});
      --budget;
    }
  }
  if (options_.speculation.enabled()) budget -= AddDrafts(slots, budget);
  // Then prompt chunks (a resumed sequence's recompute too), FCFS.
  for (auto& seq : running_) {
    if (budget <= 0) break;
    if (seq->finish() || !seq->prefilling()) continue;
    const int32_t n = std::min(budget, seq->prefill_end() - seq->n_computed());
    slots.push_back({seq.get(), n, seq->n_computed() + n == seq->prefill_end(), true, {}});
    budget -= n;
  }
  // KV for the new positions, oldest sequence first. When the pool is empty
  // the newest running sequence is preempted (its slot goes with it), so the
  // oldest always make progress.
  std::vector<Sequence*> order;
  order.reserve(running_.size());
  for (auto& seq : running_) order.push_back(seq.get());
  for (Sequence* seq : order) {
    if (seq->preempted() || seq->finish()) continue;  // a victim already
    auto slot = std::find_if(slots.begin(), slots.end(), [seq](const Slot& s) { return s.seq == seq; });
    if (slot == slots.end()) continue;
    // A draft never preempts anyone: without room it is dropped.
    if (!slot->draft.empty() && !kv.Reserve(seq->kv_seq, seq->n_computed() + slot->n).ok()) {
      slot->n -= static_cast<int32_t>(slot->draft.size());
      slot->draft.clear();
    }
    ReserveOrPreempt(seq, seq->n_computed() + slot->n);
  }
  std::erase_if(slots, [](const Slot& s) { return s.seq->preempted() || s.seq->finish().has_value(); });
  st.preemptions = static_cast<int32_t>(preemptions_ - preemptions_before);
  for (const Slot& s : slots) {
    const auto drafted = static_cast<int32_t>(s.draft.size());
    (s.prefill ? st.prefill_tokens : st.decode_tokens) += s.n - drafted;
    st.draft_tokens += drafted;
    if (s.prefill && s.seq->resumed()) st.recomputed_tokens += s.n;
  }
  if (slots.empty()) return st;

  batch_.Clear();
  for (size_t i = 0; i < slots.size(); ++i) {
    const Slot& s = slots[i];
    const int32_t first = s.seq->n_computed();
    for (int32_t j = 0; j < s.n; ++j) {
      const int32_t token = j == 0 || s.draft.empty() ? s.seq->token_at(first + j) : s.draft[static_cast<size_t>(j - 1)];
      batch_.Add(token, first + j, static_cast<int32_t>(i), s.logits && (j + 1 == s.n || !s.draft.empty()));
    }
    batch_.block_tables.push_back(kv.block_table(s.seq->kv_seq));
  }
  st.batch_tokens = batch_.size();
  const Status status = engine_->Decode(batch_, &logits_);
  ++steps_;
  const auto end = Clock::now();
  if (!status.ok()) {
    for (const Slot& s : slots) s.seq->set_finish(FinishReason::kError, status);
    st.step_ms = MsSince(start);
    return st;
  }
  const size_t n_vocab = static_cast<size_t>(model_.hparams().n_vocab);
  size_t row = 0;
  for (const Slot& s : slots) {
    if (!s.draft.empty()) {
      // A verify step: the pending token is computed, the drafts are as far
      // as they were accepted.
      s.seq->Advance(1, end);
      const int32_t before = s.seq->n_generated();
      const size_t n_rows = s.draft.size() + 1;
      const int32_t accepted =
          s.seq->SampleVerified(std::span<float>(logits_.data() + row * n_vocab, n_rows * n_vocab), n_vocab, s.draft, end);
      generated_tokens_ += s.seq->n_generated() - before;
      st.accepted_draft_tokens += accepted;
      draft_tokens_ += static_cast<int64_t>(s.draft.size());
      accepted_draft_tokens_ += accepted;
      if (options_.prefix_cache && s.seq->kv_seq >= 0) kv.CommitTokens(s.seq->kv_seq, s.seq->computed_tokens());
      row += n_rows;
      continue;
    }
    s.seq->Advance(s.n, end);
    if (s.prefill) (s.seq->resumed() ? recomputed_tokens_ : prompt_tokens_computed_) += s.n;  // as in st
    if (options_.prefix_cache) kv.CommitTokens(s.seq->kv_seq, s.seq->computed_tokens());
    if (!s.logits) continue;
    const int32_t before = s.seq->n_generated();
    s.seq->Sample(std::span<float>(logits_.data() + row * n_vocab, n_vocab), end);
    generated_tokens_ += s.seq->n_generated() - before;
    ++row;
  }
  st.step_ms = MsSince(start);
  return st;
}

void Scheduler::Impl::RetireFinished(const StepStats& step) {
  std::vector<std::unique_ptr<Sequence>> finished;
  for (auto& seq : running_) {
    if (!seq->finish()) continue;
    FreeKv(seq.get());  // freed already, or preempted: nothing to do
    finished.push_back(std::move(seq));
  }
  std::erase(running_, nullptr);
  // Stats first, so a caller woken by its completion sees its blocks freed.
  PublishStats(step);
  const auto now = Clock::now();
  for (auto& seq : finished) seq->Complete(now);
}

void Scheduler::Impl::FailAll(const Status& status) {
  for (auto& seq : preempted_) {
    if (seq) running_.push_back(std::move(seq));
  }
  preempted_.clear();
  for (auto& seq : running_) {
    if (seq) seq->set_finish(FinishReason::kError, status);
  }
  try {
    RetireFinished(StepStats());
  } catch (...) {
    // Nothing more can be done for these requests.
  }
}

void Scheduler::Impl::CompleteUnadmitted(RequestState& state, int32_t n_prompt, FinishReason reason,
                                         const Status& error) {
  GenerateResult r;
  r.finish = reason;
  r.error = error;
  r.prompt_tokens = n_prompt;
  const double waited = std::chrono::duration<double, std::milli>(Clock::now() - state.submit_time()).count();
  r.timings.queue_ms = waited;
  r.timings.total_ms = waited;
  state.Complete(std::move(r));
}

void Scheduler::Impl::PublishStats(const StepStats& step_in) {
  StepStats step = step_in;
  const KvCache& kv = engine_->kv();
  {
    std::lock_guard<std::mutex> lock(inbox_->mu);
    SchedulerStats& s = inbox_->stats;
    inbox_->preempted = static_cast<int32_t>(preempted_.size());
    s.running = static_cast<int32_t>(running_.size());
    s.waiting = static_cast<int32_t>(inbox_->waiting.size()) + inbox_->preempted;
    s.steps = steps_;
    s.kv_blocks_total = kv.n_blocks();
    s.kv_blocks_used = kv.used_blocks();
    s.kv_blocks_cached = kv.cached_blocks();
    s.prefix_cache_hits = kv.stats().prefix_hits;
    s.prefix_cache_misses = kv.stats().prefix_misses;
    s.prompt_tokens_computed = prompt_tokens_computed_;
    s.prompt_tokens_cached = prompt_tokens_cached_;
    s.generated_tokens = generated_tokens_;
    s.preemptions = preemptions_;
    s.recomputed_tokens = recomputed_tokens_;
    s.draft_tokens = draft_tokens_;
    s.accepted_draft_tokens = accepted_draft_tokens_;
    s.draft_sequences = drafter_ != nullptr ? drafter_->open_sequences() : 0;
    s.embed_requests = embed_requests_;
    s.embed_inputs = embed_inputs_;
    s.embed_tokens = embed_tokens_;
    s.embed_batches = embed_batches_;
    s.embed_waiting = static_cast<int32_t>(inbox_->embeds.size());
    step.running = s.running;
    step.waiting = s.waiting;
  }
  if (options_.on_step && (step.batch_tokens > 0 || step.preemptions > 0 || step.embed_inputs > 0)) {
    try {
      options_.on_step(step);
    } catch (...) {
      // A monitoring hook must not take the requests down with it.
    }
  }
}

}  // namespace jarvis
