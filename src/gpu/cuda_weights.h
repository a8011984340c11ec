// The device copy of a model's offloaded layers and output head: every tensor
// the CUDA layer graph reads, uploaded once into one device allocation (an
// arena, 256-byte aligned slices), in its GGUF block format.
//
// Errors: Unsupported (naming the tensor) for a weight type without a CUDA
// kernel; ResourceExhausted when the device lacks the memory (nothing stays
// allocated). Only built with CUDA. Not thread-safe; immutable once built.
#pragma once

#include <cstdint>
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

// The device twin of model/weights.h LayerWeights: the same fields, device
// pointers, nullptr where the host's are.
struct DeviceLayer {
  const float* attn_norm = nullptr;
  const float* bq = nullptr;
  const float* bk = nullptr;
  const float* bv = nullptr;
  const float* q_norm = nullptr;
  const float* k_norm = nullptr;
  const float* attn_post_norm = nullptr;
  const float* ffn_norm = nullptr;
  const float* ffn_post_norm = nullptr;
  DeviceMatrix wq, wk, wv, wo, w_gate, w_up, w_down;
};

struct DeviceWeights {
  DeviceBuffer arena;                // owns everything below
  std::vector<DeviceLayer> layers;   // layers [first_layer, n_layer)
  const float* output_norm = nullptr;
  DeviceMatrix output;
  const float* rope_freqs = nullptr; // n_rot/2 factors, or nullptr
};

// Uploads layers [first_layer, n_layer) and the output head of `model` to the
// current device.
Result<DeviceWeights> UploadWeights(const Model& model, int32_t first_layer);

}  // namespace jarvis::gpu
