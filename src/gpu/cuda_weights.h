// The device copy of a model's offloaded layers and output head: every tensor
// the layer graph (model/layer_graph.h) reads there, uploaded once into one
// device allocation (an arena, 256-byte aligned slices), in its GGUF block
// format. The layer tensors are addressed by role, as on the host
// (LayerWeights::matrix / vector), so the list of what a layer has is the
// architecture table's and nowhere else.
//
// Errors: Unsupported (naming the tensor) for a weight type without a CUDA
// kernel; ResourceExhausted when the device lacks the memory (nothing stays
// allocated). Only built with CUDA. Not thread-safe; immutable once built.
#pragma once

#include <array>
#include <cstdint>
#include <unordered_map>
#include <vector>

#include "gpu/cuda_memory.h"
#include "jarvis/status.h"
#include "model/model.h"
#include "quant/ggml_type.h"

namespace jarvis::gpu {

struct DeviceMatrix {
  GgmlType type = GgmlType::kF32;
  const uint8_t* data = nullptr;  // device
  int64_t rows = 0;
  int64_t cols = 0;
  size_t row_bytes = 0;
};

// The device twin of model/weights.h LayerWeights, indexed by TensorRole:
// device pointers, nullptr where the host's are.
struct DeviceLayer {
  std::array<DeviceMatrix, kTensorRoleCount> matrices{};
  std::array<const float*, kTensorRoleCount> vectors{};

  const DeviceMatrix& matrix(TensorRole role) const { return matrices[static_cast<size_t>(role)]; }
  const float* vector(TensorRole role) const { return vectors[static_cast<size_t>(role)]; }
};

struct DeviceWeights {
  DeviceBuffer arena;                // owns everything below
  std::vector<DeviceLayer> layers;   // layers [first_layer, n_layer)
  const float* output_norm = nullptr;
  DeviceMatrix output;
  // Host tensor -> its device copy, for what the graph passes by host pointer
  // (the rope factors the run chose: rope_freqs, or Phi-3's short or long set).
  std::unordered_map<const void*, const uint8_t*> device_of;

  // The device copy of an uploaded host vector; nullptr for nullptr.
  const float* DeviceVector(const float* host) const {
    auto it = device_of.find(host);
    return it == device_of.end() ? nullptr : reinterpret_cast<const float*>(it->second);
  }
};

// Uploads layers [first_layer, n_layer), the output head and the rope factor
// tensors of `model` to the current device.
Result<DeviceWeights> UploadWeights(const Model& model, int32_t first_layer);

}  // namespace jarvis::gpu
