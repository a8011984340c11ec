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
  for (int32_t il = first; il < last; ++il) RunLayer(ops, n_tokens, il, /*use_cache=*/true);
}

void LayerGraph::RunLayersWithoutCache(LayerOps& ops, int32_t n_tokens) const {
  for (int32_t il = 0; il < model_.hparams().n_layer; ++il) RunLayer(ops, n_tokens, il, /*use_cache=*/false);
}

void LayerGraph::RunInputNorm(LayerOps& ops, int32_t n_tokens) const {
  if (model_.weights().tok_norm == nullptr) return;
  const HParams& hp = model_.hparams();
  ops.LayerNorm(-1, TensorRole::kTokenEmbdNorm, TensorRole::kTokenEmbdNormBias, Act::kX, Act::kX, hp.n_embd,
                n_tokens, hp.rms_eps);
}

void LayerGraph::RunFinalNorm(LayerOps& ops, int32_t n_tokens) const {
  if (model_.weights().output_norm == nullptr) return;  // encoders
  const HParams& hp = model_.hparams();
  ops.RmsNorm(-1, TensorRole::kOutputNorm, Act::kX, Act::kX, hp.n_embd, n_tokens, hp.rms_eps);
}

void LayerGraph::Norm(LayerOps& ops, int32_t il, TensorRole weight, TensorRole bias, Act in, Act out,
                      int32_t n) const {
  const HParams& hp = model_.hparams();
  if (hp.spec->norm == NormKind::kLayer) {
    ops.LayerNorm(il, weight, bias, in, out, hp.n_embd, n, hp.rms_eps);
  } else {
    ops.RmsNorm(il, weight, in, out, hp.n_embd, n, hp.rms_eps);
  }
}

void LayerGraph::RunLayer(LayerOps& ops, int32_t n, int32_t il, bool use_cache) const {
  using R = TensorRole;
  const HParams& hp = model_.hparams();
  const ArchSpec& spec = *hp.spec;
  const LayerWeights& l = model_.weights().layers[static_cast<size_t>(il)];
  const int64_t d = hp.n_embd;
  const int64_t dq = hp.n_embd_q();
  const int64_t dkv = hp.n_embd_kv();
  const int32_t hd = hp.head_dim;
  const float eps = hp.rms_eps;
  // Pre-norm blocks read norm(x) (Act::kH); the encoders' post-norm blocks
  // read x itself and norm the residual sum afterwards.
  const bool pre_norm = !spec.residual_norms;

  // Attention block.
  if (pre_norm) ops.RmsNorm(il, R::kAttnNorm, Act::kX, Act::kH, d, n, eps);
  const Act attn_in = pre_norm ? Act::kH : Act::kX;
  ops.MatMul(il, R::kAttnQ, attn_in, Act::kQ, n);
  ops.MatMul(il, R::kAttnK, attn_in, Act::kK, n);
  ops.MatMul(il, R::kAttnV, attn_in, Act::kV, n);
  if (l.bq != nullptr) ops.AddBias(il, R::kAttnQBias, Act::kQ, dq, n);  // qwen2, bert
  if (l.bk != nullptr) ops.AddBias(il, R::kAttnKBias, Act::kK, dkv, n);
  if (l.bv != nullptr) ops.AddBias(il, R::kAttnVBias, Act::kV, dkv, n);
  // Per-head RMSNorm before rope (qwen3, gemma3): every head is a row.
  if (l.q_norm != nullptr) ops.RmsNorm(il, R::kAttnQNorm, Act::kQ, Act::kQ, hd, n * hp.n_head, eps);
  if (l.k_norm != nullptr) ops.RmsNorm(il, R::kAttnKNorm, Act::kK, Act::kK, hd, n * hp.n_head_kv, eps);
  if (spec.rope) {  // bert's positions were added to the input instead
    const RopeParams& rope = rope_[static_cast<size_t>(il)];
    ops.Rope(Act::kQ, hp.n_head, hd, rope);
    ops.Rope(Act::kK, hp.n_head_kv, hd, rope);
  }
  AttentionParams attention;
  attention.scale = hp.attn_scale;
  attention.softcap = hp.attn_softcap;  // gemma2
  attention.window = hp.layers[static_cast<size_t>(il)].sliding_window ? hp.sliding_window : 0;
  if (use_cache) {
    ops.StoreKvAndAttend(il, attention);
  } else {
    ops.AttendWithinBatch(attention, hp.causal);
  }
  ops.MatMul(il, R::kAttnOut, Act::kAtt, Act::kOut, n);
  if (l.bo != nullptr) ops.AddBias(il, R::kAttnOutBias, Act::kOut, d, n);
  // gemma: norm of the block's output before the residual add.
  if (l.attn_post_norm != nullptr) ops.RmsNorm(il, R::kAttnPostNorm, Act::kOut, Act::kOut, d, n, eps);
  ops.Add(Act::kX, Act::kOut, n * d);
  if (spec.residual_norms) Norm(ops, il, R::kAttnOutNorm, R::kAttnOutNormBias, Act::kX, Act::kX, n);

  // Feed-forward block: down(act(gate(h)) * up(h)), or down(act(up(h))).
  if (pre_norm) ops.RmsNorm(il, R::kFfnNorm, Act::kX, Act::kH, d, n, eps);
  const Act ffn_in = pre_norm ? Act::kH : Act::kX;
  const int64_t n_ff_values = static_cast<int64_t>(n) * hp.n_ff;
  Act hidden = Act::kGate;
  if (spec.gated_ffn) {
    ops.MatMul(il, R::kFfnGate, ffn_in, Act::kGate, n);
    ops.MatMul(il, R::kFfnUp, ffn_in, Act::kUp, n);
    ops.GatedActivation(spec.activation, Act::kGate, Act::kUp, n_ff_values);
  } else {
    ops.MatMul(il, R::kFfnUp, ffn_in, Act::kUp, n);
    if (l.b_up != nullptr) ops.AddBias(il, R::kFfnUpBias, Act::kUp, hp.n_ff, n);
    ops.Activation(spec.activation, Act::kUp, n_ff_values);
    hidden = Act::kUp;
  }
  ops.MatMul(il, R::kFfnDown, hidden, Act::kOut, n);
  if (l.b_down != nullptr) ops.AddBias(il, R::kFfnDownBias, Act::kOut, d, n);
  if (l.ffn_post_norm != nullptr) ops.RmsNorm(il, R::kFfnPostNorm, Act::kOut, Act::kOut, d, n, eps);
  ops.Add(Act::kX, Act::kOut, n * d);
  if (spec.residual_norms) Norm(ops, il, R::kLayerOutNorm, R::kLayerOutNormBias, Act::kX, Act::kX, n);
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
