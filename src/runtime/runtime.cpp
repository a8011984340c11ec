// Runtime: the public facade (jarvis/runtime.h) over Service.
#include "jarvis/runtime.h"

#include <utility>

#include "runtime/service_options.h"
#include "service/service.h"
#include "util/perf_monitor.h"

namespace jarvis {
namespace {

ModelStats ToModelStats(const ModelInfo& info) {
  ModelStats s;
  s.name = info.name;
  s.path = info.path;
  s.size_bytes = info.size_bytes;
  s.architecture = info.architecture;
  s.quantization = info.quantization;
  s.parameters = info.parameters;
  s.context_length = info.context_length;
  s.loaded = info.loaded;
  s.load_ms = info.load_ms;
  if (info.loaded) {
    const SchedulerStats& st = info.scheduler;
    s.backend = st.backend;
    s.gpu_layers = st.gpu_layers;
    s.running = st.running;
    s.waiting = st.waiting;
    s.kv_blocks_total = st.kv_blocks_total;
    s.kv_blocks_used = st.kv_blocks_used;
    s.kv_blocks_cached = st.kv_blocks_cached;
    s.generated_tokens = st.generated_tokens;
    s.prompt_tokens_cached = st.prompt_tokens_cached;
    s.preemptions = st.preemptions;
    s.recomputed_tokens = st.recomputed_tokens;
    s.draft_tokens = st.draft_tokens;
    s.accepted_draft_tokens = st.accepted_draft_tokens;
    s.embed_requests = st.embed_requests;
    s.embed_inputs = st.embed_inputs;
    s.embed_tokens = st.embed_tokens;
  }
  return s;
}

}  // namespace

Result<std::unique_ptr<Runtime>> Runtime::Create(const RuntimeOptions& options) {
  JARVIS_ASSIGN_OR_RETURN(ServiceOptions so, ToServiceOptions(options));
  JARVIS_ASSIGN_OR_RETURN(std::unique_ptr<Service> service, Service::Create(so));
  return std::unique_ptr<Runtime>(new Runtime(std::move(service)));
}

Runtime::Runtime(std::unique_ptr<Service> service) : service_(std::move(service)) {}

Runtime::~Runtime() {
  if (service_->Ready()) service_->Shutdown(std::chrono::milliseconds(0));
}

Result<RequestHandle> Runtime::Submit(GenerateRequest request) { return service_->Submit(std::move(request)); }

Result<GenerateResult> Runtime::Generate(GenerateRequest request) {
  JARVIS_ASSIGN_OR_RETURN(RequestHandle handle, service_->Submit(std::move(request)));
  GenerateResult result = handle.Wait();
  if (result.finish == FinishReason::kError) return result.error;
  return result;
}

Result<EmbedHandle> Runtime::SubmitEmbed(EmbedRequest request) { return service_->SubmitEmbed(std::move(request)); }

Result<EmbedResult> Runtime::Embed(EmbedRequest request) {
  JARVIS_ASSIGN_OR_RETURN(EmbedHandle handle, service_->SubmitEmbed(std::move(request)));
  EmbedResult result = handle.Wait();
  if (!result.error.ok()) return result.error;
  return result;
}

Status Runtime::LoadModel(const std::string& name) {
  JARVIS_ASSIGN_OR_RETURN(ModelInfo info, service_->GetModel(name));
  return service_->LoadModel(info.name);
}

Status Runtime::UnloadModel(const std::string& name) {
  JARVIS_ASSIGN_OR_RETURN(ModelInfo info, service_->GetModel(name));
  return service_->UnloadModel(info.name);
}

std::string Runtime::DefaultModel() const {
  auto info = service_->GetModel("");
  return info.ok() ? info->name : std::string();
}

std::vector<ModelStats> Runtime::Models() const {
  std::vector<ModelStats> out;
  for (const ModelInfo& info : service_->ListModels()) out.push_back(ToModelStats(info));
  return out;
}

Result<ModelStats> Runtime::GetModel(const std::string& name) const {
  JARVIS_ASSIGN_OR_RETURN(ModelInfo info, service_->GetModel(name));
  return ToModelStats(info);
}

Monitor Runtime::monitor() const {
  // The service records into a shared_ptr'd monitor (its own or the one
  // RuntimeOptions gave); hand out a handle that shares it.
  return Monitor(service_->monitor_shared());
}

std::string Runtime::PerformanceStatsJson() const { return service_->PerformanceStats().dump(); }
std::string Runtime::SystemMetricsJson() const { return service_->SystemMetrics().dump(); }
std::string Runtime::ModelsStatsJson() const { return service_->ModelsStats().dump(); }
std::string Runtime::PrometheusText() const { return service_->PrometheusText(); }

void Runtime::Shutdown(std::chrono::milliseconds grace) { service_->Shutdown(grace); }

Service& Runtime::service() { return *service_; }

}  // namespace jarvis
