// A plain reference forward pass for llama-family models, used only as a test
// oracle for the engine: scalar, double accumulation, no threads, no paging,
// every weight dequantized to double up front. Written to be read, not to be
// fast; it shares nothing with the engine but the GGUF reader and the block
// dequantizers (which have tests of their own).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "gguf/gguf_reader.h"

namespace jarvis::test {

class ReferenceLlama {
 public:
  // Loads all weights of `gguf` (small models only). Aborts the test on error.
  explicit ReferenceLlama(const GgufFile& gguf);

  // Feeds one token at the next position and returns its logits.
  std::vector<double> Step(int32_t token);
  int32_t vocab_size() const { return n_vocab_; }

 private:
  using Matrix = std::vector<double>;  // row-major (rows x cols)
  struct Layer {
    std::vector<double> attn_norm, ffn_norm, bq, bk, bv;
    Matrix wq, wk, wv, wo, w_gate, w_up, w_down;
  };
  Matrix LoadMatrix(const std::string& name, int64_t* rows, int64_t* cols) const;
  std::vector<double> LoadVector(const std::string& name) const;
  std::vector<double> MatVec(const Matrix& w, const std::vector<double>& x, int64_t rows) const;
  std::vector<double> RmsNorm(const std::vector<double>& x, const std::vector<double>& w) const;
  void Rope(std::vector<double>& v, int32_t n_heads, int32_t pos) const;

  const GgufFile& gguf_;
  bool neox_ = false;
  int32_t n_vocab_ = 0, n_embd_ = 0, n_layer_ = 0, n_head_ = 0, n_head_kv_ = 0, head_dim_ = 0, n_ff_ = 0;
  int32_t n_rot_ = 0;
  double eps_ = 1e-5, rope_base_ = 10000.0, rope_scale_ = 1.0;
  std::vector<double> rope_factors_;
  Matrix tok_embd_, output_;
  std::vector<double> output_norm_;
  std::vector<Layer> layers_;
  std::vector<std::vector<std::vector<double>>> k_cache_, v_cache_;  // [layer][pos][n_kv]
  int32_t pos_ = 0;
};

}  // namespace jarvis::test
