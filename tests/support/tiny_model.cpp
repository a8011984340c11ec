#include "support/tiny_model.h"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <vector>

#include "gguf/gguf_writer.h"
#include "quant/quantize.h"

namespace jarvis::test {
namespace {

// splitmix64: tiny, well-mixed and identical on every platform.
class Rng {
 public:
  explicit Rng(uint64_t seed) : s_(seed) {}
  uint64_t Next() {
    uint64_t z = (s_ += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  float Uniform() { return static_cast<float>(Next() >> 40) / static_cast<float>(1ull << 24); }  // [0,1)
  float Symmetric(float scale) { return (2.0f * Uniform() - 1.0f) * scale; }

 private:
  uint64_t s_;
};

struct TensorData {
  std::string name;
  std::vector<int64_t> dims;
  GgmlType type;
  std::vector<float> values;
};

}  // namespace

std::string TempPath(const std::string& name) {
  const char* dir = std::getenv("TMPDIR");
  return std::string(dir ? dir : "/tmp") + "/jarvis-test-" + name + "-" + std::to_string(::getpid()) + ".gguf";
}

Status WriteTinyModel(const TinyModelSpec& s, const std::string& path) {
  Rng rng(s.seed);
  const int32_t head_dim = s.n_embd / s.n_head;
  const int64_t n_kv = static_cast<int64_t>(s.n_head_kv) * head_dim;
  std::vector<TensorData> tensors;
  auto matrix = [&](std::string name, int64_t cols, int64_t rows, float scale) {
    TensorData t{std::move(name), {cols, rows}, s.weight_type, {}};
    t.values.resize(static_cast<size_t>(cols * rows));
    for (float& v : t.values) v = rng.Symmetric(scale);
    tensors.push_back(std::move(t));
  };
  auto vector = [&](std::string name, int64_t n, float center, float spread) {
    TensorData t{std::move(name), {n}, GgmlType::kF32, {}};
    t.values.resize(static_cast<size_t>(n));
    for (float& v : t.values) v = center + rng.Symmetric(spread);
    tensors.push_back(std::move(t));
  };
  // Scales keep activations O(1) so logits are well spread (few near-ties).
  const float w_scale = 1.0f / std::sqrt(static_cast<float>(s.n_embd));
  matrix("token_embd.weight", s.n_embd, s.n_vocab, 1.0f);
  vector("output_norm.weight", s.n_embd, 1.0f, 0.2f);
  if (!s.tied_embeddings) matrix("output.weight", s.n_embd, s.n_vocab, w_scale * 2.0f);
  if (s.rope_freqs) vector("rope_freqs.weight", head_dim / 2, 2.0f, 1.0f);
  for (int32_t i = 0; i < s.n_layer; ++i) {
    const std::string p = "blk." + std::to_string(i) + ".";
    vector(p + "attn_norm.weight", s.n_embd, 1.0f, 0.2f);
    matrix(p + "attn_q.weight", s.n_embd, s.n_embd, w_scale * 2.0f);
    matrix(p + "attn_k.weight", s.n_embd, n_kv, w_scale * 2.0f);
    matrix(p + "attn_v.weight", s.n_embd, n_kv, w_scale);
    if (s.arch == "qwen2") {
      vector(p + "attn_q.bias", s.n_embd, 0.0f, 0.3f);
      vector(p + "attn_k.bias", n_kv, 0.0f, 0.3f);
      vector(p + "attn_v.bias", n_kv, 0.0f, 0.3f);
    }
    matrix(p + "attn_output.weight", s.n_embd, s.n_embd, w_scale);
    vector(p + "ffn_norm.weight", s.n_embd, 1.0f, 0.2f);
    matrix(p + "ffn_gate.weight", s.n_embd, s.n_ff, w_scale * 2.0f);
    matrix(p + "ffn_up.weight", s.n_embd, s.n_ff, w_scale * 2.0f);
    matrix(p + "ffn_down.weight", s.n_ff, s.n_embd, 1.0f / std::sqrt(static_cast<float>(s.n_ff)));
  }

  GgufWriter w;
  const std::string& a = s.arch;
  w.SetString("general.architecture", a);
  w.SetString("general.name", "tiny-test");
  w.SetUint32(a + ".context_length", static_cast<uint32_t>(s.n_ctx));
  w.SetUint32(a + ".embedding_length", static_cast<uint32_t>(s.n_embd));
  w.SetUint32(a + ".block_count", static_cast<uint32_t>(s.n_layer));
  w.SetUint32(a + ".feed_forward_length", static_cast<uint32_t>(s.n_ff));
  w.SetUint32(a + ".attention.head_count", static_cast<uint32_t>(s.n_head));
  w.SetUint32(a + ".attention.head_count_kv", static_cast<uint32_t>(s.n_head_kv));
  w.SetFloat32(a + ".attention.layer_norm_rms_epsilon", 1e-5f);
  w.SetFloat32(a + ".rope.freq_base", s.rope_base);
  if (s.rope_linear_factor > 0.0f) {
    w.SetString(a + ".rope.scaling.type", "linear");
    w.SetFloat32(a + ".rope.scaling.factor", s.rope_linear_factor);
  }
  // SentencePiece vocabulary: specials, 256 byte tokens, then "▁" + letters.
  std::vector<std::string> tokens = {"<unk>", "<s>", "</s>"};
  std::vector<float> scores = {0.0f, 0.0f, 0.0f};
  std::vector<int32_t> types = {2, 3, 3};
  const char* hex = "0123456789ABCDEF";
  for (int b = 0; b < 256; ++b) {
    tokens.push_back(std::string("<0x") + hex[b >> 4] + hex[b & 15] + ">");
    scores.push_back(0.0f);
    types.push_back(6);
  }
  for (int32_t i = 0; static_cast<int32_t>(tokens.size()) < s.n_vocab; ++i) {
    std::string piece = "\xE2\x96\x81";  // ▁
    for (int32_t j = i; ; j = j / 26 - 1) {
      piece += static_cast<char>('a' + j % 26);
      if (j < 26) break;
    }
    tokens.push_back(piece);
    scores.push_back(-static_cast<float>(i));
    types.push_back(1);
  }
  w.SetString("tokenizer.ggml.model", "llama");
  w.SetStringArray("tokenizer.ggml.tokens", tokens);
  w.SetFloat32Array("tokenizer.ggml.scores", scores);
  w.SetInt32Array("tokenizer.ggml.token_type", types);
  w.SetUint32("tokenizer.ggml.unknown_token_id", 0);
  w.SetUint32("tokenizer.ggml.bos_token_id", 1);
  w.SetUint32("tokenizer.ggml.eos_token_id", 2);

  std::erase_if(tensors, [&](const TensorData& t) { return t.name == s.omit_tensor; });
  for (TensorData& t : tensors) {
    if (t.name == s.transpose_tensor && t.dims.size() == 2) std::swap(t.dims[0], t.dims[1]);
  }
  for (const TensorData& t : tensors) JARVIS_RETURN_IF_ERROR(w.AddTensor(t.name, t.dims, t.type));
  return w.WriteFile(path, [&](size_t index, const GgufTensorPlan& plan, std::span<uint8_t> out) {
    const TensorData& t = tensors[index];
    const int64_t cols = t.dims[0];
    const int64_t rows = static_cast<int64_t>(t.values.size()) / cols;
    const size_t row_bytes = RowSize(plan.type, cols);
    if (!CanQuantize(plan.type)) {
      std::fill(out.begin(), out.end(), uint8_t{0});
      return Status::Ok();
    }
    for (int64_t r = 0; r < rows; ++r) {
      JARVIS_RETURN_IF_ERROR(QuantizeRow(plan.type, t.values.data() + r * cols,
                                         out.data() + static_cast<size_t>(r) * row_bytes, cols));
    }
    return Status::Ok();
  });
}

}  // namespace jarvis::test
