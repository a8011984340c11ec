// Service::Impl: the parts behind the Service facade (service.h), shared by
// service.cpp (requests, model control), service_json.cpp (the monitoring
// JSON documents) and service_prometheus.cpp (/metrics).
//
// Lifetimes: manager_ is declared last, so it is destroyed first: every
// scheduler (and with it every request closure that points back here) is gone
// before the monitor and the caches are.
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "service/model_catalog.h"
#include "service/draft_model_loader.h"
#include "service/model_manager.h"
#include "service/response_cache.h"
#include "service/response_cache_redis.h"
#include "service/service.h"
#include "service/system_monitor.h"
#include "util/perf_monitor.h"
#include "util/prometheus_writer.h"

namespace jarvis {

// Names of the built-in metrics (docs/API.md lists them all).
namespace metric {
inline constexpr int kWindowSeconds = 300;  // the PerfMonitor's sliding window
inline constexpr const char* kInference = "llm_inference";  // end to end, per request
inline constexpr const char* kTtft = "time_to_first_token";
inline constexpr const char* kTpot = "time_per_output_token";
inline constexpr const char* kQueueWait = "queue_wait";
inline constexpr const char* kModelLoad = "model_load";
inline constexpr const char* kStep = "scheduler_step";
inline constexpr const char* kBatchTokens = "batch_tokens";        // histogram, per step
inline constexpr const char* kBatchSequences = "batch_sequences";  // histogram, per step
inline constexpr const char* kEmbedding = "embedding_request";  // end to end, per embedding request
inline constexpr const char* kEmbedBatch = "embedding_batch";    // one Engine::Embed batch
inline constexpr const char* kTimers[] = {kInference, kTtft, kTpot, kQueueWait, kModelLoad, kStep, kEmbedding,
                                          kEmbedBatch};
}  // namespace metric

// The metrics kept twice, once for the whole process (no labels: the JSON
// documents read these) and once per model (label model=<name>), resolved
// once. Record into both with ForBoth().
struct ScopeMetrics {
  PerfDistribution* inference = nullptr;
  PerfDistribution* ttft = nullptr;
  PerfDistribution* tpot = nullptr;
  PerfDistribution* queue_wait = nullptr;
  PerfDistribution* model_load = nullptr;
  PerfDistribution* step = nullptr;
  PerfDistribution* batch_tokens = nullptr;
  PerfDistribution* batch_sequences = nullptr;
  PerfCounter* ok = nullptr;
  PerfCounter* failed = nullptr;
  PerfCounter* rejected = nullptr;
  PerfCounter* cancelled = nullptr;
  PerfCounter* prompt_tokens = nullptr;
  PerfCounter* cached_prompt_tokens = nullptr;
  PerfCounter* generated_tokens = nullptr;
  PerfCounter* prefix_hits = nullptr;
  PerfCounter* prefix_misses = nullptr;
  PerfCounter* preemptions = nullptr;        // sequences preempted for want of KV
  PerfCounter* recomputed_tokens = nullptr;  // KV prefilled again on resuming them
  PerfCounter* draft_tokens = nullptr;           // speculative decoding: drafts verified
  PerfCounter* accepted_draft_tokens = nullptr;  // and accepted
  PerfCounter* loads = nullptr;
  PerfCounter* unloads = nullptr;
  // Embedding requests: latency, outcome, inputs and tokens embedded.
  PerfDistribution* embed_latency = nullptr;
  PerfDistribution* embed_batch = nullptr;
  PerfCounter* embed_ok = nullptr;
  PerfCounter* embed_failed = nullptr;
  PerfCounter* embed_rejected = nullptr;
  PerfCounter* embed_cancelled = nullptr;
  PerfCounter* embed_inputs = nullptr;
  PerfCounter* embed_tokens = nullptr;
};
using ModelMetrics = ScopeMetrics;

// Process-wide only: requests before a model is known, and the response cache.
struct GlobalMetrics : ScopeMetrics {
  PerfCounter* requests_total = nullptr;
  PerfCounter* embed_requests_total = nullptr;
  PerfCounter* cache_hits = nullptr;
  PerfCounter* cache_misses = nullptr;
};

// f(global), then f(model).
template <class F>
void ForBoth(ScopeMetrics& global, ScopeMetrics& model, const F& f) {
  f(global);
  f(model);
}

enum class Outcome { kOk, kFailed, kRejected, kCancelled };

class Service::Impl {
 public:
  explicit Impl(const ServiceOptions& options, std::vector<ModelSource> sources);

