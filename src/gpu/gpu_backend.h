// The GPU backend's front door: which accelerators this build supports, which
// devices the machine has, and the factory for a model's LayerOffload.
//
// Builds without a CUDA toolkit compile this layer's CPU-only implementation:
// ProbeGpus() reports "not built with CUDA" and CreateGpuOffload returns
// Unsupported. Nothing here crashes or exits on a machine without a GPU, with a
// driver that is too old, or when device memory runs out: those are Status
// errors, and the engine falls back to the CPU with a log line.
//
// Thread safety: all functions may be called from any thread.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "jarvis/runtime_options.h"  // kGpuLayersAuto
#include "jarvis/status.h"
#include "model/kv_layout.h"
#include "model/layer_offload.h"
#include "model/model.h"

namespace jarvis {

struct GpuDevice {
  int index = 0;              // CUDA device ordinal (after CUDA_VISIBLE_DEVICES)
  std::string name;           // "NVIDIA H100 80GB HBM3"
  int compute_major = 0;      // compute capability, e.g. 9.0
  int compute_minor = 0;
  uint64_t memory_total_bytes = 0;
  uint64_t memory_free_bytes = 0;
};

struct GpuProbe {
  bool cuda_built = false;        // this binary contains the CUDA backend
  std::string cuda_build_version; // toolkit version it was built with, e.g. "13.0"
  int driver_version = 0;         // CUDA driver API version (e.g. 13000), 0 if none
  std::vector<GpuDevice> devices; // usable devices; empty when none
  std::string unavailable_reason; // why `devices` is empty ("no CUDA device", ...)
};

// Enumerates devices once per process (cached) and returns the result.
const GpuProbe& ProbeGpus();

// "cuda (built 13.0; 1 device: NVIDIA H100 ...)" or "cuda (not built)", for --version.
std::string DescribeGpuBackend();

// How many layers to offload for a --gpu-layers request: gpu/gpu_layer_plan.h.

// Uploads the last n_gpu_layers layers (1..n_layer) of `model` and its output
// head to the first device, with a KV pool for those layers of `n_kv_blocks`
// blocks in `layout`'s geometry (same block ids as the CPU pool), for a run of
// `n_ctx` positions per sequence (model/layer_graph.h: the rope factors).
// Unsupported without CUDA or a device; ResourceExhausted when device memory
// is short (nothing stays allocated then); Unsupported for a weight type the
// GPU kernels lack (naming tensor and type).
Result<std::unique_ptr<LayerOffload>> CreateGpuOffload(const Model& model, int32_t n_gpu_layers,
                                                       const KvLayout& layout, int32_t n_kv_blocks, int32_t n_ctx);

}  // namespace jarvis
