// Scheduler: construction, Submit, Stats, Shutdown (the loop is in
// scheduler_loop.cpp).
#include "scheduler/scheduler.h"

#include <algorithm>
#include <string>
#include <utility>

#include "scheduler/request_prep.h"
#include "scheduler/scheduler_impl.h"

namespace jarvis {
namespace {

Status ValidateOptions(const SchedulerOptions& o) {
  if (o.max_sequences < 1) return Status::InvalidArgument("max_sequences must be >= 1");
  if (o.max_batch_tokens < o.max_sequences) {
    return Status::InvalidArgument("max_batch_tokens must be >= max_sequences (one decode token each)");
  }
  // Every request passes through the queue, so it needs room for one.
  if (o.max_queue < 1) return Status::InvalidArgument("max_queue must be >= 1");
  if (o.n_ctx < 0 || o.kv_block_size < 1 || o.n_threads < 0 || o.kv_size < 0) {
    return Status::InvalidArgument("scheduler options must be positive");
  }
  JARVIS_RETURN_IF_ERROR(o.speculation.Validate());
  if (o.speculation.mode == "draft" && o.draft_model == nullptr) {
    return Status::InvalidArgument("speculative \"draft\" needs a draft model");
  }
  return Status::Ok();
}

}  // namespace

// --- Scheduler (public) -------------------------------------------------------

Result<std::unique_ptr<Scheduler>> Scheduler::Create(const Model& model, const SchedulerOptions& options) {
  JARVIS_RETURN_IF_ERROR(ValidateOptions(options));
  const HParams& hp = model.hparams();
  const int32_t n_ctx = options.n_ctx > 0 ? options.n_ctx : std::min(hp.n_ctx_train, 4096);
  const int64_t blocks_per_seq = (n_ctx + options.kv_block_size - 1) / options.kv_block_size;

  // The engine sizes its pool as (max_sequences x blocks per context); ask it
  // for enough contexts to cover the budget (at least one full context).
  int64_t want_blocks = (5 * blocks_per_seq * options.max_sequences + 3) / 4;  // +25% for the prefix cache
  if (options.kv_budget_bytes > 0) {
    KvLayout layout;
    layout.n_layer = hp.n_layer;
    layout.n_embd_kv = hp.n_embd_kv();
    layout.block_size = options.kv_block_size;
    layout.type = options.kv_type;
    want_blocks = KvCache::BlocksForBudget(layout, options.kv_budget_bytes);
    if (want_blocks < blocks_per_seq) {
      return Status::InvalidArgument("kv_budget_bytes holds less than one context of " + std::to_string(n_ctx) +
                                     " positions");
    }
  }
  if (options.kv_size > 0) {
    // Less than one context is allowed: a sequence that outgrows the whole
    // pool then fails (ResourceExhausted) instead of waiting forever.
    want_blocks = (static_cast<int64_t>(options.kv_size) + options.kv_block_size - 1) / options.kv_block_size;
    if (want_blocks > (int64_t{1} << 30)) return Status::InvalidArgument("kv_size is too large");
  }
  EngineOptions eo;
  eo.n_threads = options.n_threads;
  eo.n_ctx = n_ctx;
  eo.kv_type = options.kv_type;
  eo.kv_block_size = options.kv_block_size;
  eo.gpu_layers = options.gpu_layers;
  eo.max_sequences = static_cast<int32_t>(
      options.kv_budget_bytes > 0 ? want_blocks / blocks_per_seq : (want_blocks + blocks_per_seq - 1) / blocks_per_seq);
  if (options.kv_size > 0) {
    eo.kv_blocks = static_cast<int32_t>(want_blocks);
    eo.max_sequences = std::max<int32_t>(1, eo.max_sequences);
  }
  JARVIS_ASSIGN_OR_RETURN(std::unique_ptr<Engine> engine, Engine::Create(model, eo));
  std::unique_ptr<ModelDrafter> drafter;
  if (options.speculation.mode == "draft") {
    EngineOptions draft = eo;
    draft.n_ctx = engine->n_ctx();
    draft.max_sequences = options.max_sequences;  // one draft sequence per running sequence
    draft.kv_blocks = 0;
    draft.gpu_layers = options.draft_gpu_layers;
    draft.shared_pool = &engine->pool();  // the loop thread drives both, in turn
    // Catch-up limited as a step's prompt chunks are: a long prompt's draft
    // prefill is spread over steps instead of stalling one.
    JARVIS_ASSIGN_OR_RETURN(drafter, ModelDrafter::Create(model, *options.draft_model, draft, options.max_batch_tokens,
                                                          options.max_batch_tokens));
  }

  JARVIS_ASSIGN_OR_RETURN(ChatFormatter chat, ChatFormatterForModel(model.gguf(), model.tokenizer(), options.chat_template));
  auto impl = std::make_unique<Impl>(model, options, std::move(engine), std::move(drafter), std::move(chat));
  impl->Start();
  return std::unique_ptr<Scheduler>(new Scheduler(std::move(impl)));
}

Scheduler::Scheduler(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Scheduler::~Scheduler() = default;  // Impl's destructor cancels and joins
Result<RequestHandle> Scheduler::Submit(GenerateRequest request, ResultFilter filter) {
  return impl_->Submit(std::move(request), std::move(filter));
}
Result<EmbedHandle> Scheduler::SubmitEmbed(EmbedRequest request, EmbedFilter filter) {
  return impl_->SubmitEmbed(std::move(request), std::move(filter));
}
int32_t Scheduler::embedding_size() const { return impl_->embedding_size(); }
SchedulerStats Scheduler::Stats() const { return impl_->Stats(); }
void Scheduler::Shutdown(std::chrono::milliseconds grace) { impl_->Shutdown(grace); }
const Model& Scheduler::model() const { return impl_->model(); }

// --- Impl: the caller-side half ----------------------------------------------

Scheduler::Impl::Impl(const Model& model, const SchedulerOptions& options, std::unique_ptr<Engine> engine,
                      std::unique_ptr<ModelDrafter> drafter, ChatFormatter chat)
    : model_(model),
      options_(options),
      chat_(std::move(chat)),
      n_ctx_(engine->n_ctx()),
      kv_positions_(static_cast<int64_t>(engine->kv().n_blocks()) * engine->kv().block_size()),
      embedding_size_(engine->embedding_size()),
      inbox_(std::make_shared<Inbox>()),
      engine_(std::move(engine)),
      drafter_(std::move(drafter)) {
  inbox_->stats.kv_blocks_total = engine_->kv().n_blocks();
  inbox_->stats.backend = engine_->backend();
  inbox_->stats.gpu_layers = engine_->gpu_layers();
  inbox_->stats.gpu_bytes = engine_->GpuBytes();
}

Scheduler::Impl::~Impl() { Shutdown(std::chrono::milliseconds(0)); }

void Scheduler::Impl::Start() { thread_ = std::thread([this] { Loop(); }); }

Result<RequestHandle> Scheduler::Impl::Submit(GenerateRequest request, ResultFilter filter) {
  {
    std::lock_guard<std::mutex> lock(inbox_->mu);
    if (inbox_->stopping) return Status::Cancelled("the scheduler is shutting down");
  }
  if (model_.hparams().spec->encoder) {
    return Status::InvalidArgument("model " + (request.model.empty() ? std::string("this model") : request.model) +
                                   " is an embedding model; it cannot generate");
  }
  JARVIS_ASSIGN_OR_RETURN(std::vector<int32_t> prompt,
                          PrepareRequestTokens(model_, chat_, request, n_ctx_));
  if (static_cast<int64_t>(prompt.size()) > kv_positions_) {
    return Status::InvalidArgument("the prompt has " + std::to_string(prompt.size()) +
                                   " tokens but the KV pool holds " + std::to_string(kv_positions_));
  }
  // Parse the grammar here, on the caller's thread, so a bad one is the
  // caller's InvalidArgument and not a failed request later.
  std::shared_ptr<const constrain::Grammar> grammar;
  if (!request.grammar.empty()) {
    JARVIS_ASSIGN_OR_RETURN(grammar, ParseGrammar(request.grammar));
  }
  if (request.logprobs > GenerateRequest::kMaxTopLogprobs) {
    return Status::InvalidArgument("logprobs asks for " + std::to_string(request.logprobs) +
                                   " alternatives; at most " + std::to_string(GenerateRequest::kMaxTopLogprobs));
  }
  auto state = std::make_shared<RequestState>(NextRequestId());
  state->SetCompletionHook(std::move(request.on_complete));
  state->SetResultFilter(std::move(filter));
  std::weak_ptr<Inbox> weak = inbox_;
  state->SetCancelHook([weak] {
    if (auto inbox = weak.lock()) {
      {
        std::lock_guard<std::mutex> lock(inbox->mu);
        inbox->kick = true;
      }
      inbox->cv.notify_one();
    }
  });
  PendingRequest pending;
  pending.state = state;
  pending.prompt = std::move(prompt);
  pending.sampling = std::move(request.sampling);
  pending.max_tokens = request.max_tokens;
  pending.stop = std::move(request.stop);
  pending.ignore_eos = request.ignore_eos;
  pending.grammar = std::move(request.grammar);
  pending.parsed_grammar = std::move(grammar);
  pending.logprobs = request.logprobs;
  pending.deadline = request.deadline;
  pending.on_token = std::move(request.on_token);
  {
    std::lock_guard<std::mutex> lock(inbox_->mu);
    if (inbox_->stopping) return Status::Cancelled("the scheduler is shutting down");
    if (static_cast<int64_t>(inbox_->waiting.size()) >= options_.max_queue) {
      return Status::ResourceExhausted("the request queue is full (" + std::to_string(inbox_->waiting.size()) +
                                       " waiting); retry later");
    }
    inbox_->waiting.push_back(std::move(pending));
    inbox_->stats.waiting = static_cast<int32_t>(inbox_->waiting.size());
  }
  inbox_->cv.notify_one();
  return RequestHandle(std::move(state));
}

SchedulerStats Scheduler::Impl::Stats() const {
  std::lock_guard<std::mutex> lock(inbox_->mu);
  SchedulerStats s = inbox_->stats;
  s.waiting = static_cast<int32_t>(inbox_->waiting.size()) + inbox_->preempted;
  s.embed_waiting = static_cast<int32_t>(inbox_->embeds.size());
  return s;
}

void Scheduler::Impl::Shutdown(std::chrono::milliseconds grace) {
  {
    std::lock_guard<std::mutex> lock(inbox_->mu);
    const auto deadline = Clock::now() + grace;
    if (!inbox_->stopping || deadline < inbox_->grace_deadline) inbox_->grace_deadline = deadline;
    inbox_->stopping = true;
  }
  inbox_->cv.notify_one();
  if (std::this_thread::get_id() == thread_.get_id()) return;  // from a callback: the loop ends by itself
  std::lock_guard<std::mutex> join(join_mu_);
  if (thread_.joinable()) thread_.join();
}

}  // namespace jarvis
