// Service: what a front end (HTTP server, CLI, library user) talks to. It
// resolves a model by name through the ModelManager (loading it on first use,
// evicting the least recently used idle model), answers deterministic requests
// from the ResponseCache when it can, forwards the rest to the model's
// Scheduler, and records every timing and counter in the PerfMonitor.
//
// Thread safety: every method may be called from any thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "jarvis/embed.h"
#include "jarvis/request.h"
#include "jarvis/runtime_options.h"
#include "jarvis/status.h"
#include "scheduler/scheduler.h"

namespace jarvis {

class PerfMonitor;
class PrometheusWriter;

struct ServiceOptions {
  // GGUF files and/or directories (every *.gguf inside; name = file stem).
  std::vector<std::string> model_paths;
  // Name used when a request names no model. Default: the first model found.
  std::string default_model;
  // The rest as RuntimeOptions (jarvis/runtime_options.h, where the defaults
  // are written). Limits are soft while every resident model is busy or
  // pinned (see service/model_manager.h).
  int32_t max_loaded_models = RuntimeOptions{}.max_loaded_models;
  size_t memory_budget_bytes = RuntimeOptions{}.memory_budget_bytes;
  std::chrono::seconds keep_alive = RuntimeOptions{}.keep_alive;
  // Options of each model's scheduler (and its engine).
  SchedulerOptions scheduler;
  // RuntimeOptions::draft_model: loaded and checked by Create
  // (service/draft_model_loader.h), then every scheduler's draft_model.
  std::string draft_model_path;
  std::chrono::seconds cache_ttl = RuntimeOptions{}.cache_ttl;  // 0 disables the cache
  size_t cache_bytes = RuntimeOptions{}.cache_bytes;
  bool repack = RuntimeOptions{}.repack;  // ModelLoadOptions::repack
  // ModelLoadOptions::packed_cache: the directory resolved from
  // RuntimeOptions::packed_cache (empty: off).
  std::string packed_cache_dir;
  size_t packed_cache_bytes = RuntimeOptions{}.packed_cache_bytes;
  // The monitor to record into (shared with the caller). Null: the service's own.
  std::shared_ptr<PerfMonitor> monitor;
  // Shared level of the response cache (service/response_cache_redis.h).
  std::string cache_url = RuntimeOptions{}.cache_url;
  std::string cache_key_prefix = RuntimeOptions{}.cache_key_prefix;
};

// What the service knows about one model (loaded or not).
struct ModelInfo {
  std::string name;
  std::string path;
  uint64_t size_bytes = 0;
  std::string architecture;     // "llama"
  std::string quantization;     // dominant tensor type, e.g. "q4_k"
  uint64_t parameters = 0;
  int32_t context_length = 0;
  std::string digest;           // content digest (XXH64 of the first MiB, seeded with the size), hex
  bool loaded = false;
  bool pinned = false;
  double load_ms = 0.0;                              // last load
  std::optional<std::chrono::system_clock::time_point> last_used;
  std::optional<std::chrono::system_clock::time_point> expires_at;  // keep-alive end
  SchedulerStats scheduler;                          // when loaded
};

class Service {
 public:
  // Scans model_paths (NotFound if a path does not exist, InvalidArgument if
  // no model is found). Loads nothing yet but the draft model, when one is
  // given: its load error, or InvalidArgument for an encoder or a model
  // whose vocabulary differs from a servable generating model's.
  static Result<std::unique_ptr<Service>> Create(const ServiceOptions& options);
  ~Service();
  Service(const Service&) = delete;
  Service& operator=(const Service&) = delete;

  // Non-blocking: returns a handle at once (a response-cache hit returns an
  // already-completed handle whose stream replays the original token events
  // to on_token and Next(); its result has from_response_cache = true).
  // NotFound for an unknown model; the scheduler's errors (InvalidArgument,
  // ResourceExhausted = queue full) pass through; Cancelled while shutting
  // down; a failed lazy load passes the loader's error (IoError, Corruption,
  // Unsupported). A model that is not loaded is loaded first (on the calling
  // thread; concurrent first requests share one load). request.on_complete,
  // if set, runs once with the final result before the handle sees it.
  // Only deterministic requests (temperature <= 0 or has_seed) with
  // use_response_cache = true use the response cache; only results that
  // finished with stop/length are stored.
  Result<RequestHandle> Submit(GenerateRequest request);
  // Embeddings (jarvis/embed.h), the same way: model lookup and lazy load,
  // the response cache (every request with use_response_cache; a hit is an
  // already-completed handle with from_response_cache = true), then the
  // model scheduler's embedding queue (Scheduler::SubmitEmbed, whose errors
  // pass through). request.on_complete runs once before the handle sees the
  // result. (service_embed.cpp)
  Result<EmbedHandle> SubmitEmbed(EmbedRequest request);

  // Explicit model control. keep_alive: as in ServiceOptions, kept for the
  // model from now on (call this before Submit for a per-request keep_alive);
  // pin = never evict (false leaves the pin as it is; UnloadModel unpins).
  // Loads on the calling thread; the loader's error on failure.
  Status LoadModel(const std::string& name, std::optional<std::chrono::seconds> keep_alive = std::nullopt,
                   bool pin = false);
  // Unloads once the model has no running or queued requests (new ones load
  // it again). NotFound for an unknown name.
  Status UnloadModel(const std::string& name);

  // Loaded models first in LRU order (most recent first), then the others.
  std::vector<ModelInfo> ListModels() const;
  Result<ModelInfo> GetModel(const std::string& name) const;  // "" = default
  // Metadata of a model file for /api/show (reads the GGUF header).
  Result<nlohmann::json> ShowModel(const std::string& name) const;
  // The prompt text `request.messages` (with tools_json and
  // chat_template_kwargs_json) renders to with the model's chat template
  // (or the --chat-template-file override), as the template outputs it
  // (POST /apply-template). Reads the GGUF header and vocabulary only; the
  // model need not be loaded. NotFound: unknown model; InvalidArgument: the
  // template raised (its message) or bad tools/kwargs.
  // (service_chat_template.cpp)
  Result<std::string> ApplyChatTemplate(const GenerateRequest& request, bool add_generation_prompt) const;

  // JSON documents of the monitoring API (field names in docs/API.md):
  nlohmann::json PerformanceStats() const;  // GET /api/performance/stats
  nlohmann::json SystemMetrics() const;     // GET /api/system/metrics
  nlohmann::json ModelsStats() const;       // GET /api/models/stats
  std::string PrometheusText() const;       // GET /metrics (the service's families alone)
  // The same families, into a document that others add to (the HTTP server's counters).
  void WritePrometheus(PrometheusWriter& out) const;

  PerfMonitor& monitor();
  // The same monitor, shared (ServiceOptions::monitor or the service's own).
  std::shared_ptr<PerfMonitor> monitor_shared() const;
  // False while shutting down.
  bool Ready() const;
  // Stops accepting, lets running requests finish up to `grace`, cancels the rest.
  void Shutdown(std::chrono::milliseconds grace);

 private:
  class Impl;
  explicit Service(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace jarvis
