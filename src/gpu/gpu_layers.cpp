// ResolveGpuLayers and DescribeGpuBackend: the same rules with or without CUDA.
#include <cstdlib>
#include <string>

#include "gpu/gpu_backend.h"

namespace jarvis {

int32_t ResolveGpuLayers(int32_t requested, int32_t n_layer) {
  return ResolveGpuLayers(requested, n_layer, ProbeGpus());
}

int32_t ResolveGpuLayers(int32_t requested, int32_t n_layer, const GpuProbe& probe) {
  // Auto: every layer on the GPU when one is usable, as Ollama and vLLM do.
  if (requested == kGpuLayersAuto) requested = -1;
  if (requested == 0 || n_layer <= 0) return 0;
  if (!probe.cuda_built || probe.devices.empty()) return 0;
  if (requested < -1) return 0;  // not a valid request (the CLI rejects it)
  if (requested == -1 || requested > n_layer) return n_layer;
  return requested;
}

std::string DescribeGpuBackend() {
  const GpuProbe& probe = ProbeGpus();
  if (!probe.cuda_built) return "cuda (not built)";
  std::string text = "cuda (built " + probe.cuda_build_version;
  if (probe.devices.empty()) {
    text += "; no device: " + probe.unavailable_reason + ")";
    return text;
  }
  text += "; driver " + std::to_string(probe.driver_version / 1000) + "." +
          std::to_string((probe.driver_version % 1000) / 10) + "; " +
          std::to_string(probe.devices.size()) + (probe.devices.size() == 1 ? " device: " : " devices: ");
  for (size_t i = 0; i < probe.devices.size(); ++i) {
    const GpuDevice& d = probe.devices[i];
    if (i > 0) text += ", ";
    text += std::to_string(d.index) + " " + d.name + " sm_" + std::to_string(d.compute_major) +
            std::to_string(d.compute_minor) + " " +
            std::to_string(d.memory_total_bytes >> 20) + " MiB";
  }
  return text + ")";
}

}  // namespace jarvis
