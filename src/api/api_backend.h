// ApiBackend: everything the HTTP layer needs from the layers below, as one
// small interface. The real implementation forwards to jarvis::Service
// (MakeServiceBackend); tests of the server mechanics use a fake.
//
// Thread safety: every method may be called from any thread. Submit, LoadModel,
// UnloadModel and ShowModel may block (model loads); the server calls them on
// its worker pool, never on an I/O thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "jarvis/embed.h"
#include "jarvis/request.h"
#include "jarvis/status.h"
#include "service/service.h"
#include "util/prometheus_writer.h"

namespace jarvis::api {

// A submitted request as the server sees it: a way to cancel it (safe to call
// any number of times, from any thread, also after completion). The result
// arrives through the request's on_complete hook.
struct Submission {
  uint64_t id = 0;
  std::function<void()> cancel;
};

class ApiBackend {
 public:
  virtual ~ApiBackend() = default;

  // As Service::Submit: NotFound (unknown model), InvalidArgument,
  // ResourceExhausted (queue full), Cancelled (shutting down). For every
  // accepted request, on_token runs per piece and on_complete exactly once
  // (also when cancelled), possibly on the calling thread before Submit
  // returns (a response-cache hit replays its stream there).
  virtual Result<Submission> Submit(GenerateRequest request) = 0;
  // As Service::SubmitEmbed, with the same contract: for every accepted
  // request on_complete runs exactly once (a response-cache hit: before
  // SubmitEmbed returns).
  virtual Result<Submission> SubmitEmbed(EmbedRequest request) = 0;
  virtual Status LoadModel(const std::string& name, std::optional<std::chrono::seconds> keep_alive, bool pin) = 0;
  virtual Status UnloadModel(const std::string& name) = 0;

  virtual std::vector<ModelInfo> ListModels() const = 0;
  virtual Result<ModelInfo> GetModel(const std::string& name) const = 0;  // "" = default model
  virtual Result<nlohmann::json> ShowModel(const std::string& name) const = 0;
  // As Service::ApplyChatTemplate (POST /apply-template).
  virtual Result<std::string> ApplyChatTemplate(const GenerateRequest& request, bool add_generation_prompt) const = 0;

  virtual nlohmann::json PerformanceStats() const = 0;
  virtual nlohmann::json SystemMetrics() const = 0;
  virtual nlohmann::json ModelsStats() const = 0;
  // GET /metrics: adds the backend's families to the document being written.
  virtual void WritePrometheus(PrometheusWriter& out) const = 0;
  virtual bool Ready() const = 0;
};

// Adapter over a Service that must outlive it.
std::unique_ptr<ApiBackend> MakeServiceBackend(Service& service);

}  // namespace jarvis::api
