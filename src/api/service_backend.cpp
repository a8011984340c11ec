// ApiBackend over jarvis::Service: a thin forwarding adapter.
#include <utility>

#include "api/api_backend.h"

namespace jarvis::api {
namespace {

class ServiceBackend final : public ApiBackend {
 public:
  explicit ServiceBackend(Service& service) : service_(service) {}

  Result<Submission> Submit(GenerateRequest request) override {
    auto handle = service_.Submit(std::move(request));
    if (!handle.ok()) return std::move(handle).status();
    RequestHandle h = std::move(handle).value();
    Submission s;
    s.id = h.id();
    s.cancel = [h]() mutable { h.Cancel(); };
    return s;
  }
  Result<Submission> SubmitEmbed(EmbedRequest request) override {
    auto handle = service_.SubmitEmbed(std::move(request));
    if (!handle.ok()) return std::move(handle).status();
    EmbedHandle h = std::move(handle).value();
    Submission s;
    s.id = h.id();
    s.cancel = [h]() mutable { h.Cancel(); };
    return s;
  }
  Status LoadModel(const std::string& name, std::optional<std::chrono::seconds> keep_alive, bool pin) override {
    return service_.LoadModel(name, keep_alive, pin);
  }
  Status UnloadModel(const std::string& name) override { return service_.UnloadModel(name); }
  std::vector<ModelInfo> ListModels() const override { return service_.ListModels(); }
  Result<ModelInfo> GetModel(const std::string& name) const override { return service_.GetModel(name); }
  Result<nlohmann::json> ShowModel(const std::string& name) const override { return service_.ShowModel(name); }
  Result<std::string> ApplyChatTemplate(const GenerateRequest& request, bool add_generation_prompt) const override {
    return service_.ApplyChatTemplate(request, add_generation_prompt);
  }
  nlohmann::json PerformanceStats() const override { return service_.PerformanceStats(); }
  nlohmann::json SystemMetrics() const override { return service_.SystemMetrics(); }
  nlohmann::json ModelsStats() const override { return service_.ModelsStats(); }
  void WritePrometheus(PrometheusWriter& out) const override { service_.WritePrometheus(out); }
  bool Ready() const override { return service_.Ready(); }

 private:
  Service& service_;
};

}  // namespace

std::unique_ptr<ApiBackend> MakeServiceBackend(Service& service) { return std::make_unique<ServiceBackend>(service); }

}  // namespace jarvis::api
