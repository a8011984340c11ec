#include "model/cpu_layer_ops.h"

#include <algorithm>

#include "kernels/cpu/attention.h"
#include "kernels/cpu/matmul.h"
#include "kernels/cpu/ops.h"

namespace jarvis {
namespace {

void Grow(std::vector<float>& v, size_t n) {
  if (v.size() < n) v.resize(n);
}

}  // namespace

CpuLayerOps::CpuLayerOps(const Model& model, ThreadPool& pool) : model_(model), pool_(pool), attention_(pool) {}

void CpuLayerOps::Bind(const Batch& batch, const KvPoolView& kv, float* x, float* logits) {
  const HParams& hp = model_.hparams();
  const size_t n = static_cast<size_t>(batch.size());
  batch_ = &batch;
  kv_ = kv;
  Grow(h_, n * hp.n_embd);
  Grow(out_, n * hp.n_embd);
  Grow(q_, n * hp.n_embd_q());
  Grow(att_, n * hp.n_embd_q());
  Grow(k_, n * hp.n_embd_kv());
  Grow(v_, n * hp.n_embd_kv());
  Grow(gate_, n * hp.n_ff);
  Grow(up_, n * hp.n_ff);
  act_ = {x, h_.data(), q_.data(), k_.data(), v_.data(), att_.data(), out_.data(), gate_.data(), up_.data(), logits};
}

const float* CpuLayerOps::Vector(int32_t layer, TensorRole role) const {
  if (layer < 0) return model_.weights().output_norm;
  return model_.weights().layers[static_cast<size_t>(layer)].vector(role);
}

void CpuLayerOps::MatMul(int32_t layer, TensorRole weight, Act in, Act out, int32_t rows) {
  const ModelWeights& w = model_.weights();
  const WeightMatrix& m = layer < 0 ? w.output : w.layers[static_cast<size_t>(layer)].matrix(weight);
  jarvis::MatMul(m, at(in), rows, at(out), pool_);
}

void CpuLayerOps::RmsNorm(int32_t layer, TensorRole weight, Act in, Act out, int64_t width, int32_t rows,
                          float eps) {
  const float* w = Vector(layer, weight);
  const float* x = at(in);
  float* y = at(out);
  for (int64_t r = 0; r < rows; ++r) jarvis::RmsNorm(x + r * width, w, width, eps, y + r * width);
}

void CpuLayerOps::AddBias(int32_t layer, TensorRole bias, Act x, int64_t width, int32_t rows) {
  const float* b = Vector(layer, bias);
  float* v = at(x);
  for (int64_t r = 0; r < rows; ++r) AddInPlace(v + r * width, b, width);
}

void CpuLayerOps::Rope(Act x, int32_t n_heads, int32_t head_dim, const RopeParams& rope) {
  float* v = at(x);
  const int64_t width = static_cast<int64_t>(n_heads) * head_dim;
  for (int32_t t = 0; t < batch_->size(); ++t) ApplyRope(v + t * width, n_heads, head_dim, batch_->positions[t], rope);
}

void CpuLayerOps::StoreKvAndAttend(int32_t layer, const AttentionParams& params) {
  const HParams& hp = model_.hparams();
  attention_.StoreKvAndAttend(*batch_, kv_, layer, params,
                              {q_.data(), k_.data(), v_.data(), att_.data(), hp.n_head, hp.n_head_kv, hp.head_dim});
}

void CpuLayerOps::GatedActivation(FfnActivation activation, Act gate, Act up, int64_t n) {
  if (activation == FfnActivation::kGeluTanh) {
    GeluTanhMul(at(gate), at(up), n);
  } else {
    SiluMul(at(gate), at(up), n);
  }
}

void CpuLayerOps::Add(Act x, Act y, int64_t n) { AddInPlace(at(x), at(y), n); }

void CpuLayerOps::Softcap(Act x, int64_t n, float cap) { SoftcapInPlace(at(x), n, cap); }

void CpuLayerOps::NormLogitRows(Act in, Act out, int64_t width, float eps) {
  const float* x = at(in);
  float* y = at(out);
  int32_t n_out = 0;
  for (int32_t t = 0; t < batch_->size(); ++t) {
    if (batch_->logits[t]) {
      jarvis::RmsNorm(x + t * width, model_.weights().output_norm, width, eps, y + n_out++ * width);
    }
  }
}

}  // namespace jarvis
