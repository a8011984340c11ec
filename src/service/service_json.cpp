// The JSON documents of the monitoring API (field reference: docs/API.md).
#include <ctime>

#include <fmt/format.h>

#include "gpu/gpu_backend.h"
#include "jarvis/build_info.h"
#include "kernels/cpu/isa.h"
#include "service/service_impl.h"
#include "util/cpu_features.h"

namespace jarvis {
namespace {

// The JARVIS timer object: exactly these eight fields.
nlohmann::json TimerJson(const DistributionStats& s) {
  return {{"avg_ms", s.avg},         {"min_ms", s.min}, {"max_ms", s.max},
          {"p50_ms", s.p50},         {"p95_ms", s.p95}, {"p99_ms", s.p99},
          {"count", s.count},        {"success_rate", s.success_rate}};
}

nlohmann::json HistogramJson(const DistributionStats& s) {
  return {{"avg", s.avg}, {"min", s.min}, {"max", s.max}, {"p50", s.p50},
          {"p95", s.p95}, {"p99", s.p99}, {"count", s.count}};
}

nlohmann::json TimeOrNull(const std::optional<std::chrono::steady_clock::time_point>& t) {
  return t ? nlohmann::json(FormatTime(ToSystem(*t))) : nlohmann::json(nullptr);
}

double KeepAliveSeconds(std::chrono::milliseconds ms) { return std::chrono::duration<double>(ms).count(); }

// Which backends this binary has and which devices the machine offers.
nlohmann::json BackendsJson() {
  const GpuProbe& probe = ProbeGpus();
  nlohmann::json devices = nlohmann::json::array();
  for (const GpuDevice& d : probe.devices) {
    devices.push_back({{"index", d.index},
                       {"name", d.name},
                       {"compute_capability", fmt::format("{}.{}", d.compute_major, d.compute_minor)},
                       {"memory_total_bytes", d.memory_total_bytes}});
  }
  return {
      {"cpu", {{"kernels", KernelIsaName(ActiveKernelIsa())}}},
      {"cuda",
       {{"built", probe.cuda_built},
        {"version", probe.cuda_built ? nlohmann::json(probe.cuda_build_version) : nlohmann::json(nullptr)},
        {"driver_version", probe.driver_version > 0 ? nlohmann::json(probe.driver_version) : nlohmann::json(nullptr)},
        {"devices", devices},
        {"reason", probe.devices.empty() ? nlohmann::json(probe.unavailable_reason) : nlohmann::json(nullptr)}}},
  };
}

}  // namespace

const char* BuiltBackends() { return ProbeGpus().cuda_built ? "cpu+cuda" : "cpu"; }

std::chrono::system_clock::time_point ToSystem(std::chrono::steady_clock::time_point t) {
  const auto sys_now = std::chrono::system_clock::now();
  const auto steady_now = std::chrono::steady_clock::now();
  return sys_now + std::chrono::duration_cast<std::chrono::system_clock::duration>(t - steady_now);
}

std::string FormatTime(std::chrono::system_clock::time_point t) {
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
  const std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
  return fmt::format("{}.{:03d}Z", buf, static_cast<int>(ms % 1000));
}

nlohmann::json Service::Impl::PerformanceStats() const {
  nlohmann::json j = nlohmann::json::object();
  nlohmann::json window = nlohmann::json::object();
  nlohmann::json counters = nlohmann::json::object();
  nlohmann::json histograms = nlohmann::json::object();
  for (const MetricSnapshot& m : monitor_.GetAllStats()) {
    if (!m.labels.empty()) continue;  // per-model series are in /metrics
    switch (m.kind) {
      case MetricKind::kTimer:
        j[m.name] = TimerJson(m.lifetime);
        window[m.name] = TimerJson(m.window);
        break;
      case MetricKind::kHistogram:
        histograms[m.name] = HistogramJson(m.lifetime);
        break;
      case MetricKind::kCounter: counters[m.name] = static_cast<int64_t>(m.value); break;
      case MetricKind::kGauge: break;  // reported under "gauges" below
    }
  }
  window["seconds"] = metric::kWindowSeconds;
  j["counters"] = counters;
  j["histograms"] = histograms;
  int32_t running = 0, waiting = 0, loaded = 0, embed_waiting = 0;
  int64_t kv_used = 0, kv_total = 0;
  for (const ModelStatus& st : manager_->List()) {
    if (!st.loaded) continue;
    ++loaded;
    running += st.scheduler.running;
    waiting += st.scheduler.waiting;
    embed_waiting += st.scheduler.embed_waiting;
    kv_used += st.scheduler.kv_blocks_used;
    kv_total += st.scheduler.kv_blocks_total;
  }
  j["gauges"] = {{"running_requests", running},
                 {"waiting_requests", waiting},
                 {"waiting_embedding_requests", embed_waiting},
                 {"kv_cache_usage", kv_total > 0 ? static_cast<double>(kv_used) / static_cast<double>(kv_total) : 0.0},
                 {"loaded_models", loaded}};
  j["window"] = window;
  const SystemSnapshot s = system_.Latest();
  auto or_null = [](const std::optional<double>& v) { return v ? nlohmann::json(*v) : nlohmann::json(nullptr); };
  j["system"] = {{"cpu_percent", or_null(s.cpu_percent)},
                 {"memory_percent", or_null(s.memory_percent)},
                 {"gpu_memory_allocated_gb", or_null(s.gpu_memory_allocated_gb)},
                 {"gpu_memory_reserved_gb", or_null(s.gpu_memory_reserved_gb)}};
  j["uptime_seconds"] = s.uptime_seconds;
  j["response_cache"] = ResponseCacheJson();
  return j;
}

nlohmann::json Service::Impl::SystemMetrics() const {
  nlohmann::json j = ToJson(system_.Latest());
  j["build"] = {
      {"version", JARVIS_VERSION_STRING},
      {"commit", JARVIS_GIT_COMMIT},
      {"backend", BuiltBackends()},
      {"kernel_isa", KernelIsaName(ActiveKernelIsa())},
      {"cpu_features", GetCpuFeatures().ToString()},
      {"compiler", fmt::format("g++ {}.{}.{}", __GNUC__, __GNUC_MINOR__, __GNUC_PATCHLEVEL__)},
  };
  j["backends"] = BackendsJson();
  return j;
}

nlohmann::json Service::Impl::ModelsStats() const {
  nlohmann::json loaded = nlohmann::json::array();
  nlohmann::json available = nlohmann::json::array();
  uint64_t loaded_bytes = 0;
  for (const ModelStatus& st : manager_->List()) {
    const auto slot = ResolveModel(st.source.name);
    const ModelFacts facts = Facts(slot.ok() ? *slot : 0);
    available.push_back({{"name", st.source.name},
                         {"path", st.source.path},
                         {"size_bytes", st.source.size_bytes},
                         {"digest", st.source.digest},
                         {"architecture", facts.architecture},
                         {"quantization", facts.quantization},
                         {"parameters", facts.parameters},
                         {"loaded", st.loaded},
                         {"error", st.error.empty() ? nlohmann::json(nullptr) : nlohmann::json(st.error)}});
    if (!st.loaded && !st.loading) continue;
    loaded_bytes += st.source.size_bytes;
    const SchedulerStats& sch = st.scheduler;
    loaded.push_back({
        {"name", st.source.name},
        {"size_bytes", st.source.size_bytes},
        {"quantization", facts.quantization},
        {"state", st.loaded ? "loaded" : "loading"},
        {"backend", st.loaded ? nlohmann::json(sch.backend) : nlohmann::json(nullptr)},
        {"gpu_layers", sch.gpu_layers},
        {"gpu_bytes", sch.gpu_bytes},
        {"pinned", st.pinned},
        {"unload_requested", st.unload_requested},
        {"load_ms", st.load_ms},
        {"load_count", st.load_count},
        {"unload_count", st.unload_count},
        {"loaded_at", TimeOrNull(st.loaded_at)},
        {"last_used", TimeOrNull(st.last_used)},
        {"expires_at", TimeOrNull(st.expires_at)},
        {"keep_alive_seconds", KeepAliveSeconds(st.keep_alive)},
        {"active_requests", st.active_requests},
        {"running_requests", sch.running},
        {"queued_requests", sch.waiting},
        {"kv_blocks_total", sch.kv_blocks_total},
        {"kv_blocks_used", sch.kv_blocks_used},
        {"kv_blocks_cached", sch.kv_blocks_cached},
        {"kv_usage", sch.kv_blocks_total > 0
                         ? static_cast<double>(sch.kv_blocks_used) / static_cast<double>(sch.kv_blocks_total)
                         : 0.0},
        {"steps", sch.steps},
        {"prefix_cache_hits", sch.prefix_cache_hits},
        {"prefix_cache_misses", sch.prefix_cache_misses},
        {"prompt_tokens_computed", sch.prompt_tokens_computed},
        {"prompt_tokens_cached", sch.prompt_tokens_cached},
        {"generated_tokens", sch.generated_tokens},
        {"preemptions", sch.preemptions},
        {"recomputed_tokens", sch.recomputed_tokens},
        {"draft_tokens", sch.draft_tokens},
        {"accepted_draft_tokens", sch.accepted_draft_tokens},
        {"embedding_requests", sch.embed_requests},
        {"embedding_inputs", sch.embed_inputs},
        {"embedding_tokens", sch.embed_tokens},
        {"embedding_batches", sch.embed_batches},
        {"queued_embedding_requests", sch.embed_waiting},
    });
  }
  return {
      {"loaded", loaded},
      {"available", available},
      {"default_model", sources_[default_slot_].name},
      {"limits",
       {{"max_loaded_models", options_.max_loaded_models},
        {"memory_budget_bytes", options_.memory_budget_bytes},
        {"loaded_bytes", loaded_bytes},
        {"over_limit_loads", manager_->over_limit_loads()},
        {"default_keep_alive_seconds", static_cast<double>(options_.keep_alive.count())}}},
      {"response_cache", ResponseCacheJson()},
  };
}

nlohmann::json Service::Impl::ResponseCacheJson() const {
  const ResponseCacheStats c = cache_.Stats();
  nlohmann::json j = {{"enabled", CacheEnabled()},
                      {"hits", c.hits},
                      {"misses", c.misses},
                      {"hit_rate", c.hit_rate},
                      {"insertions", c.insertions},
                      {"evictions", c.evictions},
                      {"expirations", c.expirations},
                      {"rejected", c.rejected},
                      {"entries", c.entries},
                      {"bytes", c.bytes},
                      {"capacity_bytes", c.capacity_bytes},
                      {"ttl_seconds", c.ttl_seconds}};
  j["backends"]["local"] = {{"hits", c.hits}, {"misses", c.misses}, {"errors", 0}};
  if (redis_cache_) {
    const RedisCacheStats r = redis_cache_->Stats();
    j["backends"]["redis"] = {{"endpoint", r.endpoint},       {"connected", r.connected},
                              {"hits", r.hits},               {"misses", r.misses + r.skipped + r.invalid},
                              {"errors", r.errors},           {"skipped", r.skipped},
                              {"invalid", r.invalid},         {"stores", r.stores},
                              {"dropped_stores", r.dropped_stores}, {"connects", r.reconnects}};
  }
  return j;
}

nlohmann::json Service::PerformanceStats() const { return impl_->PerformanceStats(); }
nlohmann::json Service::SystemMetrics() const { return impl_->SystemMetrics(); }
nlohmann::json Service::ModelsStats() const { return impl_->ModelsStats(); }
std::string Service::PrometheusText() const {
  PrometheusWriter w;
  impl_->WritePrometheus(w);
  return w.Text();
}
void Service::WritePrometheus(PrometheusWriter& out) const { impl_->WritePrometheus(out); }

}  // namespace jarvis
