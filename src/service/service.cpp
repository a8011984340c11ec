// Service: request path (response cache -> model lease -> scheduler) and
// model control. The monitoring documents are in service_json.cpp and
// service_prometheus.cpp.
#include "service/service.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <utility>

#include <fmt/format.h>

#include "gpu/gpu_layer_plan.h"
#include "model/model.h"
#include "scheduler/request_state.h"
#include "service/service_impl.h"
#include "util/mapping_guard.h"

namespace jarvis {

// One request handed to a scheduler. Shared by the on_token / on_complete
// wrappers; whichever of them (or the scheduler dropping them) comes last
// frees it, which also releases the model lease if on_complete never ran.
struct Service::Impl::Inflight {
  Impl* impl = nullptr;
  size_t slot = 0;
  ModelLease lease;
  std::string cache_key;  // empty: not cacheable
  std::mutex mu;
  std::vector<TokenEvent> events;  // guarded by mu; recorded only when cacheable
  TokenCallback user_on_token;
  std::function<void(const GenerateResult&)> user_on_complete;
  std::atomic<bool> completed{false};
};

namespace {

PerfDistribution* Timer(PerfMonitor& m, const char* name, const MetricLabels& labels = {}) {
  return &m.GetTimer(name, labels);
}

// An already-completed handle for a response-cache hit: the recorded stream
// pieces are replayed to on_token and to the pull stream, then on_complete.
RequestHandle ReplayHandle(CachedResponse hit, const GenerateRequest& request, double lookup_ms) {
  auto state = std::make_shared<RequestState>(NextRequestId());
  GenerateResult result = std::move(hit.result);
  result.from_response_cache = true;
  result.timings = RequestTimings{};
  result.timings.ttft_ms = lookup_ms;
  result.timings.total_ms = lookup_ms;
  if (hit.events.empty() && !result.text.empty()) hit.events.push_back(TokenEvent{-1, result.text});
  bool keep_calling = static_cast<bool>(request.on_token);
  for (TokenEvent& event : hit.events) {
    if (keep_calling) {
      try {
        keep_calling = request.on_token(event);
      } catch (...) {
        keep_calling = false;  // the result stands; a throwing callback must not escape
      }
    }
    state->Push(std::move(event));
  }
  if (request.on_complete) {
    try {
      request.on_complete(result);
    } catch (...) {
    }
  }
  state->Complete(std::move(result));
  return RequestHandle(std::move(state));
}

}  // namespace

Service::Impl::Impl(const ServiceOptions& options, std::vector<ModelSource> sources)
    : options_(options),
      sources_(std::move(sources)),
      monitor_owner_(options.monitor ? options.monitor
                                     : std::make_shared<PerfMonitor>(PerfMonitor::Options{
                                           std::chrono::seconds(metric::kWindowSeconds), 10, {}})),
      monitor_(*monitor_owner_),
      system_(SystemMonitorOptions{}),
      cache_(ResponseCacheOptions{
          std::chrono::duration_cast<std::chrono::milliseconds>(std::max(options.cache_ttl, std::chrono::seconds(0))),
          options.cache_bytes, {}}) {
  PerfMonitor& m = monitor_;
  const std::vector<double> token_bounds = {1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096};
  const std::vector<double> seq_bounds = {1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 64};
  // Both scopes share metric names, told apart by the model label; request
  // outcomes are llm_requests_<outcome> process-wide and
  // requests{model, outcome} per model.
  auto resolve = [&](ScopeMetrics& s, const MetricLabels& l, const auto& outcome) {
    s.inference = Timer(m, metric::kInference, l);
    s.ttft = Timer(m, metric::kTtft, l);
    s.tpot = Timer(m, metric::kTpot, l);
    s.queue_wait = Timer(m, metric::kQueueWait, l);
    s.model_load = Timer(m, metric::kModelLoad, l);
    s.step = Timer(m, metric::kStep, l);
    s.batch_tokens = &m.GetHistogram(metric::kBatchTokens, l, token_bounds);
    s.batch_sequences = &m.GetHistogram(metric::kBatchSequences, l, seq_bounds);
    s.ok = outcome("ok");
    s.failed = outcome("failed");
    s.rejected = outcome("rejected");
    s.cancelled = outcome("cancelled");
    s.prefix_hits = &m.GetCounter("prefix_cache_hits", l);
    s.prefix_misses = &m.GetCounter("prefix_cache_misses", l);
    s.prompt_tokens = &m.GetCounter("prompt_tokens_total", l);
    s.cached_prompt_tokens = &m.GetCounter("prompt_tokens_cached_total", l);
    s.generated_tokens = &m.GetCounter("generated_tokens_total", l);
    s.preemptions = &m.GetCounter("scheduler_preemptions_total", l);
    s.recomputed_tokens = &m.GetCounter("scheduler_recomputed_tokens_total", l);
    s.draft_tokens = &m.GetCounter("speculative_draft_tokens_total", l);
    s.accepted_draft_tokens = &m.GetCounter("speculative_accepted_tokens_total", l);
    s.loads = &m.GetCounter("model_loads_total", l);
    s.unloads = &m.GetCounter("model_unloads_total", l);
    s.embed_latency = Timer(m, metric::kEmbedding, l);
    s.embed_batch = Timer(m, metric::kEmbedBatch, l);
    s.embed_inputs = &m.GetCounter("embedding_inputs_total", l);
    s.embed_tokens = &m.GetCounter("embedding_tokens_total", l);
  };
  resolve(global_, {}, [&](const char* o) { return &m.GetCounter(std::string("llm_requests_") + o); });
  // Embedding outcomes: embedding_requests_<outcome> process-wide,
  // embedding_requests{model, outcome} per model (as the generation ones).
  auto embed_outcomes = [](ScopeMetrics& s, const auto& outcome) {
    s.embed_ok = outcome("ok");
    s.embed_failed = outcome("failed");
    s.embed_rejected = outcome("rejected");
    s.embed_cancelled = outcome("cancelled");
  };
  embed_outcomes(global_, [&](const char* o) { return &m.GetCounter(std::string("embedding_requests_") + o); });
  global_.embed_requests_total = &m.GetCounter("embedding_requests_total");
  global_.requests_total = &m.GetCounter("llm_requests_total");
  global_.cache_hits = &m.GetCounter("llm_cache_hits");
  global_.cache_misses = &m.GetCounter("llm_cache_misses");
  per_model_.resize(sources_.size());
  for (size_t i = 0; i < sources_.size(); ++i) {
    const std::string& name = sources_[i].name;
    resolve(per_model_[i], {{"model", name}},
            [&](const char* o) { return &m.GetCounter("requests", {{"model", name}, {"outcome", o}}); });
    embed_outcomes(per_model_[i],
                   [&](const char* o) { return &m.GetCounter("embedding_requests", {{"model", name}, {"outcome", o}}); });
  }
  // GPU kernels round differently from the CPU's: cached answers are per placement.
  engine_fingerprint_ = fmt::format("kv={};ctx={};block={};gpu={}", KvTypeName(options_.scheduler.kv_type),
                                    options_.scheduler.n_ctx, options_.scheduler.kv_block_size,
                                    options_.scheduler.gpu_layers);

  ModelManagerOptions mo;
  mo.max_loaded_models = options_.max_loaded_models;
  mo.memory_budget_bytes = options_.memory_budget_bytes;
  mo.keep_alive = std::chrono::duration_cast<std::chrono::milliseconds>(options_.keep_alive);
  mo.on_load = [this](const ModelSource& src, double ms, const Status& status) {
    ForBoth(global_, per_model_[SlotOf(src)], [&](ScopeMetrics& s) {
      s.model_load->Record(ms, status.ok());
      if (status.ok()) s.loads->Increment();
    });
    if (!status.ok()) {
      spdlog::error("loading model {} failed: {}", src.name, status.ToString());
    }
  };
  mo.on_unload = [this](const ModelSource& src, std::string_view) {
    ForBoth(global_, per_model_[SlotOf(src)], [](ScopeMetrics& s) { s.unloads->Increment(); });
  };
  ModelLoader loader = [this](const ModelSource& src) -> Result<std::unique_ptr<LoadedModel>> {
    const size_t slot = SlotOf(src);
    auto loaded = std::make_unique<LoadedModel>();
    ModelLoadOptions load;
    load.repack = options_.repack;
    load.packed_cache.dir = options_.packed_cache_dir;
    load.packed_cache.max_bytes = options_.packed_cache_bytes;
    // Placement is decided once, at load (the file gives the layer count): the
    // layers left unpacked are exactly those the engine offloads.
    GpuLayerPlan gpu;
    load.cpu_layers = PlanGpuLayersAtLoad(options_.scheduler.gpu_layers, &gpu);
    JARVIS_ASSIGN_OR_RETURN(loaded->model, Model::Load(src.path, load));
    SchedulerOptions so = options_.scheduler;
    so.gpu_layers = gpu.gpu_layers;
    if (loaded->model->hparams().spec->encoder) {
      so.speculation = SpeculationOptions();  // an embedding model never generates, so never drafts
    } else {
      so.draft_model = draft_.model;
      so.draft_gpu_layers = draft_.gpu_layers;
    }
    ModelMetrics* mm = &per_model_[slot];
    GlobalMetrics* g = &global_;
    so.on_step = [mm, g, user = options_.scheduler.on_step](const StepStats& s) {
      if (s.batch_tokens > 0) {
        const int32_t seqs = s.decode_tokens + (s.prefill_tokens > 0 ? 1 : 0);
        ForBoth(*g, *mm, [&](ScopeMetrics& scope) {
          scope.step->Record(s.step_ms);
          scope.batch_tokens->Record(s.batch_tokens);
          scope.batch_sequences->Record(seqs);
        });
      }
      if (s.embed_inputs > 0) ForBoth(*g, *mm, [&](ScopeMetrics& scope) { scope.embed_batch->Record(s.embed_ms); });
      if (s.draft_tokens > 0) {
        ForBoth(*g, *mm, [&](ScopeMetrics& scope) {
          scope.draft_tokens->Increment(s.draft_tokens);
          scope.accepted_draft_tokens->Increment(s.accepted_draft_tokens);
        });
      }
      if (s.preemptions > 0 || s.recomputed_tokens > 0) {
        ForBoth(*g, *mm, [&](ScopeMetrics& scope) {
          scope.preemptions->Increment(s.preemptions);
          scope.recomputed_tokens->Increment(s.recomputed_tokens);
        });
      }
      if (user) user(s);
    };
    JARVIS_ASSIGN_OR_RETURN(loaded->scheduler, Scheduler::Create(*loaded->model, so));
    return loaded;
  };
  manager_ = std::make_unique<ModelManager>(sources_, std::move(mo), std::move(loader));
}

size_t Service::Impl::SlotOf(const ModelSource& src) const {
  for (size_t i = 0; i < sources_.size(); ++i) {
    if (sources_[i].name == src.name) return i;
  }
  return 0;  // unreachable: the manager's sources are ours
}

Result<size_t> Service::Impl::ResolveModel(const std::string& name) const {
  if (name.empty()) return default_slot_;
  for (size_t i = 0; i < sources_.size(); ++i) {
    if (sources_[i].name == name) return i;
  }
  return Status::NotFound(fmt::format("model '{}' not found", name));
}

void Service::Impl::CountOutcome(size_t slot, Outcome outcome) {
  ForBoth(global_, per_model_[slot], [outcome](ScopeMetrics& s) {
    switch (outcome) {
      case Outcome::kOk: s.ok->Increment(); break;
      case Outcome::kFailed: s.failed->Increment(); break;
      case Outcome::kRejected: s.rejected->Increment(); break;
      case Outcome::kCancelled: s.cancelled->Increment(); break;
    }
  });
}

void Service::Impl::RecordCompletion(Inflight& inflight, const GenerateResult& r) {
  const Outcome outcome = r.finish == FinishReason::kError       ? Outcome::kFailed
                          : r.finish == FinishReason::kCancelled ? Outcome::kCancelled
                                                                 : Outcome::kOk;
  CountOutcome(inflight.slot, outcome);
  const bool success = outcome != Outcome::kFailed;
  const RequestTimings& t = r.timings;
  ForBoth(global_, per_model_[inflight.slot], [&](ScopeMetrics& s) {
    s.inference->Record(t.total_ms, success);
    if (r.completion_tokens > 0) {
      s.ttft->Record(t.ttft_ms);
      s.queue_wait->Record(t.queue_ms);
    }
    if (r.completion_tokens >= 2) s.tpot->Record(t.per_token_ms);
    s.prompt_tokens->Increment(r.prompt_tokens);
    s.cached_prompt_tokens->Increment(r.cached_prompt_tokens);
    s.generated_tokens->Increment(r.completion_tokens);
    if (r.prompt_tokens > 0 && outcome != Outcome::kFailed) {
      (r.cached_prompt_tokens > 0 ? s.prefix_hits : s.prefix_misses)->Increment();
    }
  });
  if (!inflight.cache_key.empty() && outcome == Outcome::kOk) {
    std::vector<TokenEvent> events;
    {
      std::lock_guard<std::mutex> lock(inflight.mu);
      events = std::move(inflight.events);
    }
    StoreInCaches(inflight.cache_key, r, std::move(events));
  }
}

std::string Service::Impl::CacheKey(size_t slot, const GenerateRequest& request) {
  return ResponseCache::MakeKey(CacheDigest(slot) + ";" + engine_fingerprint_, request);
}

std::optional<CachedResponse> Service::Impl::LookupCaches(const std::string& key) const {
  if (cache_.enabled()) {
    if (auto hit = cache_.Lookup(key)) return hit;
  }
  if (!redis_cache_) return std::nullopt;
  auto hit = redis_cache_->Lookup(key);
  if (hit && cache_.enabled()) cache_.Insert(key, hit->result, hit->events);  // the next one stays local
  return hit;
}

// Runs on the scheduler's thread: the Redis write is only queued here.
void Service::Impl::StoreInCaches(const std::string& key, const GenerateResult& result,
                                  std::vector<TokenEvent> events) const {
  const bool finished = result.finish == FinishReason::kStop || result.finish == FinishReason::kLength;
  if (redis_cache_ && finished) {
    CachedResponse shared{result, events};
    shared.result.from_response_cache = false;
    redis_cache_->Store(key, std::move(shared));
  }
  if (cache_.enabled()) cache_.Insert(key, result, std::move(events));
}

bool ModelFileDamaged(const ModelLease& lease) {
  const Model* model = lease ? lease.instance().model.get() : nullptr;
  if (model == nullptr || model->gguf().tensors().empty()) return false;
  if (model->packed() != nullptr && model->packed()->damaged()) return true;
  return MappingDamagedAt(model->gguf().tensors().front().data);
}

Status ModelFileChangedError(const ModelLease& lease) {
  return Status::Corruption("model file " + lease.source().path +
                            " changed on disk while this request ran; it is reloaded on the next request");
}

std::string Service::Impl::CacheDigest(size_t slot) {
  const ModelSource& src = sources_[slot];
  auto identity = StatFileIdentity(src.path);
  if (!identity.ok()) return src.digest + "/gone";  // the request fails at load; nothing is cached
  std::lock_guard<std::mutex> lock(digest_mu_);
  auto it = digests_.find(slot);
  if (it != digests_.end() && it->second.identity == *identity) return it->second.key;
  auto content = ContentDigest(src.path);
  FileDigest d{*identity, fmt::format("{}/{:x}-{:x}-{:x}-{:x}", content.ok() ? *content : std::string("unreadable"),
                                      identity->device, identity->inode, identity->size, identity->mtime_ns)};
  FileDigest& stored = digests_[slot] = std::move(d);
  return stored.key;
}

Result<RequestHandle> Service::Impl::Submit(GenerateRequest request) {
  global_.requests_total->Increment();
  auto resolved = ResolveModel(request.model);
  if (!resolved.ok()) {
    global_.failed->Increment();
    return resolved.status();
  }
  const size_t slot = *resolved;
  if (!ready_.load()) {
    CountOutcome(slot, Outcome::kRejected);
    return Status::Cancelled("the service is shutting down");
  }
  request.model = sources_[slot].name;

  auto inflight = std::make_shared<Inflight>();
  inflight->impl = this;
  inflight->slot = slot;
  if (CacheEnabled() && ResponseCache::IsCacheable(request)) {
    const auto t0 = std::chrono::steady_clock::now();
    inflight->cache_key = CacheKey(slot, request);
    if (auto hit = LookupCaches(inflight->cache_key)) {
      global_.cache_hits->Increment();
      CountOutcome(slot, Outcome::kOk);
      const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
      return ReplayHandle(std::move(*hit), request, ms);
    }
    global_.cache_misses->Increment();
  }

  auto lease = manager_->Acquire(request.model);
  if (!lease.ok()) {
    CountOutcome(slot, lease.status().code() == StatusCode::kCancelled ? Outcome::kRejected : Outcome::kFailed);
    return std::move(lease).status();
  }
  Scheduler* scheduler = lease->instance().scheduler.get();
  if (scheduler == nullptr) {
    CountOutcome(slot, Outcome::kFailed);
    return Status::Internal("model " + request.model + " has no scheduler");
  }
  inflight->lease = std::move(lease).value();
  inflight->user_on_token = std::move(request.on_token);
  inflight->user_on_complete = std::move(request.on_complete);
  // The file shrank under the mapping while this request read it (the guard
  // fed zeros, util/mapping_guard.h): its output is not the model's. Such a
  // request stops at its next token (its callback asks to cancel), and its
  // result becomes the error before anyone sees it: on_complete (the HTTP
  // layer answers from it), Wait(), the future and the end of the pull stream.
  request.on_token = [inflight](const TokenEvent& event) {
    if (ModelFileDamaged(inflight->lease)) return false;
    if (!inflight->cache_key.empty()) {
      std::lock_guard<std::mutex> lock(inflight->mu);
      inflight->events.push_back(event);
    }
    return inflight->user_on_token ? inflight->user_on_token(event) : true;
  };
  Scheduler::ResultFilter fail_if_damaged = [inflight](GenerateResult& result) {
    if (result.finish == FinishReason::kError || !ModelFileDamaged(inflight->lease)) return;
    result.finish = FinishReason::kError;
    result.error = ModelFileChangedError(inflight->lease);
  };
  request.on_complete = [inflight](const GenerateResult& result) {
    if (inflight->completed.exchange(true)) return;
    inflight->impl->RecordCompletion(*inflight, result);
    inflight->lease.Release();
    if (inflight->user_on_complete) inflight->user_on_complete(result);
  };
  auto handle = scheduler->Submit(std::move(request), std::move(fail_if_damaged));
  if (!handle.ok()) {
    const StatusCode code = handle.status().code();
    CountOutcome(slot, code == StatusCode::kResourceExhausted || code == StatusCode::kCancelled ? Outcome::kRejected
                                                                                               : Outcome::kFailed);
    inflight->completed = true;
    inflight->lease.Release();
    return std::move(handle).status();
  }
  return handle;
}

Service::Service(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Service::~Service() = default;

Result<std::unique_ptr<Service>> Service::Create(const ServiceOptions& options) {
  if (options.model_paths.empty()) return Status::InvalidArgument("no model paths given");
  JARVIS_ASSIGN_OR_RETURN(std::vector<ModelSource> sources, ScanModelPaths(options.model_paths));
  std::optional<RedisEndpoint> redis;
  if (!options.cache_url.empty()) {
    auto endpoint = ParseRedisUrl(options.cache_url);
    if (!endpoint.ok()) return std::move(endpoint).status();
    redis = std::move(endpoint).value();
  }
  auto impl = std::make_unique<Impl>(options, std::move(sources));
  if (!options.draft_model_path.empty()) {
    ModelLoadOptions load;
    load.repack = options.repack;
    load.packed_cache.dir = options.packed_cache_dir;
    load.packed_cache.max_bytes = options.packed_cache_bytes;
    JARVIS_ASSIGN_OR_RETURN(impl->draft_, LoadDraftModel(options.draft_model_path, load,
                                                         options.scheduler.gpu_layers, impl->sources_));
    spdlog::info("speculative decoding with draft model {}", options.draft_model_path);
  }
  if (redis && options.cache_ttl.count() > 0) {
    RedisCacheOptions ro;
    ro.endpoint = std::move(*redis);
    ro.key_prefix = options.cache_key_prefix;
    ro.ttl = std::chrono::duration_cast<std::chrono::milliseconds>(options.cache_ttl);
    spdlog::info("response cache: shared level {} (keys '{}response:*')", ro.endpoint.Describe(), ro.key_prefix);
    impl->redis_cache_ = std::make_unique<RedisResponseCache>(std::move(ro));
  }
  if (!options.default_model.empty()) {
    JARVIS_ASSIGN_OR_RETURN(impl->default_slot_, impl->ResolveModel(options.default_model));
  } else {
    // The first model that looked servable: one corrupt file sorting first
    // must not become the default (or keep the server from starting).
    const auto& all = impl->sources_;
    auto good = std::find_if(all.begin(), all.end(), [](const ModelSource& s) { return s.error.empty(); });
    // None: the first file's own error (corrupt, unsupported, unreadable), so
    // callers can tell a bad file from a bad argument.
    if (good == all.end()) return Status(all.front().error_code, "no servable model: " + all.front().error);
    impl->default_slot_ = static_cast<size_t>(good - all.begin());
    for (const ModelSource& s : all) {
      if (!s.error.empty()) spdlog::error("model {} cannot be served: {}", s.name, s.error);
    }
  }
  return std::unique_ptr<Service>(new Service(std::move(impl)));
}

Result<RequestHandle> Service::Submit(GenerateRequest request) { return impl_->Submit(std::move(request)); }

Status Service::LoadModel(const std::string& name, std::optional<std::chrono::seconds> keep_alive, bool pin) {
  JARVIS_ASSIGN_OR_RETURN(const size_t slot, impl_->ResolveModel(name));
  if (!impl_->ready_.load()) return Status::Cancelled("the service is shutting down");
  std::optional<std::chrono::milliseconds> ka;
  if (keep_alive) ka = std::chrono::duration_cast<std::chrono::milliseconds>(*keep_alive);
  return impl_->manager_->Load(impl_->sources_[slot].name, ka, pin);
}

Status Service::UnloadModel(const std::string& name) {
  JARVIS_ASSIGN_OR_RETURN(const size_t slot, impl_->ResolveModel(name));
  return impl_->manager_->Unload(impl_->sources_[slot].name);
}

ModelFacts Service::Impl::Facts(size_t slot) const {
  std::lock_guard<std::mutex> lock(facts_mu_);
  auto it = facts_.find(slot);
  if (it != facts_.end()) return it->second;
  auto facts = ReadModelFacts(sources_[slot].path);
  if (!facts.ok()) spdlog::warn("reading the header of {}: {}", sources_[slot].path, facts.status().ToString());
  return facts_[slot] = facts.ok() ? *facts : ModelFacts{};
}

ModelInfo Service::Impl::Info(const ModelStatus& st) {
  ModelInfo info;
  const auto slot = ResolveModel(st.source.name);
  const ModelFacts facts = Facts(slot.ok() ? *slot : 0);
  info.name = st.source.name;
  info.path = st.source.path;
  info.size_bytes = st.source.size_bytes;
  info.architecture = facts.architecture;
  info.quantization = facts.quantization;
  info.parameters = facts.parameters;
  info.context_length = facts.context_length;
  info.digest = st.source.digest;
  info.loaded = st.loaded;
  info.pinned = st.pinned;
  info.load_ms = st.load_ms;
  if (st.last_used) info.last_used = ToSystem(*st.last_used);
  if (st.expires_at) info.expires_at = ToSystem(*st.expires_at);
  info.scheduler = st.scheduler;
  return info;
}

std::vector<ModelInfo> Service::ListModels() const {
  std::vector<ModelInfo> out;
  for (const ModelStatus& st : impl_->manager_->List()) out.push_back(impl_->Info(st));
  return out;
}

Result<ModelInfo> Service::GetModel(const std::string& name) const {
  JARVIS_ASSIGN_OR_RETURN(const size_t slot, impl_->ResolveModel(name));
  for (const ModelStatus& st : impl_->manager_->List()) {
    if (st.source.name == impl_->sources_[slot].name) return impl_->Info(st);
  }
  return Status::Internal("model list lost " + impl_->sources_[slot].name);
}

Result<nlohmann::json> Service::ShowModel(const std::string& name) const {
  JARVIS_ASSIGN_OR_RETURN(const size_t slot, impl_->ResolveModel(name));
  JARVIS_ASSIGN_OR_RETURN(nlohmann::json j, DescribeModel(impl_->sources_[slot]));
  JARVIS_ASSIGN_OR_RETURN(ModelInfo info, GetModel(impl_->sources_[slot].name));
  j["loaded"] = info.loaded;
  j["pinned"] = info.pinned;
  return j;
}

PerfMonitor& Service::monitor() { return impl_->monitor_; }
std::shared_ptr<PerfMonitor> Service::monitor_shared() const { return impl_->monitor_owner_; }

bool Service::Ready() const { return impl_->ready_.load(); }

void Service::Shutdown(std::chrono::milliseconds grace) {
  impl_->ready_ = false;
  impl_->manager_->Shutdown(grace);
}

}  // namespace jarvis
