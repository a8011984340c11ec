#include "model/hparams.h"

#include <cmath>
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

// Reads "<arch>.<suffix>" as a non-negative float.
Result<float> ReadNonNegative(const GgufFile& gguf, const std::string& key, float fallback) {
  JARVIS_ASSIGN_OR_RETURN(float v, ReadFloat(gguf, key, fallback));
  if (!(v >= 0.0f) || !std::isfinite(v)) {
    return Status::InvalidArgument(gguf.name() + ": metadata " + key + " must be a finite number >= 0");
  }
  return v;
}

// pooling_type, attention.causal and the token type count (HParams).
Status ReadEmbeddingKeys(const GgufFile& gguf, const std::string& a, const ArchSpec& spec, HParams* hp) {
  if (const GgufValue* v = gguf.Find(a + ".pooling_type"); v != nullptr) {
    auto n = v->as_uint();
    if (!n || *n > static_cast<uint64_t>(Pooling::kRank)) {
      return Status::InvalidArgument(gguf.name() + ": metadata " + a + ".pooling_type must be 0..4 (none, mean, " +
                                     "cls, last, rank), got " + v->ToDisplayString());
    }
    hp->pooling = static_cast<Pooling>(*n);
  }
  hp->causal = !spec.encoder;
  if (const GgufValue* v = gguf.Find(a + ".attention.causal"); v != nullptr) {
    auto b = v->as_bool();
    if (!b) return Status::InvalidArgument(gguf.name() + ": metadata " + a + ".attention.causal must be a bool");
    hp->causal = *b;
  }
  if (!spec.encoder && !hp->causal) {
    return Status::Unsupported(gguf.name() + ": bidirectional attention is only supported for encoders");
  }
  hp->n_token_types = 0;  // from the tensor (BindWeights) unless the tokenizer says
  if (gguf.Find("tokenizer.ggml.token_type_count") != nullptr) {
    JARVIS_ASSIGN_OR_RETURN(hp->n_token_types, ReadCount(gguf, "tokenizer.ggml", "token_type_count"));
  }
  return Status::Ok();
}

}  // namespace

const char* PoolingName(Pooling p) {
  switch (p) {
    case Pooling::kNone: return "none";
    case Pooling::kMean: return "mean";
    case Pooling::kCls: return "cls";
    case Pooling::kLast: return "last";
    case Pooling::kRank: return "rank";
  }
  return "?";
}

ArchShape HParams::shape() const {
  ArchShape s;
  s.n_embd = n_embd;
  s.n_layer = n_layer;
  s.n_head = n_head;
  s.n_head_kv = n_head_kv;
  s.head_dim = head_dim;
  s.n_ff = n_ff;
  s.n_vocab = n_vocab;
  s.n_rot = rope.n_rot;
  return s;
}

