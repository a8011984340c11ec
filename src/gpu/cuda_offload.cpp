// CudaLayerOffload: the LayerOffload of a CUDA device. It owns the device copy
// of its layers and the output head (gpu/cuda_weights.h), a KV pool for its
// layers in the CPU pool's block geometry (same block ids; a block holds only
// the offloaded layers), one stream, and scratch that grows with the largest
// batch. Forward:
//   1. packs x and the batch metadata (positions, per-token block-table
//      offsets, flattened block tables, rows that want logits) into pinned
//      host memory and copies them to the device;
//   2. runs the offloaded layers and the head with the one layer graph
//      (model/layer_graph.h) over CudaLayerOps (gpu/cuda_layer_ops.h): the
//      CUDA kernels of kernels/cuda/launchers.h, in the CPU's order;
//   3. copies the logits back and waits for the stream.
// Not done yet: CUDA-graph capture of decode steps, tensor-core matmuls.
#if defined(JARVIS_HAVE_CUDA)

#include <cuda_runtime.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "gpu/cuda_layer_ops.h"
#include "gpu/cuda_memory.h"
#include "gpu/cuda_weights.h"
#include "gpu/gpu_backend.h"
#include "kernels/cuda/launchers.h"
#include "model/layer_graph.h"

namespace jarvis {
namespace {

using gpu::DeviceBuffer;

class CudaLayerOffload final : public LayerOffload {
 public:
  CudaLayerOffload(const Model& model, int32_t first_layer, const GpuDevice& device, int32_t n_ctx)
      : model_(model),
        hp_(model.hparams()),
        first_(first_layer),
        device_(device),
        graph_(model, n_ctx),
        ops_(model, weights_, first_layer) {}

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
  void* stream() const { return stream_.get(); }

  const Model& model_;
  const HParams& hp_;
  const int32_t first_;
  const GpuDevice device_;
  KvLayout kv_layout_;  // the CPU geometry with n_layer = offloaded layers
  int32_t n_kv_blocks_ = 0;

  gpu::CudaStream stream_;
  gpu::DeviceWeights weights_;
  const LayerGraph graph_;
  gpu::CudaLayerOps ops_;  // reads weights_
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
  int32_t max_n_pos_ = 0;
  std::vector<int32_t> meta_host_;
};

Status CudaLayerOffload::Init(const KvLayout& layout, int32_t n_kv_blocks) {
  if (layout.n_embd_kv != hp_.n_embd_kv()) return Status::InvalidArgument("GPU offload: KV layout does not match the model");
  if (n_kv_blocks <= 0) return Status::InvalidArgument("GPU offload: KV pool has no blocks");
  // The CUDA kernels read and write F16 / F32 rows only (Engine::Create refuses
  // other KV types with GPU layers first; this guards other callers).
  if (layout.type != KvType::kF16 && layout.type != KvType::kF32) {
    return Status::InvalidArgument(std::string("GPU offload: kv_type ") + KvTypeName(layout.type) +
                                   " runs on the CPU only");
  }
  JARVIS_RETURN_IF_ERROR(SelectDevice());
  JARVIS_RETURN_IF_ERROR(stream_.Create());
  JARVIS_ASSIGN_OR_RETURN(weights_, gpu::UploadWeights(model_, first_));
  kv_layout_ = layout;
  kv_layout_.n_layer = hp_.n_layer - first_;
  kv_layout_.head_dim = 0;  // position-major: the CUDA kernels address position rows (model/kv_layout.h)
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
  // The caller validated the batch against the CPU pool, which has as many
  // blocks as ours; the same check against our pool guards what the kernels
  // will index.
  JARVIS_RETURN_IF_ERROR(ValidateBatch(batch, hp_.n_vocab, kv_layout_, n_kv_blocks_));
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
    m[static_cast<size_t>(n + t)] = seq_offset[static_cast<size_t>(batch.seq[static_cast<size_t>(t)])];
  }
  const int32_t max_pos = *std::max_element(batch.positions.begin(), batch.positions.end());
  max_n_pos_ = max_pos + 1;
  JARVIS_RETURN_IF_ERROR(EnsureScratch(n, batch.n_outputs(), max_n_pos_, m.size()));

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

Status CudaLayerOffload::Forward(const Batch& batch, const float* x, float* logits) {
  JARVIS_RETURN_IF_ERROR(SelectDevice());
  JARVIS_RETURN_IF_ERROR(PackBatch(batch, x));
  gpu::CudaBinding b;
  b.n_tokens = batch.size();
  b.n_outputs = batch.n_outputs();
  b.max_n_pos = max_n_pos_;
  b.positions = d_positions_;
  b.table_offsets = d_table_offsets_;
  b.out_rows = d_out_rows_;
  b.tables = d_tables_;
  b.acts = {x_.as<float>(),   h_.as<float>(),   q_.as<float>(),    k_.as<float>(),  v_.as<float>(),
            att_.as<float>(), out_.as<float>(), gate_.as<float>(), up_.as<float>(), logits_.as<float>()};
  b.attention_scratch = attn_scratch_.as<float>();
  b.kv_pool = kv_pool_.as<uint8_t>();
  b.kv_layout = kv_layout_;
  b.stream = stream();
  ops_.Bind(b);
  graph_.RunLayers(ops_, b.n_tokens, first_, hp_.n_layer);
  if (b.n_outputs > 0) graph_.RunHead(ops_, b.n_outputs);
  const size_t logits_bytes = static_cast<size_t>(b.n_outputs) * static_cast<size_t>(hp_.n_vocab) * sizeof(float);
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
                                                       const KvLayout& layout, int32_t n_kv_blocks, int32_t n_ctx) {
  const GpuProbe& probe = ProbeGpus();
  if (probe.devices.empty()) return Status::Unsupported("GPU offload: " + probe.unavailable_reason);
  const int32_t n_layer = model.hparams().n_layer;
  if (n_gpu_layers < 1 || n_gpu_layers > n_layer) {
    return Status::InvalidArgument("GPU offload: " + std::to_string(n_gpu_layers) + " layers requested, the model has " +
                                   std::to_string(n_layer));
  }
  auto offload = std::make_unique<CudaLayerOffload>(model, n_layer - n_gpu_layers, probe.devices.front(), n_ctx);
  JARVIS_RETURN_IF_ERROR(offload->Init(layout, n_kv_blocks));
  return std::unique_ptr<LayerOffload>(std::move(offload));
}

}  // namespace jarvis

#endif  // JARVIS_HAVE_CUDA
