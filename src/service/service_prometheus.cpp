// GET /metrics: the Prometheus text exposition format (version 0.0.4).
// Metric names and labels: docs/API.md.
#include <iterator>
#include <optional>

#include <fmt/format.h>

#include "gpu/gpu_backend.h"
#include "jarvis/build_info.h"
#include "service/service_impl.h"

namespace jarvis {
namespace {

// One histogram series of a PerfMonitor snapshot; `scale` converts the
// recorded unit (ms -> s: 1e-3).
void Histogram(PrometheusWriter& w, std::string_view name, const MetricSnapshot& m, double scale) {
  std::vector<double> bounds = m.prom_bounds;
  for (double& b : bounds) b *= scale;
  w.Histogram(name, m.labels, bounds, m.prom.cumulative, m.prom.count, m.prom.sum * scale);
}

constexpr PrometheusType kCounter = PrometheusType::kCounter;
constexpr PrometheusType kGauge = PrometheusType::kGauge;

struct Export {
  const char* metric;  // PerfMonitor name
  const char* prom;    // exported family name
  const char* help;
};

constexpr Export kTimers[] = {
    {metric::kInference, "jarvis_request_duration_seconds", "End-to-end request latency (submit to completion)."},
    {metric::kTtft, "jarvis_time_to_first_token_seconds", "Time from submit to the first generated token."},
    {metric::kTpot, "jarvis_time_per_output_token_seconds", "Mean time per generated token after the first."},
    {metric::kQueueWait, "jarvis_queue_wait_seconds", "Time from submit to the first scheduled step."},
    {metric::kModelLoad, "jarvis_model_load_seconds", "Time to load a model (map, bind weights, start scheduler)."},
    {metric::kStep, "jarvis_scheduler_step_seconds", "Duration of one batched forward step."},
    {metric::kEmbedding, "jarvis_embedding_request_duration_seconds",
     "End-to-end embedding request latency (submit to completion)."},
    {metric::kEmbedBatch, "jarvis_embedding_batch_seconds", "Duration of one batched embedding pass."},
};
constexpr Export kHistograms[] = {
    {metric::kBatchTokens, "jarvis_batch_tokens", "Tokens in one forward step (decode + prefill)."},
    {metric::kBatchSequences, "jarvis_batch_sequences", "Sequences in one forward step."},
};
constexpr Export kModelCounters[] = {
    {"requests", "jarvis_requests_total", "Requests by model and outcome (ok, failed, rejected, cancelled)."},
    {"prompt_tokens_total", "jarvis_prompt_tokens_total", "Prompt tokens of completed requests."},
    {"prompt_tokens_cached_total", "jarvis_prompt_tokens_cached_total",
     "Prompt tokens whose KV came from the prefix cache."},
    {"generated_tokens_total", "jarvis_generated_tokens_total", "Generated tokens."},
    {"prefix_cache_hits", "jarvis_prefix_cache_hits_total", "Requests that reused a cached prompt prefix."},
    {"prefix_cache_misses", "jarvis_prefix_cache_misses_total", "Requests that reused no cached prompt prefix."},
    {"scheduler_preemptions_total", "jarvis_scheduler_preemptions_total",
     "Running sequences preempted because the KV pool was full (resumed later by recompute)."},
    {"scheduler_recomputed_tokens_total", "jarvis_scheduler_recomputed_tokens_total",
     "Tokens whose KV was computed again when a preempted sequence resumed."},
    {"speculative_draft_tokens_total", "jarvis_speculative_draft_tokens_total",
     "Speculative decoding: draft tokens verified."},
    {"speculative_accepted_tokens_total", "jarvis_speculative_accepted_tokens_total",
     "Speculative decoding: draft tokens accepted (each saves one decode step)."},
    {"embedding_requests", "jarvis_embedding_requests_total",
     "Embedding requests by model and outcome (ok, failed, rejected, cancelled)."},
    {"embedding_inputs_total", "jarvis_embedding_inputs_total", "Inputs embedded (texts or token arrays)."},
    {"embedding_tokens_total", "jarvis_embedding_tokens_total", "Tokens of the inputs embedded."},
    {"model_loads_total", "jarvis_model_loads_total", "Successful model loads."},
    {"model_unloads_total", "jarvis_model_unloads_total", "Model unloads (LRU, keep-alive, explicit, shutdown)."},
};

}  // namespace

void Service::Impl::WritePrometheus(PrometheusWriter& w) const {
  const std::vector<MetricSnapshot> all = monitor_.GetAllStats();
  auto labeled = [&all](const char* name, MetricKind kind) {
    std::vector<const MetricSnapshot*> out;
    for (const MetricSnapshot& m : all) {
      if (m.name == name && m.kind == kind && !m.labels.empty()) out.push_back(&m);
    }
    return out;
  };
  for (const Export& e : kTimers) {
    w.Family(e.prom, PrometheusType::kHistogram, e.help);
    for (const MetricSnapshot* m : labeled(e.metric, MetricKind::kTimer)) Histogram(w, e.prom, *m, 1e-3);
  }
  for (const Export& e : kHistograms) {
    w.Family(e.prom, PrometheusType::kHistogram, e.help);
    for (const MetricSnapshot* m : labeled(e.metric, MetricKind::kHistogram)) Histogram(w, e.prom, *m, 1.0);
  }
  for (const Export& e : kModelCounters) {
    w.Family(e.prom, kCounter, e.help);
    for (const MetricSnapshot* m : labeled(e.metric, MetricKind::kCounter)) w.Sample(e.prom, m->labels, m->value);
  }

  const ResponseCacheStats c = cache_.Stats();
  w.Family("jarvis_response_cache_hits_total", kCounter, "Requests answered from the response cache.");
  w.Sample("jarvis_response_cache_hits_total", {}, static_cast<double>(global_.cache_hits->value()));
  w.Family("jarvis_response_cache_misses_total", kCounter, "Cacheable requests not found in the response cache.");
  w.Sample("jarvis_response_cache_misses_total", {}, static_cast<double>(global_.cache_misses->value()));
  w.Family("jarvis_response_cache_evictions_total", kCounter, "Response-cache entries evicted (LRU, byte bound).");
  w.Sample("jarvis_response_cache_evictions_total", {}, static_cast<double>(c.evictions));
  w.Family("jarvis_response_cache_expirations_total", kCounter, "Response-cache entries expired (TTL).");
  w.Sample("jarvis_response_cache_expirations_total", {}, static_cast<double>(c.expirations));
  w.Family("jarvis_response_cache_bytes", kGauge, "Bytes held by the response cache.");
  w.Sample("jarvis_response_cache_bytes", {}, static_cast<double>(c.bytes));
  w.Family("jarvis_response_cache_entries", kGauge, "Entries in the response cache.");
  w.Sample("jarvis_response_cache_entries", {}, static_cast<double>(c.entries));
  // Per level: "local" (this process) and, with --cache-url, "redis" (shared).
  // A Redis miss includes lookups skipped while it is down or busy and values ignored as invalid.
  std::optional<RedisCacheStats> r;
  if (redis_cache_) r = redis_cache_->Stats();
  auto per_backend = [&](const char* name, PrometheusType type, const char* help, double local, auto redis) {
    w.Family(name, type, help);
    w.Sample(name, {{"backend", "local"}}, local);
    if (r) w.Sample(name, {{"backend", "redis"}}, static_cast<double>(redis(*r)));
  };
  per_backend("jarvis_response_cache_backend_hits_total", kCounter, "Response-cache lookups answered, per level.",
              static_cast<double>(c.hits), [](const RedisCacheStats& x) { return x.hits; });
  per_backend("jarvis_response_cache_backend_misses_total", kCounter,
              "Response-cache lookups not answered, per level.", static_cast<double>(c.misses),
              [](const RedisCacheStats& x) { return x.misses + x.skipped + x.invalid; });
  per_backend("jarvis_response_cache_backend_errors_total", kCounter,
              "Failed response-cache commands and connection attempts, per level.", 0.0,
              [](const RedisCacheStats& x) { return x.errors; });
  if (r) {
    const std::pair<const char*, double> redis_only[] = {
        {"jarvis_response_cache_redis_skipped_total", static_cast<double>(r->skipped)},
        {"jarvis_response_cache_redis_invalid_total", static_cast<double>(r->invalid)},
        {"jarvis_response_cache_redis_stores_total", static_cast<double>(r->stores)},
        {"jarvis_response_cache_redis_dropped_stores_total", static_cast<double>(r->dropped_stores)},
        {"jarvis_response_cache_redis_connects_total", static_cast<double>(r->reconnects)},
    };
    const char* help[] = {
        "Redis lookups not tried: Redis down or every connection busy.",
        "Values under a jarvis key that did not decode for it (corrupt or foreign): ignored.",
        "Answers written to Redis.",
        "Answers not written to Redis: queue full, too large, Redis down or erroring.",
        "Successful connections to Redis (the first and every reconnection).",
    };
    for (size_t i = 0; i < std::size(redis_only); ++i) {
      w.Family(redis_only[i].first, kCounter, help[i]);
      w.Sample(redis_only[i].first, {}, redis_only[i].second);
    }
    w.Family("jarvis_response_cache_redis_up", kGauge, "1 while connected to the Redis of the response cache.");
    w.Sample("jarvis_response_cache_redis_up", {}, r->connected ? 1 : 0);
  }

  const std::vector<ModelStatus> models = manager_->List();
  int loaded = 0;
  w.Family("jarvis_model_loaded", kGauge, "1 while the model is resident.");
  for (const ModelStatus& st : models) {
    loaded += st.loaded;
    w.Sample("jarvis_model_loaded", {{"model", st.source.name}}, st.loaded ? 1 : 0);
  }
  w.Family("jarvis_models_loaded", kGauge, "Models resident.");
  w.Sample("jarvis_models_loaded", {}, loaded);
  struct Gauge {
    const char* name;
    const char* help;
    double (*get)(const SchedulerStats&);
  };
  const Gauge gauges[] = {
      {"jarvis_requests_running", "Sequences decoding.", [](const SchedulerStats& s) { return double(s.running); }},
      {"jarvis_requests_waiting", "Requests queued.", [](const SchedulerStats& s) { return double(s.waiting); }},
      {"jarvis_kv_cache_usage_ratio", "KV blocks held by running sequences / all KV blocks.",
       [](const SchedulerStats& s) {
         return s.kv_blocks_total > 0 ? double(s.kv_blocks_used) / double(s.kv_blocks_total) : 0.0;
       }},
      {"jarvis_kv_cache_blocks_used", "KV blocks held by running sequences.",
       [](const SchedulerStats& s) { return double(s.kv_blocks_used); }},
      {"jarvis_kv_cache_blocks_cached", "Unreferenced KV blocks kept for prefix reuse.",
       [](const SchedulerStats& s) { return double(s.kv_blocks_cached); }},
      {"jarvis_kv_cache_blocks_capacity", "KV blocks in the pool.",
       [](const SchedulerStats& s) { return double(s.kv_blocks_total); }},
  };
  for (const Gauge& g : gauges) {
    w.Family(g.name, kGauge, g.help);
    for (const ModelStatus& st : models) {
      if (st.loaded) w.Sample(g.name, {{"model", st.source.name}}, g.get(st.scheduler));
    }
  }
  // The same, for the whole process and always present (0 with no model
  // loaded): what a load balancer compares between replicas, e.g. the Gateway
  // API Inference Extension's endpoint picker (TotalQueuedRequests,
  // TotalRunningRequests, KVCacheUtilization of its model-server protocol;
  // deploy/k8s names them).
  double waiting = 0, running = 0, kv_used = 0, kv_total = 0;
  for (const ModelStatus& st : models) {
    if (!st.loaded) continue;
    waiting += st.scheduler.waiting;
    running += st.scheduler.running;
    kv_used += static_cast<double>(st.scheduler.kv_blocks_used);
    kv_total += static_cast<double>(st.scheduler.kv_blocks_total);
  }
  w.Family("jarvis_server_requests_waiting", kGauge, "Requests queued, all models.");
  w.Sample("jarvis_server_requests_waiting", {}, waiting);
  w.Family("jarvis_server_requests_running", kGauge, "Sequences decoding, all models.");
  w.Sample("jarvis_server_requests_running", {}, running);
  w.Family("jarvis_server_kv_cache_usage_ratio", kGauge, "KV blocks held / all KV blocks, all loaded models (0..1).");
  w.Sample("jarvis_server_kv_cache_usage_ratio", {}, kv_total > 0 ? kv_used / kv_total : 0.0);

  const SystemSnapshot s = system_.Latest();
  auto opt_gauge = [&w](const char* name, const char* help, const auto& v, double scale = 1.0) {
    if (!v) return;
    w.Family(name, kGauge, help);
    w.Sample(name, {}, static_cast<double>(*v) * scale);
  };
  opt_gauge("jarvis_cpu_percent", "Machine CPU use, percent.", s.cpu_percent);
  opt_gauge("jarvis_process_cpu_percent", "This process's CPU use, percent of all CPUs.", s.process_cpu_percent);
  opt_gauge("jarvis_memory_percent", "Machine memory in use, percent.", s.memory_percent);
  opt_gauge("jarvis_process_resident_memory_bytes", "Resident set size of this process.", s.process_rss_bytes);
  opt_gauge("jarvis_gpu_memory_used_bytes", "GPU memory in use, all processes.", s.gpu_memory_reserved_gb,
            1024.0 * 1024.0 * 1024.0);
  opt_gauge("jarvis_gpu_memory_total_bytes", "GPU memory, all devices.", s.gpu_memory_total_gb,
            1024.0 * 1024.0 * 1024.0);
  opt_gauge("jarvis_gpu_utilization_percent", "GPU utilisation, mean over devices.", s.gpu_utilization_percent);
  const GpuProbe& probe = ProbeGpus();
  w.Family("jarvis_cuda_built", kGauge, "1 if this binary has the CUDA backend.");
  w.Sample("jarvis_cuda_built", {}, probe.cuda_built ? 1 : 0);
  w.Family("jarvis_gpu_devices", kGauge, "Usable CUDA devices found at startup.");
  w.Sample("jarvis_gpu_devices", {}, static_cast<double>(probe.devices.size()));
  w.Family("jarvis_model_gpu_layers", kGauge, "Layers of the loaded model offloaded to the GPU.");
  for (const ModelStatus& st : models) {
    if (st.loaded) w.Sample("jarvis_model_gpu_layers", {{"model", st.source.name}}, st.scheduler.gpu_layers);
  }
  w.Family("jarvis_model_gpu_bytes", kGauge, "Device memory (weights + KV) of the loaded model's GPU offload.");
  for (const ModelStatus& st : models) {
    if (st.loaded) {
      w.Sample("jarvis_model_gpu_bytes", {{"model", st.source.name}}, static_cast<double>(st.scheduler.gpu_bytes));
    }
  }
  w.Family("jarvis_uptime_seconds", kGauge, "Seconds since the service started.");
  w.Sample("jarvis_uptime_seconds", {}, s.uptime_seconds);
  w.Family("jarvis_build_info", kGauge, "Build facts (value is always 1).");
  w.Sample("jarvis_build_info", {{"version", JARVIS_VERSION_STRING}, {"commit", JARVIS_GIT_COMMIT}, {"backend", BuiltBackends()}},
           1);
}

}  // namespace jarvis
