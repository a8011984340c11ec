#include "reference/reference_llama.h"

#include <gtest/gtest.h>

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

ReferenceLlama::ReferenceLlama(const GgufFile& gguf) : gguf_(gguf) {
  const std::string arch(*gguf.GetString("general.architecture"));
  neox_ = arch == "qwen2";
  n_embd_ = MetaInt(gguf, arch + ".embedding_length", 0);
  n_layer_ = MetaInt(gguf, arch + ".block_count", 0);
  n_head_ = MetaInt(gguf, arch + ".attention.head_count", 0);
  n_head_kv_ = MetaInt(gguf, arch + ".attention.head_count_kv", n_head_);
  n_ff_ = MetaInt(gguf, arch + ".feed_forward_length", 0);
  head_dim_ = n_embd_ / n_head_;
  n_rot_ = MetaInt(gguf, arch + ".rope.dimension_count", head_dim_);
  eps_ = MetaFloat(gguf, arch + ".attention.layer_norm_rms_epsilon", 1e-5);
  rope_base_ = MetaFloat(gguf, arch + ".rope.freq_base", 10000.0);
  if (const GgufValue* t = gguf.Find(arch + ".rope.scaling.type"); t && *t->as_string() == "linear") {
    rope_scale_ = 1.0 / MetaFloat(gguf, arch + ".rope.scaling.factor", 1.0);
  }
  if (gguf.FindTensor("rope_freqs.weight")) rope_factors_ = LoadVector("rope_freqs.weight");

  int64_t rows = 0, cols = 0;
  tok_embd_ = LoadMatrix("token_embd.weight", &rows, &cols);
  n_vocab_ = static_cast<int32_t>(rows);
  output_norm_ = LoadVector("output_norm.weight");
  output_ = gguf.FindTensor("output.weight") ? LoadMatrix("output.weight", &rows, &cols) : tok_embd_;
  for (int32_t i = 0; i < n_layer_; ++i) {
    const std::string p = "blk." + std::to_string(i) + ".";
    Layer l;
    l.attn_norm = LoadVector(p + "attn_norm.weight");
    l.ffn_norm = LoadVector(p + "ffn_norm.weight");
    l.wq = LoadMatrix(p + "attn_q.weight", &rows, &cols);
    l.wk = LoadMatrix(p + "attn_k.weight", &rows, &cols);
    l.wv = LoadMatrix(p + "attn_v.weight", &rows, &cols);
    l.wo = LoadMatrix(p + "attn_output.weight", &rows, &cols);
    l.w_gate = LoadMatrix(p + "ffn_gate.weight", &rows, &cols);
    l.w_up = LoadMatrix(p + "ffn_up.weight", &rows, &cols);
    l.w_down = LoadMatrix(p + "ffn_down.weight", &rows, &cols);
    if (gguf.FindTensor(p + "attn_q.bias")) {
      l.bq = LoadVector(p + "attn_q.bias");
      l.bk = LoadVector(p + "attn_k.bias");
      l.bv = LoadVector(p + "attn_v.bias");
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
void ReferenceLlama::Rope(std::vector<double>& v, int32_t n_heads, int32_t pos) const {
  for (int32_t h = 0; h < n_heads; ++h) {
    for (int32_t i = 0; i < n_rot_ / 2; ++i) {
      double theta = pos * rope_scale_ * std::pow(rope_base_, -2.0 * i / n_rot_);
      if (!rope_factors_.empty()) theta /= rope_factors_[static_cast<size_t>(i)];
      const size_t a = static_cast<size_t>(h * head_dim_ + (neox_ ? i : 2 * i));
      const size_t b = static_cast<size_t>(h * head_dim_ + (neox_ ? i + n_rot_ / 2 : 2 * i + 1));
      const double x0 = v[a], x1 = v[b];
      v[a] = x0 * std::cos(theta) - x1 * std::sin(theta);
      v[b] = x0 * std::sin(theta) + x1 * std::cos(theta);
    }
  }
}

std::vector<double> ReferenceLlama::Step(int32_t token) {
  const size_t d = static_cast<size_t>(n_embd_);
  std::vector<double> x(tok_embd_.begin() + token * n_embd_, tok_embd_.begin() + (token + 1) * n_embd_);
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
    Rope(q, n_head_, pos_);
    Rope(k, n_head_kv_, pos_);
    k_cache_[static_cast<size_t>(il)].push_back(k);
    v_cache_[static_cast<size_t>(il)].push_back(v);

    std::vector<double> att(static_cast<size_t>(n_head_ * head_dim_), 0.0);
    const int32_t group = n_head_ / n_head_kv_;
    for (int32_t hd = 0; hd < n_head_; ++hd) {
      const size_t qo = static_cast<size_t>(hd * head_dim_);
      const size_t ko = static_cast<size_t>((hd / group) * head_dim_);
      std::vector<double> scores(static_cast<size_t>(pos_ + 1));
      double max = -1e300;
      for (int32_t p = 0; p <= pos_; ++p) {
        double s = 0.0;
        for (int32_t i = 0; i < head_dim_; ++i) s += q[qo + i] * k_cache_[il][p][ko + i];
        scores[static_cast<size_t>(p)] = s / std::sqrt(static_cast<double>(head_dim_));
        max = std::max(max, scores[static_cast<size_t>(p)]);
      }
      double sum = 0.0;
      for (double& s : scores) sum += (s = std::exp(s - max));
      for (int32_t p = 0; p <= pos_; ++p) {
        for (int32_t i = 0; i < head_dim_; ++i) att[qo + i] += scores[p] / sum * v_cache_[il][p][ko + i];
      }
    }
    std::vector<double> o = MatVec(l.wo, att, n_embd_);
    for (size_t i = 0; i < d; ++i) x[i] += o[i];

    h = RmsNorm(x, l.ffn_norm);
    std::vector<double> g = MatVec(l.w_gate, h, n_ff_);
    std::vector<double> u = MatVec(l.w_up, h, n_ff_);
    for (size_t i = 0; i < g.size(); ++i) g[i] = g[i] / (1.0 + std::exp(-g[i])) * u[i];
    o = MatVec(l.w_down, g, n_embd_);
    for (size_t i = 0; i < d; ++i) x[i] += o[i];
  }
  ++pos_;
  return MatVec(output_, RmsNorm(x, output_norm_), n_vocab_);
}

}  // namespace jarvis::test
