// Runtime: jarvis as a library. Loads GGUF models (the same options as
// `jarvis serve`, jarvis/runtime_options.h), runs requests through each
// model's continuous-batching scheduler, answers repeated deterministic
// requests from the response cache, and records every timing in a Monitor.
//
//   jarvis::RuntimeOptions options;
//   options.models = {"models/"};                     // files or directories
//   auto runtime = jarvis::Runtime::Create(options);  // scans; loads lazily
//   if (!runtime.ok()) { ... runtime.status().ToString() ... }
//   jarvis::GenerateRequest request;
//   request.prompt = "Once upon a time";
//   request.max_tokens = 64;
//   auto result = (*runtime)->Generate(request);       // blocking
//   auto handle = (*runtime)->Submit(request);         // non-blocking: future,
//                                                      // pull stream, Cancel()
//   jarvis::EmbedRequest embed;                        // embeddings (jarvis/embed.h)
//   embed.texts = {"a note", "another note"};
//   auto vectors = (*runtime)->Embed(embed);           // ->embeddings[i]: unit vectors
//
// Requests submitted from many threads at once are batched together (one
// forward pass per step for all running sequences of a model); at temperature
// 0 a request gives the same tokens alone or batched. A cancelled request
// (RequestHandle::Cancel, the on_token callback returning false, a passed
// deadline) frees its KV memory at the scheduler's next step.
//
// The library reads no environment variables and installs no signal
// handlers; it logs warnings (e.g. a GPU that was asked for but is missing)
// to stderr.
//
// Thread safety: every method may be called from any thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "jarvis/embed.h"
#include "jarvis/monitor.h"
#include "jarvis/request.h"
#include "jarvis/runtime_options.h"
#include "jarvis/status.h"

namespace jarvis {

class Service;  // the implementation (internal)

// What the runtime knows about one model, loaded or not.
struct ModelStats {
  std::string name;
  std::string path;
  uint64_t size_bytes = 0;
  std::string architecture;  // e.g. "llama"
  std::string quantization;  // dominant tensor type, e.g. "q4_0"
  uint64_t parameters = 0;
  int32_t context_length = 0;
  bool loaded = false;
  double load_ms = 0.0;  // last load
  // When loaded: where it runs and its scheduler's state.
  std::string backend;   // "cpu (avx512)" or the GPU offload's description
  int32_t gpu_layers = 0;
  int32_t running = 0;   // sequences decoding
  int32_t waiting = 0;   // requests queued
  int32_t kv_blocks_total = 0;
  int32_t kv_blocks_used = 0;    // held by running sequences
  int32_t kv_blocks_cached = 0;  // unreferenced, kept for prompt-prefix reuse
  int64_t generated_tokens = 0;
  int64_t prompt_tokens_cached = 0;
  // KV pool exhaustion: sequences preempted (resumed later by recomputing
  // their KV) and the tokens recomputed, since the model loaded.
  int64_t preemptions = 0;
  int64_t recomputed_tokens = 0;
  // Speculative decoding (RuntimeOptions::speculative): draft tokens
  // verified and accepted since the model loaded.
  int64_t draft_tokens = 0;
  int64_t accepted_draft_tokens = 0;
  // Embedding requests completed, inputs and tokens embedded.
  int64_t embed_requests = 0;
  int64_t embed_inputs = 0;
  int64_t embed_tokens = 0;
};

class Runtime {
 public:
  // Scans options.models. NotFound when a path does not exist,
  // InvalidArgument for no model found or a bad option. Loads nothing yet:
  // a model loads on its first request or LoadModel().
  static Result<std::unique_ptr<Runtime>> Create(const RuntimeOptions& options);
  // Shutdown(0) if not done yet: requests still running end as kCancelled.
  ~Runtime();
  Runtime(const Runtime&) = delete;
  Runtime& operator=(const Runtime&) = delete;

  // Non-blocking: returns a handle at once (see RequestHandle in
  // jarvis/request.h for the future, the pull stream and Cancel). Errors:
  // NotFound (unknown model), InvalidArgument (bad parameters, prompt longer
  // than the context), ResourceExhausted (the model's queue is full),
  // Cancelled (shutting down), and a failed load's IoError / Corruption /
  // Unsupported. A model that is not loaded yet is loaded first, on the
  // calling thread.
  Result<RequestHandle> Submit(GenerateRequest request);
  // Submit, then wait for the result. A request that fails while running
  // returns its error (finish kError); a cancelled one returns its partial
  // result with finish kCancelled.
  Result<GenerateResult> Generate(GenerateRequest request);

  // Embeddings: one L2-normalized vector per input (jarvis/embed.h says how
  // inputs are tokenized and truncated). Non-blocking: returns a handle at
  // once; errors as Submit's (InvalidArgument also for no or empty input, an
  // input too long with truncate = false, dimensions over the model's
  // width). Inputs of many requests are batched together by the model's
  // scheduler; repeated requests are answered from the response cache.
  Result<EmbedHandle> SubmitEmbed(EmbedRequest request);
  // SubmitEmbed, then wait: the result, or its error (Cancelled included).
  Result<EmbedResult> Embed(EmbedRequest request);

  // Loads `name` ("" = the default model) now, on the calling thread.
  Status LoadModel(const std::string& name);
  // Unloads once the model has no running or queued requests.
  Status UnloadModel(const std::string& name);
  // The default model's name.
  std::string DefaultModel() const;
  // Every model found, loaded ones first (most recently used first).
  std::vector<ModelStats> Models() const;
  // One model ("" = the default); NotFound for an unknown name.
  Result<ModelStats> GetModel(const std::string& name) const;

  // The monitor the runtime records into (RuntimeOptions::monitor or its own).
  Monitor monitor() const;
  // The monitoring API's documents as JSON text (fields in docs/API.md):
  std::string PerformanceStatsJson() const;  // GET /api/performance/stats
  std::string SystemMetricsJson() const;     // GET /api/system/metrics
  std::string ModelsStatsJson() const;       // GET /api/models/stats
  std::string PrometheusText() const;        // GET /metrics

  // Stops accepting requests, lets running ones finish for up to `grace`,
  // cancels the rest. Later Submits fail with Cancelled.
  void Shutdown(std::chrono::milliseconds grace);

  // The implementation, for the HTTP server inside the library.
  Service& service();

 private:
  explicit Runtime(std::unique_ptr<Service> service);
  std::unique_ptr<Service> service_;
};

}  // namespace jarvis
