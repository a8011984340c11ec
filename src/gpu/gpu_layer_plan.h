// Where a model's layers run: the one decision of how many layers go to the
// GPU, made when the model is loaded (the file says how many layers it has)
// and handed on to the engine.
//
// Model loading needs it (layers the GPU runs are not packed for the CPU
// kernels: ModelLoadOptions::cpu_layers), the engine needs it (how many layers
// to offload) and so do the service, the CLI and `jarvis doctor`. They all
// call PlanGpuLayers, so the rules (auto, -1, clamping, no GPU) and the
// warning for a GPU that was asked for but is missing live here only.
//
// Thread safety: all functions may be called from any thread.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "gpu/gpu_backend.h"

namespace jarvis {

struct GpuLayerPlan {
  int32_t n_layer = 0;
  // The last gpu_layers layers and the output head run on the GPU; 0: all on the CPU.
  int32_t gpu_layers = 0;
  // Why, in words: "16/16 layers on the GPU", "CPU only: gpu_layers 0",
  // "no GPU: no CUDA device", "gpu_layers -7 is not valid: ...".
  std::string reason;
  // The caller asked for the GPU (or gave an invalid count) and gets less than
  // it asked for: `reason` is worth a warning. The default (kGpuLayersAuto)
  // never warns: a machine without a GPU is normal.
  bool warn = false;

  // Layers [0, cpu_layers()) run on the CPU.
  int32_t cpu_layers() const { return n_layer - gpu_layers; }
};

// The placement of a model of `n_layer` layers for `requested`:
//   kGpuLayersAuto (the default): every layer when a GPU is usable, else the CPU, quietly;
//   -1: every layer (warns when there is no GPU);
//   0: the CPU;
//   N > 0: the last N layers, clamped to n_layer (warns when there is no GPU);
//   below kGpuLayersAuto: invalid, the CPU with a warning (options validation rejects it first).
GpuLayerPlan PlanGpuLayers(int32_t requested, int32_t n_layer, const GpuProbe& probe);
// The same for this machine (ProbeGpus()).
GpuLayerPlan PlanGpuLayers(int32_t requested, int32_t n_layer);

// Options validation: InvalidArgument for a request below kGpuLayersAuto.
Status CheckGpuLayersRequest(int32_t requested);

// Logs the plan's warning (once per process: every model would say the same).
void ReportGpuLayerPlan(const GpuLayerPlan& plan);

// A ModelLoadOptions::cpu_layers callback: plans `requested` against the
// file's layer count once, at load, stores the plan in *plan (which must
// outlive the load) and reports it. The caller then hands plan->gpu_layers to
// the engine (EngineOptions / SchedulerOptions::gpu_layers), so the layers
// that were not packed for the CPU are exactly the offloaded ones.
std::function<int32_t(int32_t n_layer)> PlanGpuLayersAtLoad(int32_t requested, GpuLayerPlan* plan);

}  // namespace jarvis
