#include "model/hparams.h"

#include <limits>
#include <string>

namespace jarvis {
namespace {

// Reads "<arch>.<suffix>" as a positive int32; `fallback` < 0 means required.
Result<int32_t> ReadCount(const GgufFile& gguf, const std::string& arch, const char* suffix,
                          int64_t fallback = -1) {
  const std::string key = arch + "." + suffix;
  const GgufValue* v = gguf.Find(key);
  if (v == nullptr) {
    if (fallback >= 0) return static_cast<int32_t>(fallback);
    return Status::InvalidArgument(gguf.name() + ": missing metadata key " + key);
  }
  auto n = v->as_uint();
  if (!n || *n == 0 || *n > static_cast<uint64_t>(std::numeric_limits<int32_t>::max())) {
    return Status::InvalidArgument(gguf.name() + ": metadata " + key +
                                   " must be a positive integer, got " + v->ToDisplayString());
  }
  return static_cast<int32_t>(*n);
}

Result<float> ReadFloat(const GgufFile& gguf, const std::string& key, float fallback) {
  const GgufValue* v = gguf.Find(key);
  if (v == nullptr) return fallback;
  auto f = v->as_float();
  if (!f) return Status::InvalidArgument(gguf.name() + ": metadata " + key + " must be a number");
  return static_cast<float>(*f);
}

}  // namespace

Result<HParams> ReadHParams(const GgufFile& gguf) {
  HParams hp;
  JARVIS_ASSIGN_OR_RETURN(std::string_view arch, gguf.GetString("general.architecture"));
  hp.arch_name = std::string(arch);
  if (arch == "llama") {
    hp.arch = ModelArch::kLlama;
    hp.rope.style = RopeStyle::kInterleaved;
  } else if (arch == "qwen2") {
    hp.arch = ModelArch::kQwen2;
    hp.rope.style = RopeStyle::kNeox;
  } else {
    return Status::Unsupported(gguf.name() + ": architecture '" + hp.arch_name +
                               "' is not supported (supported: llama, qwen2)");
  }
  const std::string& a = hp.arch_name;
  JARVIS_ASSIGN_OR_RETURN(hp.n_embd, ReadCount(gguf, a, "embedding_length"));
  JARVIS_ASSIGN_OR_RETURN(hp.n_layer, ReadCount(gguf, a, "block_count"));
  JARVIS_ASSIGN_OR_RETURN(hp.n_ff, ReadCount(gguf, a, "feed_forward_length"));
  JARVIS_ASSIGN_OR_RETURN(hp.n_head, ReadCount(gguf, a, "attention.head_count"));
  JARVIS_ASSIGN_OR_RETURN(hp.n_head_kv, ReadCount(gguf, a, "attention.head_count_kv", hp.n_head));
  JARVIS_ASSIGN_OR_RETURN(hp.n_ctx_train, ReadCount(gguf, a, "context_length", 2048));
  if (hp.n_embd % hp.n_head != 0 && gguf.Find(a + ".attention.key_length") == nullptr) {
    return Status::InvalidArgument(gguf.name() + ": embedding_length " + std::to_string(hp.n_embd) +
                                   " is not a multiple of head_count " + std::to_string(hp.n_head));
  }
  JARVIS_ASSIGN_OR_RETURN(hp.head_dim, ReadCount(gguf, a, "attention.key_length", hp.n_embd / hp.n_head));
  JARVIS_ASSIGN_OR_RETURN(int32_t value_length, ReadCount(gguf, a, "attention.value_length", hp.head_dim));
  if (value_length != hp.head_dim) {
    return Status::Unsupported(gguf.name() + ": key_length != value_length is not supported");
  }
  if (hp.n_head % hp.n_head_kv != 0) {
    return Status::InvalidArgument(gguf.name() + ": head_count " + std::to_string(hp.n_head) +
                                   " is not a multiple of head_count_kv " + std::to_string(hp.n_head_kv));
  }
  JARVIS_ASSIGN_OR_RETURN(hp.rms_eps, ReadFloat(gguf, a + ".attention.layer_norm_rms_epsilon", 1e-5f));
  JARVIS_ASSIGN_OR_RETURN(hp.rope.freq_base, ReadFloat(gguf, a + ".rope.freq_base", 10000.0f));
  JARVIS_ASSIGN_OR_RETURN(hp.rope.n_rot, ReadCount(gguf, a, "rope.dimension_count", hp.head_dim));
  if (hp.rope.n_rot > hp.head_dim || hp.rope.n_rot % 2 != 0) {
    return Status::InvalidArgument(gguf.name() + ": rope.dimension_count must be even and <= head dim");
  }
  // Linear rope scaling ("rope.scaling.type" = linear, factor f): positions / f.
  // Llama 3's scaling comes as the rope_freqs tensor instead (bound with the weights).
  if (const GgufValue* type = gguf.Find(a + ".rope.scaling.type"); type != nullptr) {
    auto name = type->as_string();
    if (name && *name == "linear") {
      JARVIS_ASSIGN_OR_RETURN(float factor, ReadFloat(gguf, a + ".rope.scaling.factor", 1.0f));
      if (!(factor > 0.0f)) return Status::InvalidArgument(gguf.name() + ": rope.scaling.factor must be > 0");
      hp.rope.freq_scale = 1.0f / factor;
    } else if (name && *name != "none" && *name != "llama3") {
      return Status::Unsupported(gguf.name() + ": rope scaling '" + std::string(*name) + "' is not supported");
    }
  } else if (const GgufValue* linear = gguf.Find(a + ".rope.scale_linear"); linear != nullptr) {
    auto factor = linear->as_float();
    if (!factor || !(*factor > 0.0)) return Status::InvalidArgument(gguf.name() + ": bad rope.scale_linear");
    hp.rope.freq_scale = static_cast<float>(1.0 / *factor);
  }
  // Vocab size: explicit key, else the tokenizer's token list.
  if (gguf.Find(a + ".vocab_size") != nullptr) {
    JARVIS_ASSIGN_OR_RETURN(hp.n_vocab, ReadCount(gguf, a, "vocab_size"));
  } else if (const GgufArray* tokens = gguf.GetArray("tokenizer.ggml.tokens"); tokens != nullptr) {
    hp.n_vocab = static_cast<int32_t>(tokens->items.size());
  }
  return hp;
}

}  // namespace jarvis
