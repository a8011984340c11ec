// A plain reference of the BERT-family encoders (bert: all-MiniLM, BGE, E5;
// nomic-bert: nomic-embed-text) and of pooled embeddings, used only as a test
// oracle for Engine::Embed: scalar, double accumulation, every weight
// dequantized to double up front. Like reference_llama.h it shares nothing
// with the engine but the GGUF reader and the block dequantizers: the layer
// is spelled out here from the published descriptions (BERT, Devlin et al.;
// nomic-bert's rotary + SwiGLU variant; llama.cpp's src/models/bert.cpp for
// its conventions: token type 0 for every token, GELU in its tanh form).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "gguf/gguf_reader.h"

namespace jarvis::test {

// The pooled, L2-normalized embedding of `rows` (one hidden state per token):
// pooling as GGUF's <arch>.pooling_type (1 mean, 2 first token, 3 last token).
std::vector<double> ReferencePool(const std::vector<std::vector<double>>& rows, int pooling);

// Cosine similarity of two vectors of equal length.
double Cosine(const std::vector<double>& a, const std::vector<float>& b);

class ReferenceEncoder {
 public:
  // Loads all weights of `gguf` (bert or nomic-bert; small models only).
  // Aborts the test on error.
  explicit ReferenceEncoder(const GgufFile& gguf);

  // The final hidden state of every token of `tokens` (one whole input).
  std::vector<std::vector<double>> Hidden(const std::vector<int32_t>& tokens) const;
  // Hidden, pooled by the file's pooling_type (mean without it), normalized.
  std::vector<double> Embed(const std::vector<int32_t>& tokens) const;

 private:
  using Vec = std::vector<double>;
  struct Matrix {
    std::vector<double> w;  // row-major
    int64_t rows = 0, cols = 0;
  };
  struct Layer {
    Matrix wq, wk, wv, wo, up, gate, down;
    Vec bq, bk, bv, bo, b_up, b_down;  // empty: none
    Vec attn_norm_w, attn_norm_b, out_norm_w, out_norm_b;
  };
  Matrix LoadMatrix(const std::string& name) const;
  Vec LoadVector(const std::string& name) const;
  bool Has(const std::string& name) const { return gguf_.FindTensor(name) != nullptr; }
  static Vec Apply(const Matrix& m, const Vec& x, const Vec& bias);
  Vec LayerNorm(const Vec& x, const Vec& w, const Vec& b) const;
  void RotateNeox(Vec& v, int32_t n_heads, int32_t pos) const;

  const GgufFile& gguf_;
  bool nomic_ = false;
  bool causal_ = false;
  int pooling_ = 1;
  int32_t n_embd_ = 0, n_head_ = 0, n_head_kv_ = 0, head_dim_ = 0, n_ff_ = 0;
  double eps_ = 1e-12, rope_base_ = 10000.0;
  Matrix tok_embd_, pos_embd_, type_embd_;
  Vec embd_norm_w_, embd_norm_b_;
  std::vector<Layer> layers_;
};

}  // namespace jarvis::test
