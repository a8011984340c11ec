#include "engine/engine.h"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "gpu/gpu_layer_plan.h"
#include "kernels/cpu/isa.h"

namespace jarvis {

Result<std::unique_ptr<Engine>> Engine::Create(const Model& model, const EngineOptions& options) {
  const HParams& hp = model.hparams();
  if (options.n_threads < 0 || options.n_ctx < 0 || options.max_sequences < 1 || options.kv_block_size < 1 ||
      options.kv_blocks < 0) {
    return Status::InvalidArgument("engine options must be positive");
  }
  JARVIS_RETURN_IF_ERROR(CheckGpuLayersRequest(options.gpu_layers));
  const int32_t n_threads = options.n_threads > 0 ? options.n_threads : DefaultThreadCount();
  const int32_t n_ctx = options.n_ctx > 0 ? options.n_ctx : std::min(hp.n_ctx_train, 4096);
  std::unique_ptr<Engine> e(new Engine(model, n_threads, n_ctx));

  KvLayout layout;
  layout.n_layer = hp.n_layer;
  layout.n_embd_kv = hp.n_embd_kv();
  layout.block_size = options.kv_block_size;
  layout.f16 = options.kv_f16;
  const int32_t blocks_per_seq = (e->n_ctx_ + layout.block_size - 1) / layout.block_size;
  const int32_t n_blocks = options.kv_blocks > 0 ? options.kv_blocks : blocks_per_seq * options.max_sequences;
  // The GPU keeps the K/V of its layers; the host pool holds only the CPU's
  // (at least one layer, the pool's minimum), under the same block ids.
  std::unique_ptr<LayerOffload> offload = e->MakeOffload(options, layout, n_blocks);
  KvLayout host_layout = layout;
  if (offload != nullptr) host_layout.n_layer = std::max(1, offload->first_layer());
  JARVIS_ASSIGN_OR_RETURN(e->kv_, KvCache::Create(host_layout, n_blocks));
  if (offload != nullptr) {
    e->SetOffload(std::move(offload));
    spdlog::info("model runs on {}", e->backend());
  }
  return e;
}

std::unique_ptr<LayerOffload> Engine::MakeOffload(const EngineOptions& options, const KvLayout& layout,
                                                  int32_t n_blocks) const {
  // Callers that loaded the model with PlanGpuLayersAtLoad pass the planned
  // count, which plans to itself; others (tests, tools) pass the request.
  const GpuLayerPlan plan = PlanGpuLayers(options.gpu_layers, model_.hparams().n_layer);
  ReportGpuLayerPlan(plan);
  const int32_t n_gpu = plan.gpu_layers;
  if (n_gpu <= 0) return nullptr;
  auto offload = CreateGpuOffload(model_, n_gpu, layout, n_blocks, n_ctx_);
  if (!offload.ok()) {
    spdlog::warn("GPU offload unavailable ({}); running on the CPU", offload.status().message());
    return nullptr;
  }
  return std::move(offload).value();
}

void Engine::SetOffload(std::unique_ptr<LayerOffload> offload) {
  offload_ = std::move(offload);
  graph_.SetOffload(offload_.get());
  if (offload_ == nullptr) {
    kv_->set_block_copy_listener(nullptr);
  } else {
    LayerOffload* target = offload_.get();
    kv_->set_block_copy_listener([target](int32_t src, int32_t dst) { return target->CopyKvBlock(src, dst); });
  }
}

std::string Engine::backend() const {
  if (offload_ != nullptr) return offload_->Describe();
  return std::string("cpu (") + KernelIsaName(ActiveKernelIsa()) + ")";
}

int32_t Engine::gpu_layers() const {
  return offload_ != nullptr ? model_.hparams().n_layer - offload_->first_layer() : 0;
}

Status Engine::Decode(const Batch& batch, std::vector<float>* logits) {
  const size_t n_out = static_cast<size_t>(batch.n_outputs());
  logits->resize(n_out * static_cast<size_t>(model_.hparams().n_vocab));
  return graph_.Forward(batch, kv_->view(), logits->data());
}

Status Engine::Embed(const std::vector<std::vector<int32_t>>& inputs, std::vector<float>* out) {
  // Interface first; the encoder/decoder embedding pass replaces this (issue 20).
  (void)inputs;
  (void)out;
  return Status::Unsupported("embeddings are not implemented yet");
}

}  // namespace jarvis
