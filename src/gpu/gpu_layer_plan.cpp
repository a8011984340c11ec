#include "gpu/gpu_layer_plan.h"

#include <spdlog/spdlog.h>

#include <atomic>

namespace jarvis {

GpuLayerPlan PlanGpuLayers(int32_t requested, int32_t n_layer, const GpuProbe& probe) {
  GpuLayerPlan plan;
  plan.n_layer = n_layer > 0 ? n_layer : 0;
  const std::string asked = "gpu_layers " + std::to_string(requested);
  if (requested < kGpuLayersAuto) {
    plan.reason = asked + " is not valid: -1 all, 0 none, N the last N";
    plan.warn = true;
    return plan;
  }
  if (requested == 0) {
    plan.reason = "CPU only: gpu_layers 0";
    return plan;
  }
  if (!probe.cuda_built || probe.devices.empty()) {
    plan.reason = "no GPU: " + (probe.cuda_built ? probe.unavailable_reason : std::string("built without CUDA"));
    // Auto means "the GPU if there is one": its absence is not news.
    plan.warn = requested != kGpuLayersAuto;
    return plan;
  }
  // Auto: every layer on the GPU when one is usable, as Ollama and vLLM do.
  const bool all = requested == kGpuLayersAuto || requested == -1 || requested >= plan.n_layer;
  plan.gpu_layers = all ? plan.n_layer : requested;
  plan.reason = std::to_string(plan.gpu_layers) + "/" + std::to_string(plan.n_layer) + " layers on the GPU";
  // More layers than the model has is the usual way to say "all" (llama.cpp's -ngl 999): no warning.
  if (requested > plan.n_layer) plan.reason += " (" + asked + ", clamped)";
  return plan;
}

GpuLayerPlan PlanGpuLayers(int32_t requested, int32_t n_layer) {
  return PlanGpuLayers(requested, n_layer, ProbeGpus());
}

Status CheckGpuLayersRequest(int32_t requested) {
  if (requested >= kGpuLayersAuto) return Status::Ok();
  return Status::InvalidArgument("gpu_layers must be -1 (all), 0 (CPU only) or a layer count");
}

void ReportGpuLayerPlan(const GpuLayerPlan& plan) {
  static std::atomic<bool> warned{false};
  if (plan.warn && !warned.exchange(true)) spdlog::warn("GPU offload unavailable ({}); running on the CPU", plan.reason);
}

std::function<int32_t(int32_t)> PlanGpuLayersAtLoad(int32_t requested, GpuLayerPlan* plan) {
  return [requested, plan](int32_t n_layer) {
    *plan = PlanGpuLayers(requested, n_layer);
    ReportGpuLayerPlan(*plan);
    return plan->cpu_layers();
  };
}

}  // namespace jarvis
