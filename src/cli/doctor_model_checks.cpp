// The doctor's model checks: does the file load, do its weight types have
// fast kernels here, does it fit in RAM, and would it go to the GPU.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "cli/doctor_checks.h"
#include "cli/doctor_util.h"
#include "cli/gpu_placement.h"
#include "cli/environment.h"
#include "gpu/gpu_backend.h"
#include "kernels/cpu/isa.h"
#include "kernels/cpu/matmul.h"
#include "model/model.h"

namespace jarvis::cli {
namespace {

using namespace doctor_internal;  // NOLINT: the helpers every check uses

std::string Count(uint64_t n) {
  char buf[32];
  const double d = static_cast<double>(n);
  if (n >= 1'000'000'000) {
    std::snprintf(buf, sizeof(buf), "%.2fB", d / 1e9);
  } else if (n >= 1'000'000) {
    std::snprintf(buf, sizeof(buf), "%.1fM", d / 1e6);
  } else {
    std::snprintf(buf, sizeof(buf), "%.1fK", d / 1e3);
  }
  return buf;
}

DoctorCheck CheckModelKernels(const ModelWeights& w) {
  // The matrices MatMul runs on: every layer's projections and the output
  // head (token embeddings are looked up row by row, not multiplied).
  std::map<GgmlType, int> counts;
  for (const LayerWeights& l : w.layers) {
    for (const WeightMatrix* m : {&l.wq, &l.wk, &l.wv, &l.wo, &l.w_gate, &l.w_up, &l.w_down}) ++counts[m->type];
  }
  ++counts[w.output.type];
  const KernelIsa isa = ActiveKernelIsa();
  std::string fast, slow;
  for (const auto& [type, n] : counts) {
    std::string& list = HasFastMatMul(type, isa) ? fast : slow;
    list += std::string(list.empty() ? "" : ", ") + TypeName(type) + " (" + std::to_string(n) + " matrices)";
  }
  if (slow.empty()) return Ok("model_kernels", std::string("fast ") + KernelIsaName(isa) + " kernels for " + fast);
  return Warn("model_kernels",
              slow + " run on the slow scalar path with " + KernelIsaName(isa) + " kernels" +
                  (fast.empty() ? "" : "; fast: " + fast),
              isa == KernelIsa::kScalar ? "see the kernels check"
                                        : "re-quantize to a type with fast kernels: jarvis quantize IN OUT q8_0 (or q4_k)");
}

// Which layers run where, and why (cli/gpu_placement.h).
DoctorCheck CheckModelGpu(const Model& m, const GpuLayersRequest& request) {
  const Placement p = ExplainPlacement(ProbeGpus(), MeasureFootprint(m), request);
  return p.fits ? Ok("model_gpu", p.detail) : Warn("model_gpu", p.detail, p.advice);
}

}  // namespace

std::vector<DoctorCheck> RunModelChecks(const std::string& path, const GpuLayersRequest& gpu_layers) {
  ModelLoadOptions options;
  options.cpu_layers = [](int32_t) { return 0; };  // skip packing: it costs a pass over the weights
  const auto start = std::chrono::steady_clock::now();
  auto loaded = Model::Load(path, options);
  if (!loaded.ok()) {
    // Load's errors name the file (and the key or tensor at fault).
    const std::string& why = loaded.status().message();
    return {Failed("model", "does not load: " + (why.find(path) == std::string::npos ? path + ": " + why : why),
                   "check the path; jarvis runs llama and qwen2 GGUF files (jarvis inspect FILE shows what it holds)")};
  }
  const Model& m = **loaded;
  const HParams& hp = m.hparams();
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
  const uint64_t bytes = m.gguf().TensorBytes();
  std::vector<DoctorCheck> checks;
  checks.push_back(Ok("model", path + ": " + hp.arch_name + ", " + std::to_string(hp.n_layer) + " layers, " +
                                   Count(m.gguf().ParameterCount()) + " parameters, " + Bytes(bytes) +
                                   "; loads (" + std::to_string(ms.count()) + " ms, unpacked)"));
  checks.push_back(CheckModelKernels(m.weights()));
  const std::optional<uint64_t> available = MemorySnapshot().memory_available_bytes;
  if (!available) {
    checks.push_back(Warn("model_memory", Bytes(bytes) + " of weights; available RAM unknown",
                          "make sure about that much memory is free"));
  } else if (bytes > *available) {
    checks.push_back(Warn("model_memory", Bytes(bytes) + " of weights but " + Bytes(*available) +
                                              " RAM available: pages will be re-read from disk",
                          "free memory, offload to a GPU, or use a smaller quantization (jarvis quantize IN OUT q4_k)"));
  } else {
    checks.push_back(Ok("model_memory", Bytes(bytes) + " of weights, " + Bytes(*available) + " RAM available"));
  }
  checks.push_back(CheckModelGpu(m, gpu_layers));
  return checks;
}

}  // namespace jarvis::cli
