// The GPU backend of a build without CUDA: no devices, every offload Unsupported.
#if !defined(JARVIS_HAVE_CUDA)

#include "gpu/gpu_backend.h"

namespace jarvis {

const GpuProbe& ProbeGpus() {
  static const GpuProbe probe = [] {
    GpuProbe p;
    p.cuda_built = false;
    p.unavailable_reason = "built without CUDA";
    return p;
  }();
  return probe;
}

Result<std::unique_ptr<LayerOffload>> CreateGpuOffload(const Model& /*model*/, int32_t /*n_gpu_layers*/,
                                                       const KvLayout& /*layout*/,
                                                       int32_t /*n_kv_blocks*/, int32_t /*n_ctx*/) {
  return Status::Unsupported("GPU offload: this jarvis was built without CUDA");
}

}  // namespace jarvis

#endif  // !JARVIS_HAVE_CUDA
