// The scheduler's loop thread: reap, admit, build one batch, decode, sample.
#include <algorithm>
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
  bool cancel_all = false;
  {
    std::unique_lock<std::mutex> lock(inbox_->mu);
    inbox_->cv.wait(lock, [&] {
      return inbox_->kick || inbox_->stopping || !inbox_->waiting.empty() || !running_.empty();
    });
    inbox_->kick = false;
    const auto now = Clock::now();
    cancel_all = inbox_->stopping && now >= inbox_->grace_deadline;
    if (inbox_->stopping && inbox_->waiting.empty() && running_.empty()) return false;
    TakeWaiting(now, cancel_all, &dropped, &admitted);
  }
  const auto now = Clock::now();
  for (PendingRequest& p : dropped) {
    CompleteUnadmitted(*p.state, static_cast<int32_t>(p.prompt.size()), FinishReason::kCancelled, Status::Ok());
  }
  ReapRunning(now, cancel_all);
  StartSequences(std::move(admitted), now);
  StepStats step;
  if (!running_.empty()) step = RunStep();
  RetireFinished(step);
  return true;
}

int32_t Scheduler::Impl::OutstandingBlocks() const {
  const int32_t bs = engine_->kv().block_size();
  int32_t n = 0;
  for (const auto& seq : running_) {
    if (seq->finish()) continue;
    n += BlocksFor(seq->final_positions(), bs) -
         static_cast<int32_t>(engine_->kv().block_table(seq->kv_seq).size());
  }
  return n;
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
  // Blocks promised to running sequences (their future growth) and to the
  // ones admitted above; a request is admitted only if all of them still fit,
  // so no running sequence can ever run out of KV.
  int32_t promised = OutstandingBlocks();
  int32_t n_running = static_cast<int32_t>(std::count_if(
      running_.begin(), running_.end(), [](const auto& s) { return !s->finish().has_value(); }));
  while (!waiting.empty()) {
    if (options_.continuous_batching ? n_running >= options_.max_sequences : n_running > 0) break;
    PendingRequest& head = waiting.front();
    PrefixMatch match;
    if (options_.prefix_cache) match = kv.MatchPrefix(head.prompt);
    const int32_t need = BlocksFor(Sequence::FinalPositions(static_cast<int32_t>(head.prompt.size()),
                                                            head.max_tokens, n_ctx_), bs) -
                         static_cast<int32_t>(match.blocks.size());
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

StepStats Scheduler::Impl::RunStep() {
  const auto start = Clock::now();
  KvCache& kv = engine_->kv();
  struct Slot {
    Sequence* seq;
    int32_t n;    // tokens fed this step
    bool logits;  // samples after this step
    bool prefill;
  };
  std::vector<Slot> slots;
  int32_t budget = options_.max_batch_tokens;
  StepStats st;
  // Decode tokens first: running sequences never wait behind a long prompt.
  for (auto& seq : running_) {
    if (!seq->finish() && seq->has_pending_decode()) {
      slots.push_back({seq.get(), 1, true, false});
      --budget;
      ++st.decode_tokens;
    }
  }
  // Then prompt chunks, FCFS.
  for (auto& seq : running_) {
    if (budget <= 0) break;
    if (seq->finish() || !seq->prefilling()) continue;
    const int32_t n = std::min(budget, seq->n_prompt() - seq->n_computed());
    slots.push_back({seq.get(), n, seq->n_computed() + n == seq->n_prompt(), true});
    budget -= n;
    st.prefill_tokens += n;
  }
  // KV for the new positions (promised at admission, so this cannot fail
  // unless something is badly wrong; then only that sequence fails).
  std::erase_if(slots, [&](const Slot& s) {
    Status r = kv.Reserve(s.seq->kv_seq, s.seq->n_computed() + s.n);
    if (r.ok()) return false;
    s.seq->set_finish(FinishReason::kError, r);
    return true;
  });
  if (slots.empty()) return st;

  batch_.Clear();
  for (size_t i = 0; i < slots.size(); ++i) {
    const Slot& s = slots[i];
    const int32_t first = s.seq->n_computed();
    for (int32_t j = 0; j < s.n; ++j) {
      batch_.Add(s.seq->token_at(first + j), first + j, static_cast<int32_t>(i), s.logits && j + 1 == s.n);
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
    s.seq->Advance(s.n, end);
    if (s.prefill) prompt_tokens_computed_ += s.n;
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
  KvCache& kv = engine_->kv();
  std::vector<std::unique_ptr<Sequence>> finished;
  for (auto& seq : running_) {
    if (!seq->finish()) continue;
    kv.FreeSequence(seq->kv_seq);
    finished.push_back(std::move(seq));
  }
  std::erase(running_, nullptr);
  // Stats first, so a caller woken by its completion sees its blocks freed.
  PublishStats(step);
  const auto now = Clock::now();
  for (auto& seq : finished) seq->Complete(now);
}

void Scheduler::Impl::FailAll(const Status& status) {
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
    s.running = static_cast<int32_t>(running_.size());
    s.waiting = static_cast<int32_t>(inbox_->waiting.size());
    s.steps = steps_;
    s.kv_blocks_total = kv.n_blocks();
    s.kv_blocks_used = kv.used_blocks();
    s.kv_blocks_cached = kv.cached_blocks();
    s.prefix_cache_hits = kv.stats().prefix_hits;
    s.prefix_cache_misses = kv.stats().prefix_misses;
    s.prompt_tokens_computed = prompt_tokens_computed_;
    s.prompt_tokens_cached = prompt_tokens_cached_;
    s.generated_tokens = generated_tokens_;
    step.running = s.running;
    step.waiting = s.waiting;
  }
  if (options_.on_step && step.batch_tokens > 0) {
    try {
      options_.on_step(step);
    } catch (...) {
      // A monitoring hook must not take the requests down with it.
    }
  }
}

}  // namespace jarvis
