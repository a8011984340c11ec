// A plain reference forward pass for every supported architecture (llama,
// qwen2, qwen3, gemma2, gemma3, phi3), used only as a test oracle for the
// engine: scalar, double accumulation, no threads, no paging, every weight
// dequantized to double up front. Written to be read, not to be fast; it
// shares nothing with the engine but the GGUF reader and the block
// dequantizers (which have tests of their own): the architectures' rules are
// spelled out here again from their published descriptions (llama.cpp's
// graphs, the Hugging Face model code), not taken from model/arch.h.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "gguf/gguf_reader.h"

namespace jarvis::test {

class ReferenceLlama {
 public:
  // Loads all weights of `gguf` (small models only). Aborts the test on error.
  // n_ctx: positions per sequence of the run being checked (Phi-3 longrope
  // picks its factor set by it; 0: the model's original context).
  explicit ReferenceLlama(const GgufFile& gguf, int32_t n_ctx = 0);

  // Feeds one token at the next position and returns its logits;
  // `final_hidden` (optional) gets its hidden state after the output norm
  // (what a decoder's embedding pools).
  std::vector<double> Step(int32_t token, std::vector<double>* final_hidden = nullptr);
  int32_t vocab_size() const { return n_vocab_; }

 private:
  using Matrix = std::vector<double>;  // row-major (rows x cols)
  struct Layer {
    std::vector<double> attn_norm, ffn_norm, bq, bk, bv, q_norm, k_norm, post_attn_norm, post_ffn_norm;
    Matrix wq, wk, wv, wo, w_gate, w_up, w_down;
    bool local = false;  // sliding-window layer
    double rope_base = 10000.0, rope_scale = 1.0;
  };
  Matrix LoadMatrix(const std::string& name, int64_t* rows, int64_t* cols) const;
  std::vector<double> LoadVector(const std::string& name) const;
  std::vector<double> MatVec(const Matrix& w, const std::vector<double>& x, int64_t rows) const;
  std::vector<double> RmsNorm(const std::vector<double>& x, const std::vector<double>& w) const;
  void Rope(std::vector<double>& v, int32_t n_heads, int32_t pos, const Layer& l) const;

  const GgufFile& gguf_;
  bool neox_ = false;
  bool gelu_ = false;
  double embd_scale_ = 1.0, attn_softcap_ = 0.0, final_softcap_ = 0.0, rope_mscale_ = 1.0;
  int32_t window_ = 0;
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
