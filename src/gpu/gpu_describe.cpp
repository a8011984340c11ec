// DescribeGpuBackend: the same text with or without CUDA.
#include <cstdlib>
#include <string>

#include "gpu/gpu_backend.h"

namespace jarvis {

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
