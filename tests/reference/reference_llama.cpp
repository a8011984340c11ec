#include "reference/reference_llama.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "quant/quantize.h"

namespace jarvis::test {
namespace {

int32_t MetaInt(const GgufFile& g, const std::string& key, int32_t fallback) {
  const GgufValue* v = g.Find(key);
  return v ? static_cast<int32_t>(*v->as_uint()) : fallback;
}
double MetaFloat(const GgufFile& g, const std::string& key, double fallback) {
  const GgufValue* v = g.Find(key);
  return v ? *v->as_float() : fallback;
}

}  // namespace

ReferenceLlama::ReferenceLlama(const GgufFile& gguf, int32_t n_ctx) : gguf_(gguf) {
  const std::string arch(*gguf.GetString("general.architecture"));
  const bool gemma = arch == "gemma2" || arch == "gemma3";
  neox_ = arch != "llama";  // every other architecture here rotates (i, i + n_rot/2)
  gelu_ = gemma;
  n_embd_ = MetaInt(gguf, arch + ".embedding_length", 0);
  n_layer_ = MetaInt(gguf, arch + ".block_count", 0);
  n_head_ = MetaInt(gguf, arch + ".attention.head_count", 0);
  n_head_kv_ = MetaInt(gguf, arch + ".attention.head_count_kv", n_head_);
  n_ff_ = MetaInt(gguf, arch + ".feed_forward_length", 0);
  head_dim_ = MetaInt(gguf, arch + ".attention.key_length", n_embd_ / n_head_);
  n_rot_ = MetaInt(gguf, arch + ".rope.dimension_count", head_dim_);
  eps_ = MetaFloat(gguf, arch + ".attention.layer_norm_rms_epsilon", 1e-5);
  rope_base_ = MetaFloat(gguf, arch + ".rope.freq_base", 10000.0);
  if (const GgufValue* t = gguf.Find(arch + ".rope.scaling.type"); t && *t->as_string() == "linear") {
    rope_scale_ = 1.0 / MetaFloat(gguf, arch + ".rope.scaling.factor", 1.0);
  }
  if (gguf.FindTensor("rope_freqs.weight")) rope_factors_ = LoadVector("rope_freqs.weight");
  // Phi-3 longrope as llama.cpp runs it (per run, where Hugging Face switches
  // per sequence length): the long factors when the context exceeds the original one
  // (rope.scaling.original_context_length, else the training context), the
  // short factors otherwise; cos/sin scaled by the attention factor.
  if (gguf.FindTensor("rope_factors_short.weight")) {
    const int32_t orig = MetaInt(gguf, arch + ".rope.scaling.original_context_length",
                                 MetaInt(gguf, arch + ".context_length", 2048));
    rope_factors_ = LoadVector(n_ctx > orig ? "rope_factors_long.weight" : "rope_factors_short.weight");
  }
  rope_mscale_ = MetaFloat(gguf, arch + ".rope.scaling.attn_factor", 1.0);
  // Gemma: embeddings times sqrt(width); soft-capped attention / output logits.
  if (gemma) embd_scale_ = std::sqrt(static_cast<double>(static_cast<float>(n_embd_)));
  attn_softcap_ = MetaFloat(gguf, arch + ".attn_logit_softcapping", 0.0);
  final_softcap_ = MetaFloat(gguf, arch + ".final_logit_softcapping", 0.0);
  // Sliding windows: gemma2 alternates local/global (window 4096 unless given),
  // gemma3 has 5 local layers per global one, phi3 a window on every layer
  // when its metadata gives one. A local layer at position p sees p-W+1..p.
  int32_t period = 0;
  if (arch == "gemma2") {
    window_ = MetaInt(gguf, arch + ".attention.sliding_window", 4096);
    period = MetaInt(gguf, arch + ".attention.sliding_window_pattern", 2);
  } else if (arch == "gemma3") {
    window_ = MetaInt(gguf, arch + ".attention.sliding_window", 0);
    period = MetaInt(gguf, arch + ".attention.sliding_window_pattern", 6);
  } else if (arch == "phi3") {
    window_ = MetaInt(gguf, arch + ".attention.sliding_window", 0);
    period = 1;
  }

  int64_t rows = 0, cols = 0;
  tok_embd_ = LoadMatrix("token_embd.weight", &rows, &cols);
  n_vocab_ = static_cast<int32_t>(rows);
  output_norm_ = LoadVector("output_norm.weight");
  output_ = gguf.FindTensor("output.weight") ? LoadMatrix("output.weight", &rows, &cols) : tok_embd_;
  const size_t q_size = static_cast<size_t>(n_head_ * head_dim_) * static_cast<size_t>(n_embd_);
  const size_t kv_size = static_cast<size_t>(n_head_kv_ * head_dim_) * static_cast<size_t>(n_embd_);
  for (int32_t i = 0; i < n_layer_; ++i) {
    const std::string p = "blk." + std::to_string(i) + ".";
    auto has = [&](const std::string& name) { return gguf.FindTensor(p + name) != nullptr; };
    Layer l;
    l.attn_norm = LoadVector(p + "attn_norm.weight");
    l.ffn_norm = LoadVector(p + "ffn_norm.weight");
    if (has("attn_qkv.weight")) {  // rows: all of Q, then K, then V
      const Matrix qkv = LoadMatrix(p + "attn_qkv.weight", &rows, &cols);
      l.wq.assign(qkv.begin(), qkv.begin() + static_cast<std::ptrdiff_t>(q_size));
      l.wk.assign(qkv.begin() + static_cast<std::ptrdiff_t>(q_size),
                  qkv.begin() + static_cast<std::ptrdiff_t>(q_size + kv_size));
      l.wv.assign(qkv.begin() + static_cast<std::ptrdiff_t>(q_size + kv_size), qkv.end());
    } else {
      l.wq = LoadMatrix(p + "attn_q.weight", &rows, &cols);
      l.wk = LoadMatrix(p + "attn_k.weight", &rows, &cols);
      l.wv = LoadMatrix(p + "attn_v.weight", &rows, &cols);
    }
    l.wo = LoadMatrix(p + "attn_output.weight", &rows, &cols);
    if (has("ffn_gate.weight")) {
      l.w_gate = LoadMatrix(p + "ffn_gate.weight", &rows, &cols);
      l.w_up = LoadMatrix(p + "ffn_up.weight", &rows, &cols);
    } else {  // phi3: ffn_up holds the gate's rows, then the up projection's
      const Matrix gate_up = LoadMatrix(p + "ffn_up.weight", &rows, &cols);
      const auto half = static_cast<std::ptrdiff_t>(gate_up.size() / 2);
      l.w_gate.assign(gate_up.begin(), gate_up.begin() + half);
      l.w_up.assign(gate_up.begin() + half, gate_up.end());
    }
    l.w_down = LoadMatrix(p + "ffn_down.weight", &rows, &cols);
    if (has("attn_q.bias")) {
      l.bq = LoadVector(p + "attn_q.bias");
      l.bk = LoadVector(p + "attn_k.bias");
      l.bv = LoadVector(p + "attn_v.bias");
    }
    if (has("attn_q_norm.weight")) {
      l.q_norm = LoadVector(p + "attn_q_norm.weight");
      l.k_norm = LoadVector(p + "attn_k_norm.weight");
    }
    if (has("post_attention_norm.weight")) {
      l.post_attn_norm = LoadVector(p + "post_attention_norm.weight");
      l.post_ffn_norm = LoadVector(p + "post_ffw_norm.weight");
    }
    l.local = window_ > 0 && (period == 1 || (period > 1 && i % period != period - 1));
    l.rope_base = rope_base_;
    l.rope_scale = rope_scale_;
    if (arch == "gemma3" && l.local) {  // local layers: their own base, no scaling
      l.rope_base = MetaFloat(gguf, arch + ".rope.freq_base_swa", 10000.0);
      l.rope_scale = 1.0;
    }
    layers_.push_back(std::move(l));
  }
  k_cache_.resize(static_cast<size_t>(n_layer_));
  v_cache_.resize(static_cast<size_t>(n_layer_));
}

ReferenceLlama::Matrix ReferenceLlama::LoadMatrix(const std::string& name, int64_t* rows, int64_t* cols) const {
  const GgufTensorInfo* t = gguf_.FindTensor(name);
  EXPECT_NE(t, nullptr) << name;
  if (t == nullptr) return {};
  *cols = t->dims[0];
  *rows = t->dims.size() > 1 ? t->dims[1] : 1;
  std::vector<float> row(static_cast<size_t>(*cols));
  Matrix m(static_cast<size_t>(*rows * *cols));
  const size_t row_bytes = RowSize(t->type, *cols);
  for (int64_t r = 0; r < *rows; ++r) {
    EXPECT_TRUE(DequantizeRow(t->type, t->data + r * row_bytes, row.data(), *cols).ok());
    for (int64_t c = 0; c < *cols; ++c) m[static_cast<size_t>(r * *cols + c)] = row[static_cast<size_t>(c)];
  }
  return m;
}

std::vector<double> ReferenceLlama::LoadVector(const std::string& name) const {
  int64_t rows = 0, cols = 0;
  return LoadMatrix(name, &rows, &cols);
}

std::vector<double> ReferenceLlama::MatVec(const Matrix& w, const std::vector<double>& x, int64_t rows) const {
  const size_t cols = x.size();
  std::vector<double> y(static_cast<size_t>(rows), 0.0);
  for (size_t r = 0; r < y.size(); ++r) {
    for (size_t c = 0; c < cols; ++c) y[r] += w[r * cols + c] * x[c];
  }
  return y;
}

std::vector<double> ReferenceLlama::RmsNorm(const std::vector<double>& x, const std::vector<double>& w) const {
  double ss = 0.0;
  for (double v : x) ss += v * v;
  const double scale = 1.0 / std::sqrt(ss / static_cast<double>(x.size()) + eps_);
  std::vector<double> y(x.size());
  for (size_t i = 0; i < x.size(); ++i) y[i] = x[i] * scale * w[i];
  return y;
}

// Rotates each head's dimension pairs by pos * base^(-2i/n_rot): pairs are
// (2i, 2i+1) for llama GGUFs and (i, i + n_rot/2) for NeoX-style models.
void ReferenceLlama::Rope(std::vector<double>& v, int32_t n_heads, int32_t pos, const Layer& l) const {
  for (int32_t h = 0; h < n_heads; ++h) {
    for (int32_t i = 0; i < n_rot_ / 2; ++i) {
      double theta = pos * l.rope_scale * std::pow(l.rope_base, -2.0 * i / n_rot_);
      if (!rope_factors_.empty()) theta /= rope_factors_[static_cast<size_t>(i)];
      const size_t a = static_cast<size_t>(h * head_dim_ + (neox_ ? i : 2 * i));
      const size_t b = static_cast<size_t>(h * head_dim_ + (neox_ ? i + n_rot_ / 2 : 2 * i + 1));
      const double x0 = v[a], x1 = v[b];
      const double c = std::cos(theta) * rope_mscale_, s = std::sin(theta) * rope_mscale_;
      v[a] = x0 * c - x1 * s;
      v[b] = x0 * s + x1 * c;
    }
  }
}

// Applies an RMSNorm with weight w to each of the n_heads heads of v in place.
static void NormHeads(std::vector<double>& v, const std::vector<double>& w, int32_t n_heads, int32_t head_dim,
                      double eps) {
  for (int32_t h = 0; h < n_heads; ++h) {
    double* x = v.data() + static_cast<size_t>(h) * static_cast<size_t>(head_dim);
    double ss = 0.0;
    for (int32_t i = 0; i < head_dim; ++i) ss += x[i] * x[i];
    const double scale = 1.0 / std::sqrt(ss / head_dim + eps);
    for (int32_t i = 0; i < head_dim; ++i) x[i] *= scale * w[static_cast<size_t>(i)];
  }
}

std::vector<double> ReferenceLlama::Step(int32_t token, std::vector<double>* final_hidden) {
  const size_t d = static_cast<size_t>(n_embd_);
  std::vector<double> x(tok_embd_.begin() + token * n_embd_, tok_embd_.begin() + (token + 1) * n_embd_);
  for (double& e : x) e *= embd_scale_;
  const int32_t n_kv = n_head_kv_ * head_dim_;
  for (int32_t il = 0; il < n_layer_; ++il) {
    const Layer& l = layers_[static_cast<size_t>(il)];
    std::vector<double> h = RmsNorm(x, l.attn_norm);
    std::vector<double> q = MatVec(l.wq, h, n_head_ * head_dim_);
    std::vector<double> k = MatVec(l.wk, h, n_kv);
    std::vector<double> v = MatVec(l.wv, h, n_kv);
    for (size_t i = 0; i < l.bq.size(); ++i) q[i] += l.bq[i];
    for (size_t i = 0; i < l.bk.size(); ++i) k[i] += l.bk[i];
    for (size_t i = 0; i < l.bv.size(); ++i) v[i] += l.bv[i];
    if (!l.q_norm.empty()) {
      NormHeads(q, l.q_norm, n_head_, head_dim_, eps_);
      NormHeads(k, l.k_norm, n_head_kv_, head_dim_, eps_);
    }
    Rope(q, n_head_, pos_, l);
    Rope(k, n_head_kv_, pos_, l);
    k_cache_[static_cast<size_t>(il)].push_back(k);
    v_cache_[static_cast<size_t>(il)].push_back(v);

    const int32_t first = l.local ? std::max(0, pos_ - window_ + 1) : 0;
    std::vector<double> att(static_cast<size_t>(n_head_ * head_dim_), 0.0);
    const int32_t group = n_head_ / n_head_kv_;
    for (int32_t hd = 0; hd < n_head_; ++hd) {
      const size_t qo = static_cast<size_t>(hd * head_dim_);
      const size_t ko = static_cast<size_t>((hd / group) * head_dim_);
      std::vector<double> scores(static_cast<size_t>(pos_ + 1 - first));
      double max = -1e300;
      for (int32_t p = first; p <= pos_; ++p) {
        double s = 0.0;
        for (int32_t i = 0; i < head_dim_; ++i) s += q[qo + i] * k_cache_[il][p][ko + i];
        s /= std::sqrt(static_cast<double>(head_dim_));
        if (attn_softcap_ > 0.0) s = attn_softcap_ * std::tanh(s / attn_softcap_);
        scores[static_cast<size_t>(p - first)] = s;
        max = std::max(max, s);
      }
      double sum = 0.0;
      for (double& s : scores) sum += (s = std::exp(s - max));
      for (int32_t p = first; p <= pos_; ++p) {
        for (int32_t i = 0; i < head_dim_; ++i) {
          att[qo + i] += scores[static_cast<size_t>(p - first)] / sum * v_cache_[il][p][ko + i];
        }
      }
    }
    std::vector<double> o = MatVec(l.wo, att, n_embd_);
    if (!l.post_attn_norm.empty()) o = RmsNorm(o, l.post_attn_norm);
    for (size_t i = 0; i < d; ++i) x[i] += o[i];

    h = RmsNorm(x, l.ffn_norm);
    std::vector<double> g = MatVec(l.w_gate, h, n_ff_);
    std::vector<double> u = MatVec(l.w_up, h, n_ff_);
    for (size_t i = 0; i < g.size(); ++i) {
      const double a = g[i];
      const double act = gelu_ ? 0.5 * a * (1.0 + std::tanh(std::sqrt(2.0 / M_PI) * (a + 0.044715 * a * a * a)))
                               : a / (1.0 + std::exp(-a));
      g[i] = act * u[i];
    }
    o = MatVec(l.w_down, g, n_embd_);
    if (!l.post_ffn_norm.empty()) o = RmsNorm(o, l.post_ffn_norm);
    for (size_t i = 0; i < d; ++i) x[i] += o[i];
  }
  ++pos_;
  const std::vector<double> normed = RmsNorm(x, output_norm_);
  if (final_hidden != nullptr) *final_hidden = normed;
  std::vector<double> logits = MatVec(output_, normed, n_vocab_);
  if (final_softcap_ > 0.0) {
    for (double& z : logits) z = final_softcap_ * std::tanh(z / final_softcap_);
  }
  return logits;
}

}  // namespace jarvis::test
