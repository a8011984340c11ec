#include "engine/engine.h"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "engine/embedding_pooling.h"
#include "gpu/gpu_layer_plan.h"
#include "kernels/cpu/isa.h"

namespace jarvis {

namespace {

// The KV type's demands on the model and the placement. Q8_0 rows are whole
// blocks of 32 (a block may span heads when head_dim < 32, as in
// stories260K's 4 x 8), and only the CPU kernels read them: asking for GPU
// layers (explicitly, or auto with a usable GPU) is a conflict, not a silent
// CPU fallback.
Status CheckKvType(const Model& model, const EngineOptions& options) {
  if (options.kv_type != KvType::kQ8_0) return Status::Ok();
  const HParams& hp = model.hparams();
  const int32_t block = Traits(options.kv_type).block;
  if (hp.n_embd_kv() % block != 0) {
    return Status::InvalidArgument("kv_type q8_0 needs n_head_kv x head_dim to be a multiple of " +
                                   std::to_string(block) + "; this model has " + std::to_string(hp.n_head_kv) +
                                   " x head_dim " + std::to_string(hp.head_dim) + " (use --kv-type f16)");
  }
  // Encoders never offload (MakeOffload); auto offloads only to a usable GPU.
  const bool gpu_asked = options.gpu_layers != 0 && options.gpu_layers != kGpuLayersAuto;
  const bool gpu_auto =
      options.gpu_layers == kGpuLayersAuto && PlanGpuLayers(options.gpu_layers, hp.n_layer).gpu_layers > 0;
  if (!hp.spec->encoder && (gpu_asked || gpu_auto)) {
    return Status::InvalidArgument("kv_type q8_0 runs on the CPU only; use --gpu-layers 0 or --kv-type f16");
  }
  return Status::Ok();
}

}  // namespace

Result<std::unique_ptr<Engine>> Engine::Create(const Model& model, const EngineOptions& options) {
  const HParams& hp = model.hparams();
  if (options.n_threads < 0 || options.n_ctx < 0 || options.max_sequences < 1 || options.kv_block_size < 1 ||
      options.kv_blocks < 0) {
    return Status::InvalidArgument("engine options must be positive");
  }
  JARVIS_RETURN_IF_ERROR(CheckGpuLayersRequest(options.gpu_layers));
  JARVIS_RETURN_IF_ERROR(CheckKvType(model, options));
  const int32_t n_threads = options.n_threads > 0 ? options.n_threads : DefaultThreadCount();
  int32_t n_ctx = options.n_ctx > 0 ? options.n_ctx : std::min(hp.n_ctx_train, 4096);
  // Absolute positions (bert) exist only for the trained context.
  if (model.weights().pos_embd.data != nullptr) n_ctx = std::min(n_ctx, hp.n_ctx_train);
  std::unique_ptr<Engine> e(new Engine(model, n_threads, options.shared_pool, n_ctx));

  KvLayout layout;
  layout.n_layer = hp.n_layer;
  layout.n_embd_kv = hp.n_embd_kv();
  layout.block_size = options.kv_block_size;
  layout.type = options.kv_type;
  const int32_t blocks_per_seq = (e->n_ctx_ + layout.block_size - 1) / layout.block_size;
  int32_t n_blocks = options.kv_blocks > 0 ? options.kv_blocks : blocks_per_seq * options.max_sequences;
  if (hp.spec->encoder) n_blocks = 1;  // embeddings never touch the cache; Decode refuses encoders
  // The GPU keeps the K/V of its layers; the host pool holds only the CPU's
  // (at least one layer, the pool's minimum), under the same block ids.
  std::unique_ptr<LayerOffload> offload = e->MakeOffload(options, layout, n_blocks);
  KvLayout host_layout = layout;
  if (offload != nullptr) host_layout.n_layer = std::max(1, offload->first_layer());
  host_layout.head_dim = HeadMajorDim(layout.type, hp.head_dim);  // the GPU's stays position-major
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
  if (model_.hparams().spec->encoder) return nullptr;  // Embed runs on the CPU only (engine.h)
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
  const HParams& hp = model_.hparams();
  if (hp.pooling != Pooling::kMean && hp.pooling != Pooling::kCls && hp.pooling != Pooling::kLast) {
    return Status::Unsupported(model_.path() + ": pooling type '" + PoolingName(hp.pooling) +
                               "' gives no single vector per input (supported: mean, cls, last)");
  }
  for (size_t i = 0; i < inputs.size(); ++i) {
    const std::vector<int32_t>& in = inputs[i];
    const std::string which = "input " + std::to_string(i);
    if (in.empty()) return Status::InvalidArgument(which + " is empty");
    if (in.size() > static_cast<size_t>(n_ctx_)) {
      return Status::InvalidArgument(which + " has " + std::to_string(in.size()) +
                                     " tokens, more than the context of " + std::to_string(n_ctx_));
    }
    for (int32_t id : in) {
      if (id < 0 || id >= hp.n_vocab) {
        return Status::InvalidArgument(which + " has token id " + std::to_string(id) + " outside the vocabulary [0, " +
                                       std::to_string(hp.n_vocab) + ")");
      }
    }
  }
  const int32_t d = hp.n_embd;
  out->assign(inputs.size() * static_cast<size_t>(d), 0.0f);
  Batch batch;
  size_t next = 0;
  while (next < inputs.size()) {
    // Pack whole inputs back to back up to the budget (at least one input).
    const size_t first = next;
    batch.Clear();
    while (next < inputs.size() &&
           (batch.size() == 0 || batch.size() + inputs[next].size() <= static_cast<size_t>(kEmbedTokensPerPass))) {
      const std::vector<int32_t>& in = inputs[next];
      for (size_t p = 0; p < in.size(); ++p) {
        batch.Add(in[p], static_cast<int32_t>(p), static_cast<int32_t>(next - first), false);
      }
      ++next;
    }
    embed_hidden_.resize(static_cast<size_t>(batch.size()) * d);
    graph_.RunWithoutCache(batch, embed_hidden_.data());
    int64_t row = 0;
    for (size_t i = first; i < next; ++i) {
      const int32_t len = static_cast<int32_t>(inputs[i].size());
      PoolAndNormalize(hp.pooling, embed_hidden_.data() + row * d, len, d, out->data() + i * d);
      row += len;
    }
  }
  return Status::Ok();
}

}  // namespace jarvis
