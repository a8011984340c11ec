#include "engine/engine.h"

#include <algorithm>

namespace jarvis {

Result<std::unique_ptr<Engine>> Engine::Create(const Model& model, const EngineOptions& options) {
  const HParams& hp = model.hparams();
  if (options.n_threads < 0 || options.n_ctx < 0 || options.max_sequences < 1 || options.kv_block_size < 1) {
    return Status::InvalidArgument("engine options must be positive");
  }
  const int32_t n_threads = options.n_threads > 0 ? options.n_threads : DefaultThreadCount();
  std::unique_ptr<Engine> e(new Engine(model, n_threads));
  e->n_ctx_ = options.n_ctx > 0 ? options.n_ctx : std::min(hp.n_ctx_train, 4096);

  KvLayout layout;
  layout.n_layer = hp.n_layer;
  layout.n_embd_kv = hp.n_embd_kv();
  layout.block_size = options.kv_block_size;
  layout.f16 = options.kv_f16;
  const int32_t blocks_per_seq = (e->n_ctx_ + layout.block_size - 1) / layout.block_size;
  JARVIS_ASSIGN_OR_RETURN(e->kv_, KvCache::Create(layout, blocks_per_seq * options.max_sequences));
  return e;
}

Status Engine::Decode(const Batch& batch, std::vector<float>* logits) {
  const size_t n_out = static_cast<size_t>(batch.n_outputs());
  logits->resize(n_out * static_cast<size_t>(model_.hparams().n_vocab));
  return graph_.Forward(batch, kv_->view(), logits->data());
}

}  // namespace jarvis
