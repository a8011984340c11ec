#include "reference/reference_encoder.h"

#include <gtest/gtest.h>

#include <cmath>

#include "quant/quantize.h"

namespace jarvis::test {

std::vector<double> ReferencePool(const std::vector<std::vector<double>>& rows, int pooling) {
  std::vector<double> v;
  if (pooling == 2) {
    v = rows.front();
  } else if (pooling == 3) {
    v = rows.back();
  } else {
    v.assign(rows.front().size(), 0.0);
    for (const auto& r : rows) {
      for (size_t i = 0; i < v.size(); ++i) v[i] += r[i];
    }
    for (double& e : v) e /= static_cast<double>(rows.size());
  }
  double norm = 0.0;
  for (double e : v) norm += e * e;
  norm = std::sqrt(norm);
  for (double& e : v) e = norm > 0.0 ? e / norm : 0.0;
  return v;
}

double Cosine(const std::vector<double>& a, const std::vector<float>& b) {
  double dot = 0.0, na = 0.0, nb = 0.0;
  for (size_t i = 0; i < a.size(); ++i) {
    dot += a[i] * b[i];
    na += a[i] * a[i];
    nb += static_cast<double>(b[i]) * b[i];
  }
  return dot / std::sqrt(na * nb);
}

ReferenceEncoder::ReferenceEncoder(const GgufFile& gguf) : gguf_(gguf) {
  const std::string arch(*gguf.GetString("general.architecture"));
  EXPECT_TRUE(arch == "bert" || arch == "nomic-bert") << arch;
  nomic_ = arch == "nomic-bert";
  auto meta_int = [&](const std::string& key, int64_t fallback) {
    const GgufValue* v = gguf.Find(arch + "." + key);
    return v ? static_cast<int32_t>(*v->as_uint()) : static_cast<int32_t>(fallback);
  };
  n_embd_ = meta_int("embedding_length", 0);
  n_head_ = meta_int("attention.head_count", 1);
  n_head_kv_ = meta_int("attention.head_count_kv", n_head_);
  head_dim_ = n_embd_ / n_head_;
  n_ff_ = meta_int("feed_forward_length", 0);
  pooling_ = meta_int("pooling_type", 1);
  if (const GgufValue* v = gguf.Find(arch + ".attention.causal")) causal_ = *v->as_bool();
  if (const GgufValue* v = gguf.Find(arch + ".attention.layer_norm_epsilon")) eps_ = *v->as_float();
  if (const GgufValue* v = gguf.Find(arch + ".rope.freq_base")) rope_base_ = *v->as_float();

  tok_embd_ = LoadMatrix("token_embd.weight");
  if (!nomic_) pos_embd_ = LoadMatrix("position_embd.weight");
  if (Has("token_types.weight")) type_embd_ = LoadMatrix("token_types.weight");
  embd_norm_w_ = LoadVector("token_embd_norm.weight");
  embd_norm_b_ = LoadVector("token_embd_norm.bias");
  const int32_t n_layer = meta_int("block_count", 0);
  for (int32_t i = 0; i < n_layer; ++i) {
    const std::string p = "blk." + std::to_string(i) + ".";
    auto opt = [&](const std::string& name) { return Has(p + name) ? LoadVector(p + name) : Vec{}; };
    Layer l;
    if (Has(p + "attn_qkv.weight")) {  // Q rows, then K rows, then V rows
      const Matrix qkv = LoadMatrix(p + "attn_qkv.weight");
      const int64_t q_rows = static_cast<int64_t>(n_head_) * head_dim_;
      const int64_t kv_rows = static_cast<int64_t>(n_head_kv_) * head_dim_;
      auto slice = [&](int64_t first, int64_t n) {
        Matrix m;
        m.rows = n;
        m.cols = qkv.cols;
        m.w.assign(qkv.w.begin() + first * qkv.cols, qkv.w.begin() + (first + n) * qkv.cols);
        return m;
      };
      l.wq = slice(0, q_rows);
      l.wk = slice(q_rows, kv_rows);
      l.wv = slice(q_rows + kv_rows, kv_rows);
    } else {
      l.wq = LoadMatrix(p + "attn_q.weight");
      l.wk = LoadMatrix(p + "attn_k.weight");
      l.wv = LoadMatrix(p + "attn_v.weight");
    }
    l.bq = opt("attn_q.bias");
    l.bk = opt("attn_k.bias");
    l.bv = opt("attn_v.bias");
    l.wo = LoadMatrix(p + "attn_output.weight");
    l.bo = opt("attn_output.bias");
    l.attn_norm_w = LoadVector(p + "attn_output_norm.weight");
    l.attn_norm_b = LoadVector(p + "attn_output_norm.bias");
    l.up = LoadMatrix(p + "ffn_up.weight");
    l.b_up = opt("ffn_up.bias");
    if (nomic_) l.gate = LoadMatrix(p + "ffn_gate.weight");
    l.down = LoadMatrix(p + "ffn_down.weight");
    l.b_down = opt("ffn_down.bias");
    l.out_norm_w = LoadVector(p + "layer_output_norm.weight");
    l.out_norm_b = LoadVector(p + "layer_output_norm.bias");
    layers_.push_back(std::move(l));
  }
}

ReferenceEncoder::Matrix ReferenceEncoder::LoadMatrix(const std::string& name) const {
  const GgufTensorInfo* t = gguf_.FindTensor(name);
  EXPECT_NE(t, nullptr) << name;
  Matrix m;
  if (t == nullptr) return m;
  m.cols = t->dims[0];
  m.rows = t->dims.size() > 1 ? t->dims[1] : 1;
  std::vector<float> row(static_cast<size_t>(m.cols));
  m.w.resize(static_cast<size_t>(m.rows * m.cols));
  const size_t row_bytes = RowSize(t->type, m.cols);
  for (int64_t r = 0; r < m.rows; ++r) {
    EXPECT_TRUE(DequantizeRow(t->type, t->data + r * row_bytes, row.data(), m.cols).ok());
    for (int64_t c = 0; c < m.cols; ++c) m.w[static_cast<size_t>(r * m.cols + c)] = row[static_cast<size_t>(c)];
  }
  return m;
}

ReferenceEncoder::Vec ReferenceEncoder::LoadVector(const std::string& name) const { return LoadMatrix(name).w; }

// y = M x (+ bias)
ReferenceEncoder::Vec ReferenceEncoder::Apply(const Matrix& m, const Vec& x, const Vec& bias) {
  Vec y(static_cast<size_t>(m.rows), 0.0);
  for (int64_t r = 0; r < m.rows; ++r) {
    double s = 0.0;
    for (int64_t c = 0; c < m.cols; ++c) s += m.w[static_cast<size_t>(r * m.cols + c)] * x[static_cast<size_t>(c)];
    y[static_cast<size_t>(r)] = s + (bias.empty() ? 0.0 : bias[static_cast<size_t>(r)]);
  }
  return y;
}

// Normalizes x to zero mean and unit (population) variance, then scales and shifts.
ReferenceEncoder::Vec ReferenceEncoder::LayerNorm(const Vec& x, const Vec& w, const Vec& b) const {
  double mean = 0.0;
  for (double v : x) mean += v;
  mean /= static_cast<double>(x.size());
  double var = 0.0;
  for (double v : x) var += (v - mean) * (v - mean);
  var /= static_cast<double>(x.size());
  Vec y(x.size());
  for (size_t i = 0; i < x.size(); ++i) y[i] = (x[i] - mean) / std::sqrt(var + eps_) * w[i] + b[i];
  return y;
}

// nomic-bert's rotary positions, GPT-NeoX layout: dimension i of a head turns
// with dimension i + head_dim/2 by pos * base^(-2i/head_dim).
void ReferenceEncoder::RotateNeox(Vec& v, int32_t n_heads, int32_t pos) const {
  const int32_t half = head_dim_ / 2;
  for (int32_t h = 0; h < n_heads; ++h) {
    for (int32_t i = 0; i < half; ++i) {
      const double angle = pos * std::pow(rope_base_, -2.0 * i / head_dim_);
      double& a = v[static_cast<size_t>(h * head_dim_ + i)];
      double& b = v[static_cast<size_t>(h * head_dim_ + i + half)];
      const double a0 = a, b0 = b;
      a = a0 * std::cos(angle) - b0 * std::sin(angle);
      b = a0 * std::sin(angle) + b0 * std::cos(angle);
    }
  }
}

std::vector<std::vector<double>> ReferenceEncoder::Hidden(const std::vector<int32_t>& tokens) const {
  const size_t n = tokens.size();
  const size_t d = static_cast<size_t>(n_embd_);
  std::vector<Vec> x(n);
  for (size_t t = 0; t < n; ++t) {  // token + position (bert) + token type 0, then LayerNorm
    Vec e(d);
    for (size_t i = 0; i < d; ++i) {
      e[i] = tok_embd_.w[static_cast<size_t>(tokens[t]) * d + i];
      if (!pos_embd_.w.empty()) e[i] += pos_embd_.w[t * d + i];
      if (!type_embd_.w.empty()) e[i] += type_embd_.w[i];
    }
    x[t] = LayerNorm(e, embd_norm_w_, embd_norm_b_);
  }
  const int32_t group = n_head_ / n_head_kv_;
  for (const Layer& l : layers_) {
    std::vector<Vec> q(n), k(n), v(n);
    for (size_t t = 0; t < n; ++t) {
      q[t] = Apply(l.wq, x[t], l.bq);
      k[t] = Apply(l.wk, x[t], l.bk);
      v[t] = Apply(l.wv, x[t], l.bv);
      if (nomic_) {
        RotateNeox(q[t], n_head_, static_cast<int32_t>(t));
        RotateNeox(k[t], n_head_kv_, static_cast<int32_t>(t));
      }
    }
    std::vector<Vec> next(n);
    for (size_t t = 0; t < n; ++t) {
      // Every token attends to every token of the input (to the earlier ones
      // only when the file says causal).
      const size_t n_keys = causal_ ? t + 1 : n;
      Vec att(static_cast<size_t>(n_head_ * head_dim_), 0.0);
      for (int32_t h = 0; h < n_head_; ++h) {
        const size_t qo = static_cast<size_t>(h * head_dim_);
        const size_t ko = static_cast<size_t>((h / group) * head_dim_);
        Vec w(n_keys);
        double max = -1e300;
        for (size_t s = 0; s < n_keys; ++s) {
          double dot = 0.0;
          for (int32_t i = 0; i < head_dim_; ++i) dot += q[t][qo + i] * k[s][ko + i];
          w[s] = dot / std::sqrt(static_cast<double>(head_dim_));
          max = std::max(max, w[s]);
        }
        double sum = 0.0;
        for (double& e : w) sum += (e = std::exp(e - max));
        for (size_t s = 0; s < n_keys; ++s) {
          for (int32_t i = 0; i < head_dim_; ++i) att[qo + i] += w[s] / sum * v[s][ko + i];
        }
      }
      // Post-norm residuals: LayerNorm(x + sublayer(x)).
      Vec o = Apply(l.wo, att, l.bo);
      for (size_t i = 0; i < d; ++i) o[i] += x[t][i];
      const Vec mid = LayerNorm(o, l.attn_norm_w, l.attn_norm_b);
      Vec hidden;
      if (nomic_) {  // SwiGLU: silu(gate) * up
        const Vec g = Apply(l.gate, mid, {});
        hidden = Apply(l.up, mid, l.b_up);
        for (size_t i = 0; i < hidden.size(); ++i) hidden[i] *= g[i] / (1.0 + std::exp(-g[i]));
      } else {  // GELU, tanh form
        hidden = Apply(l.up, mid, l.b_up);
        for (double& a : hidden) a = 0.5 * a * (1.0 + std::tanh(std::sqrt(2.0 / M_PI) * (a + 0.044715 * a * a * a)));
      }
      Vec f = Apply(l.down, hidden, l.b_down);
      for (size_t i = 0; i < d; ++i) f[i] += mid[i];
      next[t] = LayerNorm(f, l.out_norm_w, l.out_norm_b);
    }
    x = std::move(next);
  }
  return x;
}

std::vector<double> ReferenceEncoder::Embed(const std::vector<int32_t>& tokens) const {
  return ReferencePool(Hidden(tokens), pooling_);
}

}  // namespace jarvis::test
