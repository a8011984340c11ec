#if defined(JARVIS_HAVE_CUDA)

#include "gpu/cuda_weights.h"

#include <string>

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

struct MatrixSlot {
  const WeightMatrix* host;
  int slot;
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
  const auto d = static_cast<size_t>(hp.n_embd);
  const auto f32 = sizeof(float);
  ArenaPlan plan;
  auto matrix = [&](const WeightMatrix& m) {
    return MatrixSlot{&m, plan.Add(m.data, static_cast<size_t>(m.rows) * m.row_bytes)};
  };
  struct LayerSlots {
    int attn_norm, bq, bk, bv, ffn_norm;
    MatrixSlot wq, wk, wv, wo, w_gate, w_up, w_down;
  };
  std::vector<LayerSlots> slots;
  for (int32_t il = first_layer; il < hp.n_layer; ++il) {
    const LayerWeights& l = w.layers[static_cast<size_t>(il)];
    const std::string prefix = "blk." + std::to_string(il) + ".";
    JARVIS_RETURN_IF_ERROR(CheckType(l.wq, prefix + "attn_q.weight"));
    JARVIS_RETURN_IF_ERROR(CheckType(l.wk, prefix + "attn_k.weight"));
    JARVIS_RETURN_IF_ERROR(CheckType(l.wv, prefix + "attn_v.weight"));
    JARVIS_RETURN_IF_ERROR(CheckType(l.wo, prefix + "attn_output.weight"));
    JARVIS_RETURN_IF_ERROR(CheckType(l.w_gate, prefix + "ffn_gate.weight"));
    JARVIS_RETURN_IF_ERROR(CheckType(l.w_up, prefix + "ffn_up.weight"));
    JARVIS_RETURN_IF_ERROR(CheckType(l.w_down, prefix + "ffn_down.weight"));
    const auto dq = static_cast<size_t>(hp.n_embd_q());
    const auto dkv = static_cast<size_t>(hp.n_embd_kv());
    slots.push_back({plan.Add(l.attn_norm, d * f32), plan.Add(l.bq, dq * f32), plan.Add(l.bk, dkv * f32),
                     plan.Add(l.bv, dkv * f32), plan.Add(l.ffn_norm, d * f32), matrix(l.wq), matrix(l.wk),
                     matrix(l.wv), matrix(l.wo), matrix(l.w_gate), matrix(l.w_up), matrix(l.w_down)});
  }
  JARVIS_RETURN_IF_ERROR(CheckType(w.output, "output.weight"));
  const int output_norm = plan.Add(w.output_norm, d * f32);
  const MatrixSlot output = matrix(w.output);
  const int rope_freqs = plan.Add(hp.rope.freq_factors, static_cast<size_t>(hp.rope.n_rot / 2) * f32);

  DeviceWeights out;
  JARVIS_ASSIGN_OR_RETURN(out.arena, DeviceBuffer::Allocate(plan.total(), "model weights"));
  JARVIS_RETURN_IF_ERROR(plan.Commit(out.arena));
  auto fp = [&](int slot) { return reinterpret_cast<const float*>(plan.Device(out.arena, slot)); };
  auto dm = [&](const MatrixSlot& m) {
    return DeviceMatrix{m.host->type, plan.Device(out.arena, m.slot), m.host->rows, m.host->cols, m.host->row_bytes};
  };
  for (const LayerSlots& s : slots) {
    out.layers.push_back({fp(s.attn_norm), fp(s.bq), fp(s.bk), fp(s.bv), fp(s.ffn_norm), dm(s.wq), dm(s.wk),
                          dm(s.wv), dm(s.wo), dm(s.w_gate), dm(s.w_up), dm(s.w_down)});
  }
  out.output_norm = fp(output_norm);
  out.output = dm(output);
  out.rope_freqs = fp(rope_freqs);
  return out;
}

}  // namespace jarvis::gpu

#endif  // JARVIS_HAVE_CUDA
