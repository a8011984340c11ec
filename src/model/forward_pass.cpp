#include "model/forward_pass.h"

#include <algorithm>
#include <string>

#include "kernels/cpu/matmul.h"
#include "kernels/cpu/ops.h"

namespace jarvis {

ForwardPass::ForwardPass(const Model& model, ThreadPool& pool, int32_t n_ctx)
    : model_(model), graph_(model, n_ctx), ops_(model, pool) {}

Status ForwardPass::Validate(const Batch& batch, const KvPoolView& kv, int32_t kv_layers) const {
  const HParams& hp = model_.hparams();
  if (hp.spec->encoder) {
    return Status::Unsupported("'" + hp.arch_name + "' is an encoder (embeddings only): it has no output head "
                               "to generate with; use Engine::Embed");
  }
  if (kv.layout.n_layer < kv_layers || kv.layout.n_embd_kv != hp.n_embd_kv()) {
    return Status::InvalidArgument("KV pool geometry does not match the model");
  }
  return ValidateBatch(batch, hp.n_vocab, kv.layout, kv.n_blocks);
}

Status ForwardPass::Forward(const Batch& batch, const KvPoolView& kv, float* logits) {
  const HParams& hp = model_.hparams();
  const int32_t n = batch.size();
  const int64_t d = hp.n_embd;
  const int32_t cpu_layers = offload_ != nullptr ? std::clamp(offload_->first_layer(), 0, hp.n_layer) : hp.n_layer;
  JARVIS_RETURN_IF_ERROR(Validate(batch, kv, cpu_layers));
  if (x_.size() < static_cast<size_t>(n * d)) x_.resize(static_cast<size_t>(n * d));
  LookUpEmbeddings(batch, x_.data());
  ops_.Bind(batch, kv, x_.data(), logits);
  graph_.RunLayers(ops_, n, 0, cpu_layers);
  if (offload_ != nullptr) return offload_->Forward(batch, x_.data(), logits);
  if (batch.n_outputs() > 0) graph_.RunHead(ops_, batch.n_outputs());
  return Status::Ok();
}

void ForwardPass::LookUpEmbeddings(const Batch& batch, float* x) {
  const HParams& hp = model_.hparams();
  const ModelWeights& w = model_.weights();
  const int64_t d = hp.n_embd;
  std::vector<float> extra;
  std::vector<float> type0;
  if (w.type_embd.data != nullptr) {  // every token is sentence A (type 0), as llama.cpp runs BERT
    type0.resize(static_cast<size_t>(d));
    DequantizeWeightRow(w.type_embd, 0, type0.data());
  }
  if (w.pos_embd.data != nullptr) extra.resize(static_cast<size_t>(d));
  for (int32_t t = 0; t < batch.size(); ++t) {
    float* row = x + t * d;
    DequantizeWeightRow(w.tok_embd, batch.tokens[t], row);
    if (hp.embd_scale != 1.0f) ScaleInPlace(row, d, hp.embd_scale);
    if (!type0.empty()) AddInPlace(row, type0.data(), d);
    if (!extra.empty()) {
      DequantizeWeightRow(w.pos_embd, batch.positions[t], extra.data());
      AddInPlace(row, extra.data(), d);
    }
  }
}

void ForwardPass::RunWithoutCache(const Batch& batch, float* hidden) {
  const int32_t n = batch.size();
  LookUpEmbeddings(batch, hidden);
  ops_.BindWithoutCache(batch, hidden);
  graph_.RunInputNorm(ops_, n);
  graph_.RunLayersWithoutCache(ops_, n);
  graph_.RunFinalNorm(ops_, n);
}

Status ForwardPass::RunLayers(const Batch& batch, const KvPoolView& kv, int32_t first, int32_t last, float* x) {
  if (first < 0 || first > last || last > model_.hparams().n_layer) {
    return Status::InvalidArgument("layer range [" + std::to_string(first) + ", " + std::to_string(last) +
                                   ") outside the model's " + std::to_string(model_.hparams().n_layer) + " layers");
  }
  JARVIS_RETURN_IF_ERROR(Validate(batch, kv, last));
  ops_.Bind(batch, kv, x, nullptr);
  graph_.RunLayers(ops_, batch.size(), first, last);
  return Status::Ok();
}

Status ForwardPass::Head(const Batch& batch, const float* x, float* logits) {
  if (batch.tokens.empty()) return Status::InvalidArgument("empty batch");
  if (batch.logits.size() != batch.tokens.size()) return Status::InvalidArgument("batch arrays differ in length");
  // The head reads x and never writes it.
  ops_.Bind(batch, KvPoolView{}, const_cast<float*>(x), logits);
  if (batch.n_outputs() > 0) graph_.RunHead(ops_, batch.n_outputs());
  return Status::Ok();
}

}  // namespace jarvis
