// CudaLayerOffload: the LayerOffload of a CUDA device. It owns the device copy
// of its layers and the output head (gpu/cuda_weights.h), a KV pool for its
// layers in the CPU pool's block geometry (same block ids; a block holds only
// the offloaded layers), one stream, and scratch that grows with the largest
// batch. Forward:
//   1. packs x and the batch metadata (positions, per-token block-table
//      offsets, flattened block tables, rows that want logits) into pinned
//      host memory and copies them to the device;
//   2. runs the layers with the kernels of kernels/cuda/launchers.h, in the
//      order of LlamaGraph::Layers (K/V of the whole batch stored before its
//      attention);
//   3. final norm of the rows that want logits, output matmul, copies the
//      logits back and waits for the stream.
// Not done yet: CUDA-graph capture of decode steps, tensor-core matmuls.
#if defined(JARVIS_HAVE_CUDA)

#include <cuda_runtime.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "gpu/cuda_memory.h"
#include "gpu/cuda_weights.h"
#include "gpu/gpu_backend.h"
#include "kernels/cuda/launchers.h"

namespace jarvis {
namespace {

using gpu::DeviceBuffer;

class CudaLayerOffload final : public LayerOffload {
 public:
  CudaLayerOffload(const Model& model, int32_t first_layer, const GpuDevice& device)
      : model_(model), hp_(model.hparams()), first_(first_layer), device_(device) {}

  Status Init(const KvLayout& layout, int32_t n_kv_blocks);

  int32_t first_layer() const override { return first_; }
  Status Forward(const Batch& batch, const float* x, float* logits) override;
  Status CopyKvBlock(int32_t src, int32_t dst) override;
  std::string Describe() const override;
  uint64_t DeviceBytes() const override { return weights_.arena.bytes() + kv_pool_.bytes(); }

 private:
  Status SelectDevice() const {
    return gpu::CudaStatus(cudaSetDevice(device_.index), "cudaSetDevice(" + std::to_string(device_.index) + ")");
  }
  Status PackBatch(const Batch& batch, const float* x);
  Status EnsureScratch(int32_t n_tokens, int32_t n_out, int32_t max_n_pos, size_t meta_ints);
  void RunLayer(const gpu::DeviceLayer& l, int32_t local_layer, int32_t n, int32_t max_n_pos);
  void* stream() const { return stream_.get(); }

  const Model& model_;
  const HParams& hp_;
  const int32_t first_;
  const GpuDevice device_;
  KvLayout kv_layout_;  // the CPU geometry with n_layer = offloaded layers
  int32_t n_kv_blocks_ = 0;

