#include "cli/gpu_placement.h"

#include <algorithm>

#include "cli/doctor_util.h"

namespace jarvis::cli {
namespace {

using doctor_internal::Bytes;

uint64_t MatrixBytes(const WeightMatrix& w) { return static_cast<uint64_t>(w.rows) * w.row_bytes; }

std::string LayerRange(int32_t first, int32_t last) {
  return first == last ? "layer " + std::to_string(first)
                       : "layers " + std::to_string(first) + "-" + std::to_string(last);
}

}  // namespace

ModelFootprint MeasureFootprint(const Model& model) {
  const HParams& hp = model.hparams();
  ModelFootprint f;
  f.n_layer = hp.n_layer;
  f.kv_context = std::min(hp.n_ctx_train > 0 ? hp.n_ctx_train : 4096, 4096);
  const uint64_t norm = static_cast<uint64_t>(hp.n_embd) * sizeof(float);
  // K and V rows of every position, F16.
  const uint64_t kv = 2 * static_cast<uint64_t>(f.kv_context) * static_cast<uint64_t>(hp.n_embd_kv()) * 2;
  for (const LayerWeights& l : model.weights().layers) {
    uint64_t bytes = kv + 2 * norm;
    for (const WeightMatrix* w : {&l.wq, &l.wk, &l.wv, &l.wo, &l.w_gate, &l.w_up, &l.w_down}) bytes += MatrixBytes(*w);
    f.layer_bytes = std::max(f.layer_bytes, bytes);
  }
  f.head_bytes = norm + MatrixBytes(model.weights().output);
  return f;
}

Placement ExplainPlacement(const GpuProbe& probe, const ModelFootprint& model, const GpuLayersRequest& request) {
  Placement p;
  const int32_t n = model.n_layer;
  const std::string all_cpu = "all " + std::to_string(n) + " layers + output on the CPU: ";
  if (!probe.cuda_built || probe.devices.empty()) {
    p.detail = all_cpu + "no GPU (" + (probe.cuda_built ? probe.unavailable_reason : "built without CUDA") + ")";
    return p;
  }
  p.gpu_layers = PlanGpuLayers(request.layers, n, probe).gpu_layers;
  if (p.gpu_layers == 0) {
    p.detail = all_cpu + request.source;
    return p;
  }
  const GpuDevice& d = probe.devices.front();
  const std::string gpu = "GPU " + std::to_string(d.index) + " " + d.name;
  const int32_t first = n - p.gpu_layers;
  std::string where = first == 0 ? std::to_string(n) + "/" + std::to_string(n) + " layers + output on " + gpu
                                 : LayerRange(0, first - 1) + " on the CPU, " + LayerRange(first, n - 1) +
                                       " + output on " + gpu;
  p.need_bytes = model.head_bytes + model.layer_bytes * static_cast<uint64_t>(p.gpu_layers);
  const uint64_t free_bytes = d.memory_free_bytes;
  p.fits = p.need_bytes <= free_bytes;
  const std::string need = Bytes(p.need_bytes) + " (weights + KV of " + std::to_string(model.kv_context) +
                           " positions) of " + Bytes(free_bytes) + " free";
  if (p.fits) {
    p.detail = where + " (" + request.source + "; fits: " + need + ")";
    return p;
  }
  // The most layers that would fit beside the head.
  const uint64_t room = free_bytes > model.head_bytes ? free_bytes - model.head_bytes : 0;
  const uint64_t fit = model.layer_bytes > 0 ? room / model.layer_bytes : 0;
  p.detail = where + " (" + request.source + ") would not fit: " + need + "; the load falls back to the CPU";
  p.advice = fit > 0 ? "offload what fits: --gpu-layers " + std::to_string(std::min<uint64_t>(fit, n)) +
                           " (or JARVIS_GPU_LAYERS), or free GPU memory"
                     : "free GPU memory, or run on the CPU (--gpu-layers 0)";
  return p;
}

}  // namespace jarvis::cli
