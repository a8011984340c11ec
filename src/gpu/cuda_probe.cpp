// ProbeGpus for builds with CUDA: asks the CUDA runtime (linked statically; it
// loads the driver library at run time) which devices this process may use.
// Every failure (no libcuda, driver older than the toolkit, no device,
// CUDA_VISIBLE_DEVICES empty) becomes an empty device list plus a reason.
#if defined(JARVIS_HAVE_CUDA)

#include <cuda_runtime.h>

#include <string>

#include "gpu/gpu_backend.h"

namespace jarvis {
namespace {

// The fat binary holds sm_80 and sm_90 code plus compute_90 PTX: devices of
// compute capability 8.x run the sm_80 code, 9.0 and newer sm_90 or the PTX.
constexpr int kMinComputeMajor = 8;

std::string VersionText(int v) { return std::to_string(v / 1000) + "." + std::to_string((v % 1000) / 10); }

std::string ErrorText(cudaError_t e) { return std::string(cudaGetErrorName(e)) + ": " + cudaGetErrorString(e); }

GpuProbe Probe() {
  GpuProbe p;
  p.cuda_built = true;
  p.cuda_build_version = VersionText(CUDART_VERSION);
  int driver = 0;
  if (cudaDriverGetVersion(&driver) == cudaSuccess) p.driver_version = driver;
  int count = 0;
  const cudaError_t e = cudaGetDeviceCount(&count);
  if (e != cudaSuccess) {
    cudaGetLastError();
    if (e == cudaErrorInsufficientDriver && driver == 0) {
      p.unavailable_reason = "no NVIDIA driver found (" + ErrorText(e) + ")";
    } else if (e == cudaErrorInsufficientDriver) {
      p.unavailable_reason = "NVIDIA driver supports CUDA " + VersionText(driver) + ", this build needs " +
                             p.cuda_build_version + " (" + ErrorText(e) + ")";
    } else if (e == cudaErrorNoDevice) {
      p.unavailable_reason = "no CUDA device (check CUDA_VISIBLE_DEVICES)";
    } else {
      p.unavailable_reason = "CUDA initialization failed: " + ErrorText(e);
    }
    return p;
  }
  std::string skipped;
  for (int i = 0; i < count; ++i) {
    cudaDeviceProp prop{};
    if (cudaGetDeviceProperties(&prop, i) != cudaSuccess) {
      cudaGetLastError();
      continue;
    }
    if (prop.major < kMinComputeMajor) {
      skipped += std::string(skipped.empty() ? "" : ", ") + prop.name + " (sm_" + std::to_string(prop.major) +
                 std::to_string(prop.minor) + ")";
      continue;
    }
    GpuDevice d;
    d.index = i;
    d.name = prop.name;
    d.compute_major = prop.major;
    d.compute_minor = prop.minor;
    d.memory_total_bytes = prop.totalGlobalMem;
    p.devices.push_back(d);
  }
  if (p.devices.empty()) {
    p.unavailable_reason = skipped.empty() ? "no CUDA device could be queried"
                                           : "no device of compute capability >= 8.0 (found " + skipped + ")";
    return p;
  }
  // Free memory of the device offloads use (creates its context, which the
  // offload needs anyway); other devices are left untouched.
  size_t free_bytes = 0;
  size_t total_bytes = 0;
  if (cudaSetDevice(p.devices[0].index) == cudaSuccess && cudaMemGetInfo(&free_bytes, &total_bytes) == cudaSuccess) {
    p.devices[0].memory_free_bytes = free_bytes;
  } else {
    cudaGetLastError();
  }
  return p;
}

}  // namespace

const GpuProbe& ProbeGpus() {
  static const GpuProbe probe = Probe();
  return probe;
}

}  // namespace jarvis

#endif  // JARVIS_HAVE_CUDA
