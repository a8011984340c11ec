// CudaLayerOps: LayerOps (model/layer_ops.h) on the CUDA kernels
// (kernels/cuda/launchers.h), so the GPU offload runs the same LayerGraph as
// the CPU. Every op only enqueues kernels on the bound stream; the owner
// (CudaLayerOffload, gpu/cuda_offload.cpp) owns the device memory, binds a
// batch's device views before running the graph and synchronizes after.
//
// Only built with CUDA. Thread safety: one thread at a time.
#pragma once

#if defined(JARVIS_HAVE_CUDA)

#include <array>
#include <cstdint>

#include "gpu/cuda_weights.h"
#include "model/kv_layout.h"
#include "model/layer_ops.h"
#include "model/model.h"

namespace jarvis::gpu {

// Device memory and batch metadata the ops of one Forward work on.
struct CudaBinding {
  int32_t n_tokens = 0;
  int32_t n_outputs = 0;
  int32_t max_n_pos = 0;                   // 1 + the largest position
  const int32_t* positions = nullptr;      // device, per token
  const int32_t* table_offsets = nullptr;  // device, per token: start of its sequence's table in `tables`
  const int32_t* out_rows = nullptr;       // device, the n_outputs rows that want logits
  const int32_t* tables = nullptr;         // device, the flattened block tables
  std::array<float*, kActCount> acts{};    // device, each Act's buffer
  float* attention_scratch = nullptr;      // device, cuda::AttentionScratchFloats floats
  uint8_t* kv_pool = nullptr;              // device, the offloaded layers' blocks
  KvLayout kv_layout;                      // n_layer = offloaded layers
  void* stream = nullptr;                  // cudaStream_t
};

class CudaLayerOps final : public LayerOps {
 public:
  // Runs layers [first_layer, n_layer) of `model` from `weights` (both must
  // outlive the ops).
  CudaLayerOps(const Model& model, const DeviceWeights& weights, int32_t first_layer)
      : hp_(model.hparams()), weights_(weights), first_(first_layer) {}

  void Bind(const CudaBinding& binding) { b_ = binding; }

  void MatMul(int32_t layer, TensorRole weight, Act in, Act out, int32_t rows) override;
  void RmsNorm(int32_t layer, TensorRole weight, Act in, Act out, int64_t width, int32_t rows,
               float eps) override;
  void AddBias(int32_t layer, TensorRole bias, Act x, int64_t width, int32_t rows) override;
  void Rope(Act x, int32_t n_heads, int32_t head_dim, const RopeParams& rope) override;
  void StoreKvAndAttend(int32_t layer, const AttentionParams& params) override;
  void GatedActivation(FfnActivation activation, Act gate, Act up, int64_t n) override;
  void Add(Act x, Act y, int64_t n) override;
  void Softcap(Act x, int64_t n, float cap) override;
  void NormLogitRows(Act in, Act out, int64_t width, float eps) override;

 private:
  float* at(Act a) const { return b_.acts[static_cast<size_t>(a)]; }
  // The device copy of layer `layer` (a model layer index, >= first_).
  const DeviceLayer& Layer(int32_t layer) const { return weights_.layers[static_cast<size_t>(layer - first_)]; }

  const HParams& hp_;
  const DeviceWeights& weights_;
  const int32_t first_;
  CudaBinding b_;
};

}  // namespace jarvis::gpu

#endif  // JARVIS_HAVE_CUDA
