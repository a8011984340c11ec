#if defined(JARVIS_HAVE_CUDA)

#include "gpu/cuda_weights.h"

#include <string>
#include <unordered_map>

#include "kernels/cuda/launchers.h"

namespace jarvis::gpu {
namespace {

constexpr size_t kAlign = 256;

// Two passes over the same tensor list: Plan() records each host range and its
// arena offset, then Commit() copies them and resolves the device pointers.
class ArenaPlan {
 public:
  // Returns the slot of `bytes` bytes from `src`; nullptr src gives slot -1.
  int Add(const void* src, size_t bytes) {
    if (src == nullptr || bytes == 0) return -1;
    entries_.push_back({src, bytes, total_});
    total_ += (bytes + kAlign - 1) / kAlign * kAlign;
    return static_cast<int>(entries_.size()) - 1;
  }
  size_t total() const { return total_; }

  Status Commit(DeviceBuffer& arena) const {
    for (const Entry& e : entries_) {
      JARVIS_RETURN_IF_ERROR(CopyToDevice(arena.as<uint8_t>() + e.offset, e.src, e.bytes, "model weights"));
    }
    return Status::Ok();
  }
  const uint8_t* Device(const DeviceBuffer& arena, int slot) const {
    return slot < 0 ? nullptr : arena.as<uint8_t>() + entries_[static_cast<size_t>(slot)].offset;
  }

 private:
  struct Entry {
    const void* src;
    size_t bytes;
    size_t offset;
  };
  std::vector<Entry> entries_;
  size_t total_ = 0;
};

Status CheckType(const WeightMatrix& w, const std::string& name) {
  if (cuda::HasMatMulKernel(w.type)) return Status::Ok();
  return Status::Unsupported(std::string("GPU offload: tensor ") + name + " has type " + TypeName(w.type) +
                             ", which the CUDA kernels do not support");
}

}  // namespace

Result<DeviceWeights> UploadWeights(const Model& model, int32_t first_layer) {
  const HParams& hp = model.hparams();
  const ModelWeights& w = model.weights();
  const auto f32 = sizeof(float);
  // Every host tensor the offloaded layers and the head read, uploaded once
  // (a layer's tensors by role: LayerWeights::kLayerMatrixRoles / kLayerVectorRoles).
  ArenaPlan plan;
  std::unordered_map<const void*, int> slot_of;
  auto add = [&](const void* host, size_t bytes) {
    if (host != nullptr && slot_of.find(host) == slot_of.end()) slot_of[host] = plan.Add(host, bytes);
  };
  auto add_matrix = [&](const WeightMatrix& m) { add(m.data, static_cast<size_t>(m.rows) * m.row_bytes); };
  for (int32_t il = first_layer; il < hp.n_layer; ++il) {
    const LayerWeights& l = w.layers[static_cast<size_t>(il)];
    for (TensorRole role : LayerWeights::kLayerMatrixRoles) {
      JARVIS_RETURN_IF_ERROR(CheckType(l.matrix(role), "a matrix of layer " + std::to_string(il)));
      add_matrix(l.matrix(role));
    }
    for (TensorRole role : LayerWeights::kLayerVectorRoles) {
      add(l.vector(role), static_cast<size_t>(LayerWeights::VectorLength(hp, role)) * f32);
    }
  }
  JARVIS_RETURN_IF_ERROR(CheckType(w.output, "output.weight"));
  add(w.output_norm, static_cast<size_t>(hp.n_embd) * f32);
  add_matrix(w.output);
  // Every factor set: which one a run uses depends on its context.
  for (const float* factors : {w.rope_freqs, w.rope_factors_short, w.rope_factors_long}) {
    add(factors, static_cast<size_t>(hp.rope.n_rot / 2) * f32);
  }

  DeviceWeights out;
  JARVIS_ASSIGN_OR_RETURN(out.arena, DeviceBuffer::Allocate(plan.total(), "model weights"));
  JARVIS_RETURN_IF_ERROR(plan.Commit(out.arena));
  for (const auto& [host, slot] : slot_of) out.device_of[host] = plan.Device(out.arena, slot);
  auto dev = [&](const void* host) -> const uint8_t* {
    return host == nullptr ? nullptr : out.device_of.at(host);
  };
  auto dm = [&](const WeightMatrix& m) { return DeviceMatrix{m.type, dev(m.data), m.rows, m.cols, m.row_bytes}; };
  for (int32_t il = first_layer; il < hp.n_layer; ++il) {
    const LayerWeights& l = w.layers[static_cast<size_t>(il)];
    DeviceLayer d;
    for (TensorRole role : LayerWeights::kLayerMatrixRoles) d.matrices[static_cast<size_t>(role)] = dm(l.matrix(role));
    for (TensorRole role : LayerWeights::kLayerVectorRoles) {
      d.vectors[static_cast<size_t>(role)] = reinterpret_cast<const float*>(dev(l.vector(role)));
    }
    out.layers.push_back(d);
  }
  out.output_norm = out.DeviceVector(w.output_norm);
  out.output = dm(w.output);
  return out;
}

}  // namespace jarvis::gpu

#endif  // JARVIS_HAVE_CUDA
