// Scheduler: continuous batching for one loaded model.
//
// Embedding requests (SubmitEmbed) wait in their own queue and run as
// Engine::Embed batches on the same loop thread (embed_queue.h says how
// inputs are packed, up to max_batch_tokens). Each loop iteration runs at most
// one embedding batch and then one generation step, so while sequences are
// running neither kind starves the other.
//
// One loop thread per scheduler. Every step it builds ONE batch from
//   - one decode token of every running sequence, then
//   - chunks of waiting prompts (chunked prefill), FCFS,
// up to max_batch_tokens, and calls Engine::Decode once. New requests join at
// the next step; nobody waits for a batch to fill. Running decodes are always
// served first, so a long prompt cannot starve them.
//
// KV memory is the engine's paged KvCache. Before prefill the longest cached
// prefix of the prompt (whole blocks, hashed by their token prefix) is reused
// copy-free; only the rest is computed (GenerateResult::cached_prompt_tokens).
// Cancelled, finished, failed or expired requests free their blocks at the next
// step (blocks holding a full prompt prefix stay cached until evicted, LRU).
//
// Speculative decoding (SchedulerOptions::speculation): drafts ride along
// with their sequence's decode token and are verified in the same step
// (engine/speculation.h), within max_step_rows. With a draft model the
// drafts of all drafting sequences are made before the step by the
// ModelDrafter, each of its forward steps one batch over all of them
// (engine/model_drafter.h). A draft never preempts anything (no KV room: it
// is dropped). A preempted sequence loses its draft sequence and drafts
// again after it resumes (the draft model then catches up on the whole
// history at its next draft); a finished or cancelled one frees it.
//
// Determinism: at temperature 0 a request gives the same tokens alone or with
// any number of others (the engine is batch-invariant).
//
// Streaming: every sampled token gives one TokenEvent (its text may be empty
// while UTF-8 or a possible stop string is held back); text released at the
// end (a held-back tail) comes as one more event with token -1. Both on_token
// and the pull stream (RequestHandle::Next) see every event; their texts
// concatenate to GenerateResult::text.
//
// KV admission and preemption: a request is admitted when the blocks its
// prompt needs (less the cached prefix) fit beside what the running sequences
// need for their next step; the queue head waits otherwise (FCFS). Sequences
// then take blocks as they grow. When a step finds the pool empty, the newest
// running sequence (admitted last) is preempted by recompute: its KV is
// freed, its generated tokens and sampling state are kept, and it waits at
// the front of the queue; resumed, it prefills prompt + generated tokens
// again and goes on. Streams neither repeat nor lose a token and greedy
// output equals an uninterrupted run. A sequence that is alone and still
// cannot grow (a pool smaller than its context: SchedulerOptions::kv_size)
// ends there with finish kLength, as at the end of its context, keeping its
// tokens (logged once: "context too large for the KV pool").
//
// Thread safety: Submit(), Stats() and Shutdown() may be called from any thread.
// Callbacks (on_token, on_step) run on the loop thread and must not block for
// long; they may call RequestHandle::Cancel() and Stats(), and Shutdown() only
// returns at once there (the loop ends by itself). For a result obtained
// without the scheduler (response cache) use MakeCompletedHandle() in
// scheduler/request_state.h.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "engine/kv_block_size.h"
#include "engine/speculation.h"
#include "jarvis/embed.h"
#include "jarvis/request.h"
#include "jarvis/runtime_options.h"
#include "jarvis/status.h"
#include "quant/kv_type.h"