  Result<RequestHandle> Submit(GenerateRequest request);
  Result<EmbedHandle> SubmitEmbed(EmbedRequest request);  // service_embed.cpp
  void CountEmbedOutcome(size_t slot, Outcome outcome);
  Result<size_t> ResolveModel(const std::string& name) const;  // "" = default model
  size_t SlotOf(const ModelSource& src) const;                 // by name
  ModelInfo Info(const ModelStatus& status);
  // Header facts of a model, read once and kept.
  ModelFacts Facts(size_t slot) const;

  // The digest the response cache keys on for `slot`: the content digest
  // plus the file's identity as it is now (one stat per request; the MiB
  // hash is recomputed only when the identity changed). So a replaced,
  // rewritten or touched file never matches entries of the one before.
  std::string CacheDigest(size_t slot);

  nlohmann::json PerformanceStats() const;
  nlohmann::json SystemMetrics() const;
  nlohmann::json ModelsStats() const;
  void WritePrometheus(PrometheusWriter& w) const;  // service_prometheus.cpp

  // Completion of one scheduled request (see service.cpp).
  struct Inflight;
  void RecordCompletion(Inflight& inflight, const GenerateResult& result);
  void CountOutcome(size_t slot, Outcome outcome);

  const ServiceOptions options_;
  const std::vector<ModelSource> sources_;
  size_t default_slot_ = 0;
  std::atomic<bool> ready_{true};

  std::shared_ptr<PerfMonitor> monitor_owner_;  // ServiceOptions::monitor or our own
  PerfMonitor& monitor_;                        // *monitor_owner_
  GlobalMetrics global_;
  std::vector<ModelMetrics> per_model_;  // one per source
  mutable SystemMonitor system_;
  // Response cache: the local level, then (when configured) the shared one.
  std::optional<CachedResponse> LookupCaches(const std::string& key) const;
  void StoreInCaches(const std::string& key, const GenerateResult& result, std::vector<TokenEvent> events) const;
  bool CacheEnabled() const { return cache_.enabled() || redis_cache_ != nullptr; }
  // Every field that changes the answer, the model file's digest and the engine settings.
  std::string CacheKey(size_t slot, const GenerateRequest& request);
  nlohmann::json ResponseCacheJson() const;

  mutable ResponseCache cache_;
  std::unique_ptr<RedisResponseCache> redis_cache_;  // null: local only
  std::string engine_fingerprint_;       // folded into response-cache keys

  struct FileDigest {
    FileIdentity identity;
    std::string key;  // content digest + identity
  };
  std::mutex digest_mu_;
  std::map<size_t, FileDigest> digests_;  // guarded by digest_mu_

  mutable std::mutex facts_mu_;
  mutable std::map<size_t, ModelFacts> facts_;  // guarded by facts_mu_

  LoadedDraftModel draft_;  // draft_model_path's; set by Create before any load

  std::unique_ptr<ModelManager> manager_;  // last: destroyed first
};

// The file under `lease`'s model shrank while mapped (the guard fed zeros,
// util/mapping_guard.h): a request that read it computed nothing of the
// model's, and fails with ModelFileChangedError.
bool ModelFileDamaged(const ModelLease& lease);
Status ModelFileChangedError(const ModelLease& lease);

// RFC 3339 UTC with milliseconds, e.g. "2025-01-31T12:00:00.123Z".
std::string FormatTime(std::chrono::system_clock::time_point t);
// Steady time point -> wall clock, relative to now.
std::chrono::system_clock::time_point ToSystem(std::chrono::steady_clock::time_point t);
// "cpu", or "cpu+cuda" when this binary has the CUDA backend (build info).
const char* BuiltBackends();

}  // namespace jarvis
