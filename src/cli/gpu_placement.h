// Where a model's layers will run and why: the sentence `jarvis doctor
// --model` prints, from a device description (GpuProbe), the model's memory
// footprint and the --gpu-layers request. Pure: tests feed it fake devices.
//
// It applies the loader's rules (PlanGpuLayers: the last N layers and the
// output head go to the first device) and estimates whether they fit in the
// device's free memory; the engine falls back to the CPU when they do not.
#pragma once

#include <cstdint>
#include <string>

#include "gpu/gpu_layer_plan.h"
#include "model/model.h"

namespace jarvis::cli {

// Device memory a model's offload needs, by part.
struct ModelFootprint {
  int32_t n_layer = 0;
  uint64_t layer_bytes = 0;  // one layer: weights + the KV of one context (largest layer)
  uint64_t head_bytes = 0;   // output norm + output matrix
  int32_t kv_context = 0;    // the context the KV part assumes
};

// One context of min(training context, 4096) positions with F16 K/V: what
// `jarvis run` allocates (the server allocates that per sequence).
ModelFootprint MeasureFootprint(const Model& model);

struct GpuLayersRequest {
  int32_t layers = -1;   // -1 all, 0 none, N the last N (never kGpuLayersAuto)
  std::string source;    // why: "--gpu-layers 16", "JARVIS_GPU_LAYERS=16", "default: all layers"
};

struct Placement {
  int32_t gpu_layers = 0;  // the last gpu_layers layers (+ output) on the GPU; 0: all on the CPU
  bool fits = true;        // false: the load would fall back to the CPU
  uint64_t need_bytes = 0; // device memory the GPU part needs (estimate)
  // "32/32 layers + output on GPU 0 NVIDIA H100 (default: ...; fits: 4.3 GiB (...) of 79.1 GiB free)",
  // "layers 0-15 on the CPU, layers 16-31 + output on GPU 0 ... (--gpu-layers 16; fits: ...)",
  // "all 16 layers + output on the CPU: no GPU (no CUDA device)".
  std::string detail;
  std::string advice;      // empty unless !fits
};

Placement ExplainPlacement(const GpuProbe& probe, const ModelFootprint& model, const GpuLayersRequest& request);

}  // namespace jarvis::cli
