#include "model/llama_graph.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "kernels/cpu/attention.h"
#include "kernels/cpu/ops.h"

namespace jarvis {
namespace {

void Grow(std::vector<float>& v, size_t n) {
  if (v.size() < n) v.resize(n);
}

}  // namespace

LlamaGraph::LlamaGraph(const Model& model, ThreadPool& pool) : model_(model), pool_(pool) {}

Status LlamaGraph::Validate(const Batch& batch, const KvPoolView& kv, int32_t kv_layers) const {
  const HParams& hp = model_.hparams();
  const size_t n = batch.tokens.size();
  if (n == 0) return Status::InvalidArgument("empty batch");
  if (batch.positions.size() != n || batch.seq.size() != n || batch.logits.size() != n) {
    return Status::InvalidArgument("batch arrays differ in length");
  }
  if (kv.layout.n_layer < kv_layers || kv.layout.n_embd_kv != hp.n_embd_kv()) {
    return Status::InvalidArgument("KV pool geometry does not match the model");
  }
  for (size_t i = 0; i < n; ++i) {
    const int32_t tok = batch.tokens[i];
    const int32_t pos = batch.positions[i];
    const int32_t s = batch.seq[i];
    if (tok < 0 || tok >= hp.n_vocab) {
      return Status::InvalidArgument("token id " + std::to_string(tok) + " outside the vocabulary (" +
                                     std::to_string(hp.n_vocab) + ")");
    }
    if (s < 0 || static_cast<size_t>(s) >= batch.block_tables.size()) {
      return Status::InvalidArgument("sequence index " + std::to_string(s) + " has no block table");
    }
    const auto& table = batch.block_tables[static_cast<size_t>(s)];
    if (pos < 0 || static_cast<size_t>(pos / kv.layout.block_size) >= table.size()) {
      return Status::InvalidArgument("position " + std::to_string(pos) + " is not covered by its block table");
    }
    for (size_t b = 0; b <= static_cast<size_t>(pos / kv.layout.block_size); ++b) {
      if (table[b] < 0 || table[b] >= kv.n_blocks) return Status::InvalidArgument("block id out of range");
    }
  }
  return Status::Ok();
}

void LlamaGraph::EnsureScratch(int32_t n_tokens, int32_t max_pos) {
  const HParams& hp = model_.hparams();
  const size_t n = static_cast<size_t>(n_tokens);
  Grow(x_, n * hp.n_embd);
  Grow(h_, n * hp.n_embd);
  Grow(out_, n * hp.n_embd);
  Grow(q_, n * hp.n_embd_q());
  Grow(att_, n * hp.n_embd_q());
  Grow(k_, n * hp.n_embd_kv());
  Grow(v_, n * hp.n_embd_kv());
  Grow(gate_, n * hp.n_ff);
  Grow(up_, n * hp.n_ff);
  scores_stride_ = std::max(scores_stride_, max_pos + 1);
  Grow(scores_, static_cast<size_t>(scores_stride_) * static_cast<size_t>(hp.n_head / hp.n_head_kv) * pool_.size());
}

void LlamaGraph::Attention(const Batch& batch, const KvPoolView& kv, int32_t layer) {
  const HParams& hp = model_.hparams();
  const int32_t n_tokens = batch.size();
  const int32_t group = hp.n_head / hp.n_head_kv;
  const int32_t window = hp.layers[static_cast<size_t>(layer)].sliding_window ? hp.sliding_window : 0;
  // One work item per (token, KV head): the query heads that share the KV
  // head read its cached rows once (AttentionGroup), each writing its own
  // slice of att_.
  pool_.Run([&](int thread, int n_threads) {
    float* scores = scores_.data() + static_cast<size_t>(thread) * scores_stride_ * static_cast<size_t>(group);
    const int64_t n_items = static_cast<int64_t>(n_tokens) * hp.n_head_kv;
    for (int64_t item = thread; item < n_items; item += n_threads) {
      const int32_t t = static_cast<int32_t>(item / hp.n_head_kv);
      const int32_t kvh = static_cast<int32_t>(item % hp.n_head_kv);
      const int32_t* table = batch.block_tables[static_cast<size_t>(batch.seq[t])].data();
      KvRows k = kv.Rows(layer, /*values=*/false, table);
      KvRows v = kv.Rows(layer, /*values=*/true, table);
      // A sliding-window layer sees positions [pos - window + 1, pos] only.
      const int32_t pos = batch.positions[t];
      k.first = v.first = window > 0 ? std::max(0, pos - window + 1) : 0;
      const size_t first = static_cast<size_t>(t) * hp.n_embd_q() + static_cast<size_t>(kvh * group) * hp.head_dim;
      AttentionGroup(q_.data() + first, group, k, v, kvh, hp.head_dim, pos + 1 - k.first, hp.attn_scale, scores,
                     att_.data() + first, hp.attn_softcap);
    }
  });
}

Status LlamaGraph::Forward(const Batch& batch, const KvPoolView& kv, float* logits) {
  const HParams& hp = model_.hparams();
  const int32_t n = batch.size();
  const int64_t d = hp.n_embd;
  const int32_t cpu_layers = offload_ != nullptr ? std::clamp(offload_->first_layer(), 0, hp.n_layer) : hp.n_layer;
  JARVIS_RETURN_IF_ERROR(Validate(batch, kv, cpu_layers));
  EnsureScratch(n, *std::max_element(batch.positions.begin(), batch.positions.end()));
  for (int32_t t = 0; t < n; ++t) {
    DequantizeWeightRow(model_.weights().tok_embd, batch.tokens[t], &x_[t * d]);
    if (hp.embd_scale != 1.0f) ScaleInPlace(&x_[t * d], d, hp.embd_scale);
  }
  Layers(batch, kv, 0, cpu_layers, x_.data());
  if (offload_ != nullptr) return offload_->Forward(batch, x_.data(), logits);
  HeadRows(batch, x_.data(), logits);
  return Status::Ok();
}

Status LlamaGraph::RunLayers(const Batch& batch, const KvPoolView& kv, int32_t first, int32_t last, float* x) {
  if (first < 0 || first > last || last > model_.hparams().n_layer) {
    return Status::InvalidArgument("layer range [" + std::to_string(first) + ", " + std::to_string(last) +
                                   ") outside the model's " + std::to_string(model_.hparams().n_layer) + " layers");
  }
  JARVIS_RETURN_IF_ERROR(Validate(batch, kv, last));
  EnsureScratch(batch.size(), *std::max_element(batch.positions.begin(), batch.positions.end()));
  Layers(batch, kv, first, last, x);
  return Status::Ok();
}

Status LlamaGraph::Head(const Batch& batch, const float* x, float* logits) {
  if (batch.tokens.empty()) return Status::InvalidArgument("empty batch");
  if (batch.logits.size() != batch.tokens.size()) return Status::InvalidArgument("batch arrays differ in length");
  EnsureScratch(batch.size(), 0);
  HeadRows(batch, x, logits);
  return Status::Ok();
}

void LlamaGraph::Layers(const Batch& batch, const KvPoolView& kv, int32_t first, int32_t last, float* x) {
  const HParams& hp = model_.hparams();
  const ModelWeights& w = model_.weights();
  const int32_t n = batch.size();
  const int64_t d = hp.n_embd;
  const int64_t dq = hp.n_embd_q();
  const int64_t dkv = hp.n_embd_kv();
  const int32_t hd = hp.head_dim;
  for (int32_t il = first; il < last; ++il) {
    const LayerWeights& l = w.layers[static_cast<size_t>(il)];
    const RopeParams& rope = hp.layers[static_cast<size_t>(il)].rope;
    // Attention block.
    for (int32_t t = 0; t < n; ++t) RmsNorm(&x[t * d], l.attn_norm, d, hp.rms_eps, &h_[t * d]);
    MatMul(l.wq, h_.data(), n, q_.data(), pool_);
    MatMul(l.wk, h_.data(), n, k_.data(), pool_);
    MatMul(l.wv, h_.data(), n, v_.data(), pool_);
    for (int32_t t = 0; t < n; ++t) {
      float* q = &q_[t * dq];
      float* k = &k_[t * dkv];
      if (l.bq != nullptr) AddInPlace(q, l.bq, dq);
      if (l.bk != nullptr) AddInPlace(k, l.bk, dkv);
      if (l.bv != nullptr) AddInPlace(&v_[t * dkv], l.bv, dkv);
      if (l.q_norm != nullptr) {  // per-head RMSNorm before rope (qwen3, gemma3)
        for (int32_t h = 0; h < hp.n_head; ++h) RmsNorm(q + h * hd, l.q_norm, hd, hp.rms_eps, q + h * hd);
      }
      if (l.k_norm != nullptr) {
        for (int32_t h = 0; h < hp.n_head_kv; ++h) RmsNorm(k + h * hd, l.k_norm, hd, hp.rms_eps, k + h * hd);
      }
      ApplyRope(q, hp.n_head, hd, batch.positions[t], rope);
      ApplyRope(k, hp.n_head_kv, hd, batch.positions[t], rope);
      const int32_t* table = batch.block_tables[static_cast<size_t>(batch.seq[t])].data();
      const KvRows krows = kv.Rows(il, false, table);
      const KvRows vrows = kv.Rows(il, true, table);
      StoreKvRow(k, dkv, kv.layout.f16, const_cast<uint8_t*>(krows.row(batch.positions[t])));
      StoreKvRow(&v_[t * dkv], dkv, kv.layout.f16, const_cast<uint8_t*>(vrows.row(batch.positions[t])));
    }
    Attention(batch, kv, il);
    MatMul(l.wo, att_.data(), n, out_.data(), pool_);
    if (l.attn_post_norm != nullptr) {  // gemma: norm of the block's output before the residual add
      for (int32_t t = 0; t < n; ++t) RmsNorm(&out_[t * d], l.attn_post_norm, d, hp.rms_eps, &out_[t * d]);
    }
    AddInPlace(x, out_.data(), n * d);

    // Feed-forward block: down(act(gate(h)) * up(h)).
    for (int32_t t = 0; t < n; ++t) RmsNorm(&x[t * d], l.ffn_norm, d, hp.rms_eps, &h_[t * d]);
    MatMul(l.w_gate, h_.data(), n, gate_.data(), pool_);
    MatMul(l.w_up, h_.data(), n, up_.data(), pool_);
    const int64_t n_ff = static_cast<int64_t>(n) * hp.n_ff;
    if (hp.spec->activation == FfnActivation::kGeluTanh) {
      GeluTanhMul(gate_.data(), up_.data(), n_ff);
    } else {
      SiluMul(gate_.data(), up_.data(), n_ff);
    }
    MatMul(l.w_down, gate_.data(), n, out_.data(), pool_);
    if (l.ffn_post_norm != nullptr) {
      for (int32_t t = 0; t < n; ++t) RmsNorm(&out_[t * d], l.ffn_post_norm, d, hp.rms_eps, &out_[t * d]);
    }
    AddInPlace(x, out_.data(), n * d);
  }
}

void LlamaGraph::HeadRows(const Batch& batch, const float* x, float* logits) {
  const HParams& hp = model_.hparams();
  const ModelWeights& w = model_.weights();
  const int32_t n = batch.size();
  const int64_t d = hp.n_embd;
  // Final norm and output projection, only for the rows that want logits.
  int32_t n_out = 0;
  for (int32_t t = 0; t < n; ++t) {
    if (batch.logits[t]) RmsNorm(&x[t * d], w.output_norm, d, hp.rms_eps, &h_[n_out++ * d]);
  }
  if (n_out == 0) return;
  MatMul(w.output, h_.data(), n_out, logits, pool_);
  if (hp.final_softcap > 0.0f) SoftcapInPlace(logits, static_cast<int64_t>(n_out) * hp.n_vocab, hp.final_softcap);
}

}  // namespace jarvis