  gpu::CudaStream stream_;
  gpu::DeviceWeights weights_;
  DeviceBuffer kv_pool_;
  // Scratch, (tokens x width) row-major; capacities in tokens / floats / ints.
  DeviceBuffer x_, h_, q_, k_, v_, att_, out_, gate_, up_, logits_, attn_scratch_, meta_;
  int32_t cap_tokens_ = 0;
  int32_t cap_out_ = 0;
  size_t cap_attn_floats_ = 0;
  size_t cap_meta_ints_ = 0;
  gpu::PinnedBuffer pinned_in_;   // x
  gpu::PinnedBuffer pinned_out_;  // logits
  // Device views into meta_ (set by PackBatch).
  const int32_t* d_positions_ = nullptr;
  const int32_t* d_table_offsets_ = nullptr;
  const int32_t* d_out_rows_ = nullptr;
  const int32_t* d_tables_ = nullptr;
  std::vector<int32_t> meta_host_;
};

Status CudaLayerOffload::Init(const KvLayout& layout, int32_t n_kv_blocks) {
  if (layout.n_embd_kv != hp_.n_embd_kv()) return Status::InvalidArgument("GPU offload: KV layout does not match the model");
  if (n_kv_blocks <= 0) return Status::InvalidArgument("GPU offload: KV pool has no blocks");
  JARVIS_RETURN_IF_ERROR(SelectDevice());
  JARVIS_RETURN_IF_ERROR(stream_.Create());
  JARVIS_ASSIGN_OR_RETURN(weights_, gpu::UploadWeights(model_, first_));
  kv_layout_ = layout;
  kv_layout_.n_layer = hp_.n_layer - first_;
  n_kv_blocks_ = n_kv_blocks;
  const size_t kv_bytes = static_cast<size_t>(n_kv_blocks) * kv_layout_.block_bytes();
  JARVIS_ASSIGN_OR_RETURN(kv_pool_, DeviceBuffer::Allocate(kv_bytes, "KV pool"));
  // Zeroed so that a block read before it is written gives finite values.
  JARVIS_RETURN_IF_ERROR(gpu::CudaStatus(cudaMemset(kv_pool_.data(), 0, kv_bytes), "cudaMemset KV pool"));
  return EnsureScratch(1, 1, 1, 64);
}

Status CudaLayerOffload::EnsureScratch(int32_t n_tokens, int32_t n_out, int32_t max_n_pos, size_t meta_ints) {
  if (n_tokens > cap_tokens_) {
    const int32_t cap = std::max(n_tokens, std::min(2 * cap_tokens_, 4096));
    const auto t = static_cast<size_t>(cap);
    const size_t f = sizeof(float);
    auto alloc = [&](DeviceBuffer& b, size_t width, const char* what) -> Status {
      b = DeviceBuffer();  // free first: the old and new buffers need not fit together
      JARVIS_ASSIGN_OR_RETURN(b, DeviceBuffer::Allocate(t * width * f, what));
      return Status::Ok();
    };
    const auto d = static_cast<size_t>(hp_.n_embd);
    const auto dq = static_cast<size_t>(hp_.n_embd_q());
    const auto dkv = static_cast<size_t>(hp_.n_embd_kv());
    const auto ff = static_cast<size_t>(hp_.n_ff);
    cap_tokens_ = 0;  // stays 0 if an allocation below fails
    JARVIS_RETURN_IF_ERROR(alloc(x_, d, "activations"));
    JARVIS_RETURN_IF_ERROR(alloc(h_, d, "activations"));
    JARVIS_RETURN_IF_ERROR(alloc(out_, d, "activations"));
    JARVIS_RETURN_IF_ERROR(alloc(q_, dq, "queries"));
    JARVIS_RETURN_IF_ERROR(alloc(att_, dq, "attention output"));
    JARVIS_RETURN_IF_ERROR(alloc(k_, dkv, "keys"));
    JARVIS_RETURN_IF_ERROR(alloc(v_, dkv, "values"));
    JARVIS_RETURN_IF_ERROR(alloc(gate_, ff, "ffn gate"));
    JARVIS_RETURN_IF_ERROR(alloc(up_, ff, "ffn up"));
    JARVIS_RETURN_IF_ERROR(pinned_in_.Reserve(t * d * f));
    cap_tokens_ = cap;
  }
  // Logits only for the rows that want them (n_out <= n_tokens, often 1).
  if (n_out > cap_out_) {
    const size_t bytes = static_cast<size_t>(n_out) * static_cast<size_t>(hp_.n_vocab) * sizeof(float);
    cap_out_ = 0;
    logits_ = DeviceBuffer();
    JARVIS_ASSIGN_OR_RETURN(logits_, DeviceBuffer::Allocate(bytes, "logits"));
    JARVIS_RETURN_IF_ERROR(pinned_out_.Reserve(bytes));
    cap_out_ = n_out;
  }
  const size_t attn = cuda::AttentionScratchFloats(n_tokens, hp_.n_head, hp_.head_dim, max_n_pos);
  if (attn > cap_attn_floats_) {
    cap_attn_floats_ = 0;
    attn_scratch_ = DeviceBuffer();
    JARVIS_ASSIGN_OR_RETURN(attn_scratch_, DeviceBuffer::Allocate(attn * sizeof(float), "attention scratch"));
    cap_attn_floats_ = attn;
  }
  if (meta_ints > cap_meta_ints_) {
    const size_t cap = std::max(meta_ints, 2 * cap_meta_ints_);
    cap_meta_ints_ = 0;
    meta_ = DeviceBuffer();
    JARVIS_ASSIGN_OR_RETURN(meta_, DeviceBuffer::Allocate(cap * sizeof(int32_t), "batch metadata"));
    cap_meta_ints_ = cap;
  }
  return Status::Ok();
}

// Metadata ints, in order: positions[n], table_offsets[n], out_rows[n_out],
// then every sequence's block table.
Status CudaLayerOffload::PackBatch(const Batch& batch, const float* x) {
  const int32_t n = batch.size();
  std::vector<int32_t>& m = meta_host_;
  m.assign(batch.positions.begin(), batch.positions.end());
  std::vector<int32_t> seq_offset(batch.block_tables.size());
  for (int32_t t = 0; t < n; ++t) m.push_back(0);  // table offsets, filled below
  for (int32_t t = 0; t < n; ++t) {
    if (batch.logits[static_cast<size_t>(t)]) m.push_back(t);
  }
  const auto tables_start = static_cast<int32_t>(m.size());
  for (size_t s = 0; s < batch.block_tables.size(); ++s) {
    seq_offset[s] = static_cast<int32_t>(m.size()) - tables_start;
    for (int32_t id : batch.block_tables[s]) m.push_back(id);
  }
  for (int32_t t = 0; t < n; ++t) {
    const int32_t pos = batch.positions[static_cast<size_t>(t)];
    const auto s = static_cast<size_t>(batch.seq[static_cast<size_t>(t)]);
    const auto& table = batch.block_tables[s];
    // The caller validated the batch against the CPU pool, which has as many
    // blocks as ours; re-check what the kernels will index.
    if (pos < 0 || static_cast<size_t>(pos / kv_layout_.block_size) >= table.size()) {
      return Status::InvalidArgument("GPU offload: position " + std::to_string(pos) + " outside its block table");
    }
    for (size_t b = 0; b <= static_cast<size_t>(pos / kv_layout_.block_size); ++b) {
      if (table[b] < 0 || table[b] >= n_kv_blocks_) return Status::InvalidArgument("GPU offload: block id out of range");
    }
    m[static_cast<size_t>(n + t)] = seq_offset[s];
  }
  const int32_t max_pos = *std::max_element(batch.positions.begin(), batch.positions.end());
  JARVIS_RETURN_IF_ERROR(EnsureScratch(n, batch.n_outputs(), max_pos + 1, m.size()));

  const size_t x_bytes = static_cast<size_t>(n) * static_cast<size_t>(hp_.n_embd) * sizeof(float);
  std::memcpy(pinned_in_.data(), x, x_bytes);
  JARVIS_RETURN_IF_ERROR(gpu::CopyToDeviceAsync(x_.data(), pinned_in_.data(), x_bytes, stream()));
  // The metadata goes through pageable memory: small, and cudaMemcpyAsync
  // stages it before returning, so meta_host_ may change afterwards.
  JARVIS_RETURN_IF_ERROR(gpu::CopyToDeviceAsync(meta_.data(), m.data(), m.size() * sizeof(int32_t), stream()));
  const int32_t* base = meta_.as<int32_t>();
  d_positions_ = base;
  d_table_offsets_ = base + n;
  d_out_rows_ = base + 2 * n;
  d_tables_ = base + tables_start;
  return Status::Ok();
}

void CudaLayerOffload::RunLayer(const gpu::DeviceLayer& l, int32_t local_layer, int32_t n, int32_t max_n_pos) {
  void* s = stream();
  const int64_t d = hp_.n_embd;
  const int64_t dq = hp_.n_embd_q();
  const int64_t dkv = hp_.n_embd_kv();
  auto matmul = [&](const gpu::DeviceMatrix& w, const DeviceBuffer& in, DeviceBuffer& out) {
    cuda::MatMul(w.type, w.data, w.rows, w.cols, w.row_bytes, in.as<float>(), n, out.as<float>(), s);
  };
  cuda::PagedKv kv;
  kv.pool = kv_pool_.as<uint8_t>();
  kv.block_bytes = kv_layout_.block_bytes();
  kv.k_offset = kv_layout_.k_offset(local_layer);
  kv.v_offset = kv_layout_.v_offset(local_layer);
  kv.row_bytes = kv_layout_.row_bytes();
  kv.block_size = kv_layout_.block_size;
  kv.f16 = kv_layout_.f16;
  kv.tables = d_tables_;
  kv.table_offsets = d_table_offsets_;
  const RopeParams& layer_rope = hp_.layers[static_cast<size_t>(first_ + local_layer)].rope;
  cuda::RopeArgs rope;
  rope.n_rot = layer_rope.n_rot;
  rope.freq_base = layer_rope.freq_base;
  rope.freq_scale = layer_rope.freq_scale;
  rope.neox = layer_rope.style == RopeStyle::kNeox;
  rope.freq_factors = weights_.rope_freqs;
  rope.attn_factor = layer_rope.attn_factor;

  // Attention block.
  cuda::RmsNorm(x_.as<float>(), l.attn_norm, d, hp_.rms_eps, nullptr, n, h_.as<float>(), s);
  matmul(l.wq, h_, q_);
  matmul(l.wk, h_, k_);
  matmul(l.wv, h_, v_);
  if (l.bq != nullptr) cuda::AddBias(q_.as<float>(), l.bq, dq, n, s);
  if (l.bk != nullptr) cuda::AddBias(k_.as<float>(), l.bk, dkv, n, s);
  if (l.bv != nullptr) cuda::AddBias(v_.as<float>(), l.bv, dkv, n, s);
  // Per-head norms: every head of every token is one row of head_dim.
  if (l.q_norm != nullptr) {
    cuda::RmsNorm(q_.as<float>(), l.q_norm, hp_.head_dim, hp_.rms_eps, nullptr, n * hp_.n_head, q_.as<float>(), s);
  }
  if (l.k_norm != nullptr) {
    cuda::RmsNorm(k_.as<float>(), l.k_norm, hp_.head_dim, hp_.rms_eps, nullptr, n * hp_.n_head_kv, k_.as<float>(), s);
  }
  cuda::Rope(q_.as<float>(), n, hp_.n_head, hp_.head_dim, d_positions_, rope, s);
  cuda::Rope(k_.as<float>(), n, hp_.n_head_kv, hp_.head_dim, d_positions_, rope, s);
  cuda::StoreKv(k_.as<float>(), v_.as<float>(), dkv, n, d_positions_, kv, s);
  cuda::AttentionOptions attention;
  attention.scale = hp_.attn_scale;
  attention.softcap = hp_.attn_softcap;
  attention.window = hp_.layers[static_cast<size_t>(first_ + local_layer)].sliding_window ? hp_.sliding_window : 0;
  cuda::Attention(q_.as<float>(), kv, d_positions_, n, hp_.n_head, hp_.n_head_kv, hp_.head_dim, attention, max_n_pos,
                  attn_scratch_.as<float>(), att_.as<float>(), s);
  matmul(l.wo, att_, out_);
  if (l.attn_post_norm != nullptr) {
    cuda::RmsNorm(out_.as<float>(), l.attn_post_norm, d, hp_.rms_eps, nullptr, n, out_.as<float>(), s);
  }
  cuda::Add(x_.as<float>(), out_.as<float>(), n * d, s);

  // Feed-forward block: down(silu(gate(h)) * up(h)).
  cuda::RmsNorm(x_.as<float>(), l.ffn_norm, d, hp_.rms_eps, nullptr, n, h_.as<float>(), s);
  matmul(l.w_gate, h_, gate_);
  matmul(l.w_up, h_, up_);
  if (hp_.spec->activation == FfnActivation::kGeluTanh) {
    cuda::GeluTanhMul(gate_.as<float>(), up_.as<float>(), static_cast<int64_t>(n) * hp_.n_ff, s);
  } else {
    cuda::SiluMul(gate_.as<float>(), up_.as<float>(), static_cast<int64_t>(n) * hp_.n_ff, s);
  }
  matmul(l.w_down, gate_, out_);
  if (l.ffn_post_norm != nullptr) {
    cuda::RmsNorm(out_.as<float>(), l.ffn_post_norm, d, hp_.rms_eps, nullptr, n, out_.as<float>(), s);
  }
  cuda::Add(x_.as<float>(), out_.as<float>(), n * d, s);
}

Status CudaLayerOffload::Forward(const Batch& batch, const float* x, float* logits) {
  const int32_t n = batch.size();
  if (n == 0) return Status::InvalidArgument("empty batch");
  JARVIS_RETURN_IF_ERROR(SelectDevice());
  JARVIS_RETURN_IF_ERROR(PackBatch(batch, x));
  const int32_t max_n_pos = *std::max_element(batch.positions.begin(), batch.positions.end()) + 1;
  for (int32_t il = first_; il < hp_.n_layer; ++il) {
    RunLayer(weights_.layers[static_cast<size_t>(il - first_)], il - first_, n, max_n_pos);
  }
  const int32_t n_out = batch.n_outputs();
  if (n_out > 0) {
    // Final norm of the rows that want logits (compacted into h_), then the head.
    cuda::RmsNorm(x_.as<float>(), weights_.output_norm, hp_.n_embd, hp_.rms_eps, d_out_rows_, n_out,
                  h_.as<float>(), stream());
    const gpu::DeviceMatrix& o = weights_.output;
    cuda::MatMul(o.type, o.data, o.rows, o.cols, o.row_bytes, h_.as<float>(), n_out, logits_.as<float>(), stream());
    cuda::Softcap(logits_.as<float>(), static_cast<int64_t>(n_out) * hp_.n_vocab, hp_.final_softcap, stream());
  }
  const size_t logits_bytes = static_cast<size_t>(n_out) * static_cast<size_t>(hp_.n_vocab) * sizeof(float);
  if (logits_bytes > 0) {
    JARVIS_RETURN_IF_ERROR(gpu::CopyToHostAsync(pinned_out_.data(), logits_.data(), logits_bytes, stream()));
  }
  JARVIS_RETURN_IF_ERROR(gpu::SyncStream(stream(), "GPU forward"));
  if (logits_bytes > 0) std::memcpy(logits, pinned_out_.data(), logits_bytes);
  return Status::Ok();
}

Status CudaLayerOffload::CopyKvBlock(int32_t src, int32_t dst) {
  if (src < 0 || src >= n_kv_blocks_ || dst < 0 || dst >= n_kv_blocks_) {
    return Status::InvalidArgument("GPU offload: KV block copy " + std::to_string(src) + " -> " + std::to_string(dst) +
                                   " outside the pool of " + std::to_string(n_kv_blocks_));
  }
  if (src == dst) return Status::Ok();
  JARVIS_RETURN_IF_ERROR(SelectDevice());
  const size_t bytes = kv_layout_.block_bytes();
  JARVIS_RETURN_IF_ERROR(gpu::CopyDeviceAsync(kv_pool_.as<uint8_t>() + static_cast<size_t>(dst) * bytes,
                                              kv_pool_.as<uint8_t>() + static_cast<size_t>(src) * bytes, bytes,
                                              stream()));
  return gpu::SyncStream(stream(), "GPU KV block copy");
}

std::string CudaLayerOffload::Describe() const {
  const int32_t n = hp_.n_layer - first_;
  return "cuda:" + std::to_string(device_.index) + " " + device_.name + " (" + std::to_string(n) + "/" +
         std::to_string(hp_.n_layer) + " layers + output, " +
         std::to_string(DeviceBytes() >> 20) + " MiB weights+KV)";
}

}  // namespace

Result<std::unique_ptr<LayerOffload>> CreateGpuOffload(const Model& model, int32_t n_gpu_layers,
                                                       const KvLayout& layout, int32_t n_kv_blocks) {
  const GpuProbe& probe = ProbeGpus();
  if (probe.devices.empty()) return Status::Unsupported("GPU offload: " + probe.unavailable_reason);
  const int32_t n_layer = model.hparams().n_layer;
  if (n_gpu_layers < 1 || n_gpu_layers > n_layer) {
    return Status::InvalidArgument("GPU offload: " + std::to_string(n_gpu_layers) + " layers requested, the model has " +
                                   std::to_string(n_layer));
  }
  auto offload = std::make_unique<CudaLayerOffload>(model, n_layer - n_gpu_layers, probe.devices.front());
  JARVIS_RETURN_IF_ERROR(offload->Init(layout, n_kv_blocks));
  return std::unique_ptr<LayerOffload>(std::move(offload));
}

}  // namespace jarvis

#endif  // JARVIS_HAVE_CUDA