namespace jarvis {

class Model;

// What one step did (for the performance monitor and the dashboard).
struct StepStats {
  int32_t batch_tokens = 0;     // tokens in the forward pass
  int32_t decode_tokens = 0;    // of which decode (one per running sequence)
  int32_t prefill_tokens = 0;   // of which prompt chunks
  int32_t running = 0;          // sequences running after the step
  int32_t waiting = 0;          // requests queued after the step (preempted ones included)
  int32_t preemptions = 0;      // sequences preempted for want of KV in this step
  int32_t recomputed_tokens = 0;  // of prefill_tokens: resumed sequences computing their KV again
  // Speculative decoding: draft tokens fed this step (beside decode_tokens)
  // and how many of them were accepted.
  int32_t draft_tokens = 0;
  int32_t accepted_draft_tokens = 0;
  double step_ms = 0.0;
  // The embedding batch run before the step (0 inputs: none).
  int32_t embed_inputs = 0;
  int32_t embed_tokens = 0;
  double embed_ms = 0.0;
};

struct SchedulerStats {
  int32_t running = 0;
  int32_t waiting = 0;
  int64_t steps = 0;
  int32_t kv_blocks_total = 0;
  int32_t kv_blocks_used = 0;      // held by running sequences
  int32_t kv_blocks_cached = 0;    // unreferenced, kept for prefix reuse
  int64_t prefix_cache_hits = 0;   // requests that reused >= 1 cached block
  int64_t prefix_cache_misses = 0;
  int64_t prompt_tokens_computed = 0;
  int64_t prompt_tokens_cached = 0;
  int64_t generated_tokens = 0;
  // KV exhaustion: running sequences preempted (their KV freed, resumed
  // later by recompute) and the tokens prefilled again on resuming.
  int64_t preemptions = 0;
  int64_t recomputed_tokens = 0;
  // Speculative decoding: draft tokens verified and accepted.
  int64_t draft_tokens = 0;
  int64_t accepted_draft_tokens = 0;
  // With a draft model: the draft sequences held (one per running sequence
  // that has drafted; freed when it ends or is preempted).
  int32_t draft_sequences = 0;
  // Embeddings: requests completed (any outcome), inputs and tokens
  // computed, Engine::Embed batches run, requests queued now.
  int64_t embed_requests = 0;
  int64_t embed_inputs = 0;
  int64_t embed_tokens = 0;
  int64_t embed_batches = 0;
  int32_t embed_waiting = 0;
  // Where the engine runs (fixed at Create): Engine::backend(), the number
  // of layers offloaded to the GPU (0: CPU only) and the device memory held
  // for them (Engine::GpuBytes: weights + KV).
  std::string backend;
  int32_t gpu_layers = 0;
  uint64_t gpu_bytes = 0;
};

struct SchedulerOptions {
  // Defaults as RuntimeOptions (jarvis/runtime_options.h):
  // Sequences decoding at once (RuntimeOptions::parallel).
  int32_t max_sequences = RuntimeOptions{}.parallel;
  // Tokens per forward step (decode tokens + prefill chunks), and per
  // embedding batch (at least one whole input).
  int32_t max_batch_tokens = RuntimeOptions{}.batch_tokens;
  // Context per sequence (prompt + generated); 0: the model's, at most 4096.
  int32_t n_ctx = RuntimeOptions{}.ctx_size;
  // Requests waiting beyond the running ones; past it Submit fails with
  // ResourceExhausted (the HTTP layer answers 429/503). The embedding queue
  // has a limit of its own of the same size.
  int32_t max_queue = RuntimeOptions{}.max_queue;
  // KV pool size. Default 0: max_sequences * n_ctx positions (plus room for the
  // prefix cache, 25%).
  size_t kv_budget_bytes = 0;
  // KV pool size in positions (tokens) shared by all sequences, rounded up to
  // whole blocks (RuntimeOptions::kv_size); overrides kv_budget_bytes.
  // Default 0: kv_budget_bytes, or the default above. May be less than one
  // context: a prompt longer than the pool is then InvalidArgument and a
  // sequence that outgrows the whole pool fails with ResourceExhausted.
  int32_t kv_size = RuntimeOptions{}.kv_size;
  int32_t kv_block_size = kDefaultKvBlockSize;  // engine/kv_block_size.h
  KvType kv_type = ParseKvType(RuntimeOptions{}.kv_type).value_or(KvType::kF16);  // quant/kv_type.h
  // Engine threads; 0: one per physical core.
  int32_t n_threads = RuntimeOptions{}.threads;
  // GPU offload, as EngineOptions::gpu_layers: -1 all, 0 none, N the last N,
  // kGpuLayersAuto all when a GPU is usable.
  int32_t gpu_layers = RuntimeOptions{}.gpu_layers;
  // Jinja source that replaces the GGUF's tokenizer.chat_template
  // (--chat-template-file). Default empty: the file's template.
  std::string chat_template;
  // Speculative decoding (engine/speculation.h; RuntimeOptions::speculative
  // and draft_max). Default off.
  SpeculationOptions speculation;
  // The draft model of speculation mode "draft" (RuntimeOptions::
  // draft_model; required then, ignored otherwise). Create checks it against
  // the target (engine/draft_vocabulary.h: InvalidArgument for another
  // vocabulary or an encoder) and gives it an engine of its own: the same
  // context, threads and KV type, max_sequences full contexts of KV, and
  // draft_gpu_layers as EngineOptions::gpu_layers (the plan it was loaded
  // with). May be shared by several schedulers.
  std::shared_ptr<const Model> draft_model;
  int32_t draft_gpu_layers = 0;
  // Reuse cached prompt prefixes. Default true.
  bool prefix_cache = true;
  // false: run one request at a time (a baseline for `bench serve`). Default true.
  bool continuous_batching = true;
  // Called on the loop thread after every step that ran a forward pass, an
  // embedding batch or preempted a sequence (StepStats::running / waiting are counted after the
  // step). Optional; must be quick; exceptions are swallowed.
  std::function<void(const StepStats&)> on_step;
};

class Scheduler {
 public:
  // Starts the loop thread. `model` must outlive the scheduler.
  static Result<std::unique_ptr<Scheduler>> Create(const Model& model, const SchedulerOptions& options);
  // Cancels whatever is still queued or running (finish = kCancelled) and joins.
  ~Scheduler();
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  // Validates and tokenizes the request on the caller's thread (chat messages
  // rendered with the model's template), then queues it; returns at once.
  // InvalidArgument: bad parameters, prompt empty or longer than the context
  // (or than the whole KV pool, SchedulerOptions::kv_size), an embedding
  // model (ArchSpec::encoder: "model X is an embedding model; it cannot
  // generate").
  // ResourceExhausted: the queue is full. Unavailable after Shutdown: Cancelled.
  // `filter` (optional) may change the final result before on_complete,
  // Wait() and the future see it (RequestState::SetResultFilter).
  using ResultFilter = std::function<void(GenerateResult&)>;
  Result<RequestHandle> Submit(GenerateRequest request, ResultFilter filter = {});

  // Tokenizes the inputs on the caller's thread (scheduler/embed_prep.h:
  // special tokens, truncation, dimensions), then queues the request; returns
  // at once. InvalidArgument: no or empty input, too long without truncate,
  // bad token id or dimensions. ResourceExhausted: the embedding queue is
  // full. Cancelled after Shutdown. request.on_complete runs once, on the
  // loop thread, before the handle sees the result; `filter` (optional) may
  // change the result before that (EmbedState::SetResultFilter).
  using EmbedFilter = std::function<void(EmbedResult&)>;
  Result<EmbedHandle> SubmitEmbed(EmbedRequest request, EmbedFilter filter = {});
  // Width of this model's embeddings (before `dimensions`).
  int32_t embedding_size() const;

  SchedulerStats Stats() const;

  // Stops accepting, lets running and queued requests finish for up to
  // `grace`, then cancels the rest. Blocks until the loop has stopped.
  void Shutdown(std::chrono::milliseconds grace);

  const Model& model() const;

 private:
  class Impl;
  explicit Scheduler(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace jarvis
