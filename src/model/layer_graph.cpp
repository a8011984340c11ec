#include "model/layer_graph.h"

namespace jarvis {

LayerGraph::LayerGraph(const Model& model, int32_t n_ctx) : model_(model) {
  const HParams& hp = model.hparams();
  const float* factors = RopeFactorsForContext(model.weights(), hp, n_ctx);
  rope_.reserve(hp.layers.size());
  for (const LayerParams& l : hp.layers) {
    rope_.push_back(l.rope);
    rope_.back().freq_factors = factors;
  }
}

void LayerGraph::RunLayers(LayerOps& ops, int32_t n_tokens, int32_t first, int32_t last) const {
  for (int32_t il = first; il < last; ++il) RunLayer(ops, n_tokens, il);
}

void LayerGraph::RunLayer(LayerOps& ops, int32_t n, int32_t il) const {
  using R = TensorRole;
  const HParams& hp = model_.hparams();
  const LayerWeights& l = model_.weights().layers[static_cast<size_t>(il)];
  const int64_t d = hp.n_embd;
  const int64_t dq = hp.n_embd_q();
  const int64_t dkv = hp.n_embd_kv();
  const int32_t hd = hp.head_dim;
  const float eps = hp.rms_eps;

  // Attention block.
  ops.RmsNorm(il, R::kAttnNorm, Act::kX, Act::kH, d, n, eps);
  ops.MatMul(il, R::kAttnQ, Act::kH, Act::kQ, n);
  ops.MatMul(il, R::kAttnK, Act::kH, Act::kK, n);
  ops.MatMul(il, R::kAttnV, Act::kH, Act::kV, n);
  if (l.bq != nullptr) ops.AddBias(il, R::kAttnQBias, Act::kQ, dq, n);  // qwen2
  if (l.bk != nullptr) ops.AddBias(il, R::kAttnKBias, Act::kK, dkv, n);
  if (l.bv != nullptr) ops.AddBias(il, R::kAttnVBias, Act::kV, dkv, n);
  // Per-head RMSNorm before rope (qwen3, gemma3): every head is a row.
  if (l.q_norm != nullptr) ops.RmsNorm(il, R::kAttnQNorm, Act::kQ, Act::kQ, hd, n * hp.n_head, eps);
  if (l.k_norm != nullptr) ops.RmsNorm(il, R::kAttnKNorm, Act::kK, Act::kK, hd, n * hp.n_head_kv, eps);
  const RopeParams& rope = rope_[static_cast<size_t>(il)];
  ops.Rope(Act::kQ, hp.n_head, hd, rope);
  ops.Rope(Act::kK, hp.n_head_kv, hd, rope);
  AttentionParams attention;
  attention.scale = hp.attn_scale;
  attention.softcap = hp.attn_softcap;  // gemma2
  attention.window = hp.layers[static_cast<size_t>(il)].sliding_window ? hp.sliding_window : 0;
  ops.StoreKvAndAttend(il, attention);
  ops.MatMul(il, R::kAttnOut, Act::kAtt, Act::kOut, n);
  // gemma: norm of the block's output before the residual add.
  if (l.attn_post_norm != nullptr) ops.RmsNorm(il, R::kAttnPostNorm, Act::kOut, Act::kOut, d, n, eps);
  ops.Add(Act::kX, Act::kOut, n * d);

  // Feed-forward block: down(act(gate(h)) * up(h)).
  ops.RmsNorm(il, R::kFfnNorm, Act::kX, Act::kH, d, n, eps);
  ops.MatMul(il, R::kFfnGate, Act::kH, Act::kGate, n);
  ops.MatMul(il, R::kFfnUp, Act::kH, Act::kUp, n);
  ops.GatedActivation(hp.spec->activation, Act::kGate, Act::kUp, static_cast<int64_t>(n) * hp.n_ff);
  ops.MatMul(il, R::kFfnDown, Act::kGate, Act::kOut, n);
  if (l.ffn_post_norm != nullptr) ops.RmsNorm(il, R::kFfnPostNorm, Act::kOut, Act::kOut, d, n, eps);
  ops.Add(Act::kX, Act::kOut, n * d);
}

void LayerGraph::RunHead(LayerOps& ops, int32_t n_outputs) const {
  const HParams& hp = model_.hparams();
  ops.NormLogitRows(Act::kX, Act::kH, hp.n_embd, hp.rms_eps);
  ops.MatMul(-1, TensorRole::kOutput, Act::kH, Act::kLogits, n_outputs);
  if (hp.final_softcap > 0.0f) {  // gemma2
    ops.Softcap(Act::kLogits, static_cast<int64_t>(n_outputs) * hp.n_vocab, hp.final_softcap);
  }
}

}  // namespace jarvis
