#include "support/tiny_model.h"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <memory>
#include <vector>

#include "gguf/gguf_reader.h"
#include "gguf/gguf_writer.h"
#include "model/arch.h"
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

// WordPiece in llama.cpp's phantom-space form (encoders).
void AddWordPieceVocab(int32_t n_vocab, GgufWriter* writer) {
  GgufWriter& w = *writer;
  // [PAD] [UNK] [CLS] [SEP] [MASK], then word-initial "▁" + letters and continuation letters.
  std::vector<std::string> tokens = {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"};
  std::vector<int32_t> types = {3, 2, 3, 3, 3};
  for (int32_t i = 0; static_cast<int32_t>(tokens.size()) < n_vocab; ++i) {
    std::string piece = i % 2 == 0 ? "\xE2\x96\x81" : "";
    for (int32_t j = i / 2;; j = j / 26 - 1) {
      piece += static_cast<char>('a' + j % 26);
      if (j < 26) break;
    }
    tokens.push_back(piece);
    types.push_back(1);
  }
  w.SetString("tokenizer.ggml.model", "bert");
  w.SetStringArray("tokenizer.ggml.tokens", tokens);
  w.SetInt32Array("tokenizer.ggml.token_type", types);
  w.SetUint32("tokenizer.ggml.token_type_count", 2);
  w.SetUint32("tokenizer.ggml.padding_token_id", 0);
  w.SetUint32("tokenizer.ggml.unknown_token_id", 1);
  w.SetUint32("tokenizer.ggml.cls_token_id", 2);
  w.SetUint32("tokenizer.ggml.seperator_token_id", 3);
  w.SetUint32("tokenizer.ggml.mask_token_id", 4);
}

void AddSentencePieceVocab(int32_t n_vocab, GgufWriter* writer) {
  GgufWriter& w = *writer;
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
  for (int32_t i = 0; static_cast<int32_t>(tokens.size()) < n_vocab; ++i) {
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
}

}  // namespace

std::string TempPath(const std::string& name) {
  const char* dir = std::getenv("TMPDIR");
  return std::string(dir ? dir : "/tmp") + "/jarvis-test-" + name + "-" + std::to_string(::getpid()) + ".gguf";
}

Status WriteTinyModel(const TinyModelSpec& s, const std::string& path) {
  Rng rng(s.seed);
  const int32_t head_dim = s.head_dim > 0 ? s.head_dim : s.n_embd / s.n_head;
  std::vector<TensorData> tensors;
  // Scales keep activations O(1) so logits are well spread (few near-ties).
  const float w_scale = 1.0f / std::sqrt(static_cast<float>(s.n_embd));
  auto add = [&](const TensorEntry& e, float center, float spread, bool matrix) {
    TensorData t{e.name, e.dims, matrix ? s.weight_type : GgmlType::kF32, {}};
    size_t n = 1;
    for (int64_t dim : e.dims) n *= static_cast<size_t>(dim);
    t.values.resize(n);
    for (float& v : t.values) v = center + rng.Symmetric(spread);
    tensors.push_back(std::move(t));
  };
  // An unknown architecture (error tests) gets llama's tensors.
  const ArchSpec* spec = FindArch(s.arch) != nullptr ? FindArch(s.arch) : FindArch("llama");
  ArchShape shape;
  shape.n_embd = s.n_embd;
  shape.n_layer = s.n_layer;
  shape.n_head = s.n_head;
  shape.n_head_kv = s.n_head_kv;
  shape.head_dim = head_dim;
  shape.n_ff = s.n_ff;
  shape.n_vocab = s.n_vocab;
  shape.n_rot = head_dim;
  shape.tied_embeddings = s.tied_embeddings;
  shape.fused_qkv = s.fused_qkv;
  shape.rope_freqs = s.rope_freqs;
  shape.n_ctx_train = s.n_ctx;
  shape.n_token_types = 2;
  using R = TensorRole;
  for (const TensorEntry& e : ArchTensors(*spec, shape)) {
    switch (e.role) {
      case R::kTokenEmbd: add(e, 0.0f, 1.0f, true); break;
      case R::kOutputNorm: case R::kAttnNorm: case R::kFfnNorm: case R::kAttnQNorm: case R::kAttnKNorm:
      case R::kAttnPostNorm: case R::kFfnPostNorm: case R::kTokenEmbdNorm: case R::kAttnOutNorm:
      case R::kLayerOutNorm:
        add(e, 1.0f, 0.2f, false);
        break;
      case R::kTokenEmbdNormBias: case R::kAttnOutNormBias: case R::kLayerOutNormBias: case R::kAttnOutBias:
      case R::kFfnUpBias: case R::kFfnDownBias:
        add(e, 0.0f, 0.3f, false);
        break;
      case R::kPosEmbd: case R::kTokenTypes: add(e, 0.0f, 0.5f, true); break;
      case R::kRopeFreqs: case R::kRopeFactorsShort: case R::kRopeFactorsLong: add(e, 2.0f, 1.0f, false); break;
      case R::kAttnQBias: case R::kAttnKBias: case R::kAttnVBias: add(e, 0.0f, 0.3f, false); break;
      case R::kAttnV: case R::kAttnOut: add(e, 0.0f, w_scale, true); break;
      case R::kFfnDown: add(e, 0.0f, 1.0f / std::sqrt(static_cast<float>(s.n_ff)), true); break;
      default: add(e, 0.0f, w_scale * 2.0f, true); break;  // Q, K, fused QKV, gate, up, output
    }
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
  if (spec->encoder) {
    w.SetFloat32(a + ".attention.layer_norm_epsilon", 1e-12f);
    w.SetBool(a + ".attention.causal", s.causal == 1);
  } else {
    w.SetFloat32(a + ".attention.layer_norm_rms_epsilon", 1e-5f);
    if (s.causal >= 0) w.SetBool(a + ".attention.causal", s.causal == 1);
  }
  if (s.pooling >= 0) w.SetUint32(a + ".pooling_type", static_cast<uint32_t>(s.pooling));
  w.SetFloat32(a + ".rope.freq_base", s.rope_base);
  if (s.head_dim > 0) {
    w.SetUint32(a + ".attention.key_length", static_cast<uint32_t>(s.head_dim));
    w.SetUint32(a + ".attention.value_length", static_cast<uint32_t>(s.head_dim));
  }
  if (s.sliding_window >= 0) w.SetUint32(a + ".attention.sliding_window", static_cast<uint32_t>(s.sliding_window));
  if (s.swa_period > 0) w.SetUint32(a + ".attention.sliding_window_pattern", static_cast<uint32_t>(s.swa_period));
  if (s.attn_softcap > 0.0f) w.SetFloat32(a + ".attn_logit_softcapping", s.attn_softcap);
  if (s.final_softcap > 0.0f) w.SetFloat32(a + ".final_logit_softcapping", s.final_softcap);
  if (s.rope_base_swa > 0.0f) w.SetFloat32(a + ".rope.freq_base_swa", s.rope_base_swa);
  if (s.rope_attn_factor > 0.0f) w.SetFloat32(a + ".rope.scaling.attn_factor", s.rope_attn_factor);
  if (s.rope_orig_ctx > 0) {
    w.SetUint32(a + ".rope.scaling.original_context_length", static_cast<uint32_t>(s.rope_orig_ctx));
  }
  if (s.rope_linear_factor > 0.0f) {
    w.SetString(a + ".rope.scaling.type", "linear");
    w.SetFloat32(a + ".rope.scaling.factor", s.rope_linear_factor);
  }
  std::unique_ptr<GgufFile> vocab_source;  // its strings are views: it lives until the file is written
  if (!s.vocab_from.empty()) {
    JARVIS_ASSIGN_OR_RETURN(vocab_source, GgufFile::Open(s.vocab_from));
    for (const GgufKeyValue& kv : vocab_source->metadata()) {
      if (kv.key.starts_with("tokenizer.")) w.SetValue(kv.key, kv.value);
    }
  } else if (spec->encoder) {
    AddWordPieceVocab(s.n_vocab, &w);
  } else {
    AddSentencePieceVocab(s.n_vocab, &w);
  }

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