Result<HParams> ReadHParams(const GgufFile& gguf) {
  HParams hp;
  JARVIS_ASSIGN_OR_RETURN(std::string_view arch, gguf.GetString("general.architecture"));
  hp.arch_name = std::string(arch);
  hp.spec = FindArch(arch);
  if (hp.spec == nullptr) {
    return Status::Unsupported(gguf.name() + ": architecture '" + hp.arch_name +
                               "' is not supported (supported: " + SupportedArchNames() + ")");
  }
  const ArchSpec& spec = *hp.spec;
  hp.rope.style = spec.rope_style;
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
  if (spec.norm == NormKind::kLayer) {  // BERT's LayerNorm epsilon (its config's layer_norm_eps)
    JARVIS_ASSIGN_OR_RETURN(hp.rms_eps, ReadFloat(gguf, a + ".attention.layer_norm_epsilon", 1e-12f));
  } else {
    JARVIS_ASSIGN_OR_RETURN(hp.rms_eps, ReadFloat(gguf, a + ".attention.layer_norm_rms_epsilon", 1e-5f));
  }
  if (!(hp.rms_eps >= 0.0f) || !std::isfinite(hp.rms_eps)) {
    return Status::InvalidArgument(gguf.name() + ": norm epsilon must be a finite number >= 0");
  }
  JARVIS_RETURN_IF_ERROR(ReadEmbeddingKeys(gguf, a, spec, &hp));
  JARVIS_ASSIGN_OR_RETURN(hp.rope.freq_base, ReadFloat(gguf, a + ".rope.freq_base", 10000.0f));
  JARVIS_ASSIGN_OR_RETURN(hp.rope.n_rot, ReadCount(gguf, a, "rope.dimension_count", hp.head_dim));
  if (hp.rope.n_rot > hp.head_dim || hp.rope.n_rot % 2 != 0) {
    return Status::InvalidArgument(gguf.name() + ": rope.dimension_count must be even and <= head dim");
  }
  // Linear rope scaling ("rope.scaling.type" = linear, factor f): positions / f.
  // Llama 3's scaling comes as the rope_freqs tensor, Phi-3's longrope as the
  // rope_factors_short/long tensors (bound with the weights).
  if (const GgufValue* type = gguf.Find(a + ".rope.scaling.type"); type != nullptr) {
    auto name = type->as_string();
    if (name && *name == "linear") {
      JARVIS_ASSIGN_OR_RETURN(float factor, ReadFloat(gguf, a + ".rope.scaling.factor", 1.0f));
      if (!(factor > 0.0f)) return Status::InvalidArgument(gguf.name() + ": rope.scaling.factor must be > 0");
      hp.rope.freq_scale = 1.0f / factor;
    } else if (name && *name != "none" && *name != "llama3" &&
               !(spec.longrope && (*name == "longrope" || *name == "su"))) {
      return Status::Unsupported(gguf.name() + ": rope scaling '" + std::string(*name) + "' is not supported");
    }
  } else if (const GgufValue* linear = gguf.Find(a + ".rope.scale_linear"); linear != nullptr) {
    auto factor = linear->as_float();
    if (!factor || !(*factor > 0.0)) return Status::InvalidArgument(gguf.name() + ": bad rope.scale_linear");
    hp.rope.freq_scale = static_cast<float>(1.0 / *factor);
  }
  if (spec.longrope) {
    JARVIS_ASSIGN_OR_RETURN(hp.rope.attn_factor, ReadNonNegative(gguf, a + ".rope.scaling.attn_factor", 1.0f));
    JARVIS_ASSIGN_OR_RETURN(hp.rope_orig_ctx,
                            ReadCount(gguf, a, "rope.scaling.original_context_length", hp.n_ctx_train));
  }

  // Attention: query scaling, soft-capping, sliding window.
  const bool wide_query = spec.wide_query_scale_layers != 0 && hp.n_layer == spec.wide_query_scale_layers;
  const float query_len = wide_query ? static_cast<float>(hp.n_embd / hp.n_head) : static_cast<float>(hp.head_dim);
  hp.attn_scale = 1.0f / std::sqrt(query_len);
  JARVIS_ASSIGN_OR_RETURN(hp.attn_softcap, ReadNonNegative(gguf, a + ".attn_logit_softcapping", 0.0f));
  JARVIS_ASSIGN_OR_RETURN(hp.final_softcap, ReadNonNegative(gguf, a + ".final_logit_softcapping", 0.0f));
  if (spec.scale_embeddings) hp.embd_scale = std::sqrt(static_cast<float>(hp.n_embd));
  if (spec.default_swa_period > 0) {
    const GgufValue* window = gguf.Find(a + ".attention.sliding_window");
    if (window != nullptr) {
      auto w = window->as_uint();
      if (!w || *w > static_cast<uint64_t>(std::numeric_limits<int32_t>::max())) {
        return Status::InvalidArgument(gguf.name() + ": metadata " + a +
                                       ".attention.sliding_window must be a non-negative integer");
      }
      hp.sliding_window = static_cast<int32_t>(*w);
    } else {
      hp.sliding_window = spec.default_window;
    }
    JARVIS_ASSIGN_OR_RETURN(hp.swa_period,
                            ReadCount(gguf, a, "attention.sliding_window_pattern", spec.default_swa_period));
  }
  float local_base = hp.rope.freq_base;
  if (spec.local_rope_base) {
    JARVIS_ASSIGN_OR_RETURN(local_base, ReadFloat(gguf, a + ".rope.freq_base_swa", 10000.0f));
  }
  hp.layers.resize(static_cast<size_t>(hp.n_layer));
  for (int32_t il = 0; il < hp.n_layer; ++il) {
    LayerParams& l = hp.layers[static_cast<size_t>(il)];
    l.sliding_window = hp.sliding_window > 0 && hp.swa_period > 0 && il % hp.swa_period < hp.swa_period - 1;
    if (hp.swa_period == 1) l.sliding_window = hp.sliding_window > 0;  // every layer
    l.rope = hp.rope;
    if (l.sliding_window && spec.local_rope_base) {
      l.rope.freq_base = local_base;
      l.rope.freq_scale = 1.0f;  // rope scaling applies to the global layers only
    }
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
