#include "model/arch.h"

#include <array>

namespace jarvis {
namespace {

ArchSpec Llama() {
  ArchSpec s;
  s.name = "llama";  // Llama 2/3, TinyLlama, Mistral, SmolLM, stories
  return s;
}

ArchSpec Qwen2() {
  ArchSpec s;
  s.name = "qwen2";  // Qwen2 / 2.5, DeepSeek-R1-Distill-Qwen
  s.rope_style = RopeStyle::kNeox;
  s.qkv_bias = true;
  return s;
}

ArchSpec Qwen3() {
  ArchSpec s;
  s.name = "qwen3";
  s.rope_style = RopeStyle::kNeox;
  s.qk_norm = true;
  return s;
}

ArchSpec Gemma2() {
  ArchSpec s;
  s.name = "gemma2";
  s.rope_style = RopeStyle::kNeox;
  s.activation = FfnActivation::kGeluTanh;
  s.post_norms = true;
  s.scale_embeddings = true;
  s.default_swa_period = 2;  // local, global, local, ...
  s.default_window = 4096;
  s.wide_query_scale_layers = 46;  // gemma-2-27b
  return s;
}

ArchSpec Gemma3() {
  ArchSpec s;
  s.name = "gemma3";
  s.rope_style = RopeStyle::kNeox;
  s.activation = FfnActivation::kGeluTanh;
  s.qk_norm = true;
  s.post_norms = true;
  s.scale_embeddings = true;
  s.default_swa_period = 6;  // 5 local : 1 global
  s.local_rope_base = true;
  s.wide_query_scale_layers = 62;  // gemma-3-27b
  return s;
}

ArchSpec Phi3() {
  ArchSpec s;
  s.name = "phi3";  // Phi-3, Phi-3.5, Phi-4 mini
  s.rope_style = RopeStyle::kNeox;
  s.fused_qkv = true;
  s.fused_gate_up = true;
  s.longrope = true;
  s.default_swa_period = 1;  // every layer, when attention.sliding_window > 0
  return s;
}

// The BERT encoder layer as llama.cpp builds it (src/models/bert.cpp): input =
// LayerNorm(token + position + token type 0); per layer x = LN(x + attn(x)),
// x = LN(x + ffn(x)); attention bidirectional, scaled by 1/sqrt(head_dim).
ArchSpec BertFamily() {
  ArchSpec s;
  s.encoder = true;
  s.norm = NormKind::kLayer;
  s.residual_norms = true;
  s.token_types = true;
  s.embd_norm = true;
  return s;
}

ArchSpec Bert() {
  ArchSpec s = BertFamily();
  s.name = "bert";  // all-MiniLM, BGE, E5
  s.rope = false;
  s.position_embd = true;
  s.biases = true;
  s.gated_ffn = false;
  s.activation = FfnActivation::kGeluTanh;  // llama.cpp's ggml_gelu (tanh form), not erf
  return s;
}

ArchSpec NomicBert() {
  ArchSpec s = BertFamily();
  s.name = "nomic-bert";  // nomic-embed-text v1 / v1.5
  s.rope_style = RopeStyle::kNeox;
  s.fused_qkv = true;
  s.activation = FfnActivation::kSilu;  // SwiGLU: down(silu(gate(h)) * up(h))
  return s;
}

const std::array<ArchSpec, 8>& Table() {
  static const std::array<ArchSpec, 8> table = {Llama(),  Qwen2(), Qwen3(), Gemma2(),
                                                Gemma3(), Phi3(),  Bert(),  NomicBert()};
  return table;
}

}  // namespace

const ArchSpec* FindArch(std::string_view name) {
  for (const ArchSpec& s : Table()) {
    if (s.name == name) return &s;
  }
  return nullptr;
}

std::string SupportedArchNames() {
  std::string out;
  for (const ArchSpec& s : Table()) out += (out.empty() ? "" : ", ") + std::string(s.name);
  return out;
}

std::vector<TensorEntry> ArchTensors(const ArchSpec& spec, const ArchShape& sh) {
  using R = TensorRole;
  std::vector<TensorEntry> t;
  const int64_t d = sh.n_embd, dq = sh.n_embd_q(), dkv = sh.n_embd_kv();
  t.push_back({"token_embd.weight", {d, sh.n_vocab}, R::kTokenEmbd});
  if (spec.position_embd) t.push_back({"position_embd.weight", {d, sh.n_ctx_train}, R::kPosEmbd});
  if (spec.token_types && sh.n_token_types > 0) {
    t.push_back({"token_types.weight", {d, sh.n_token_types}, R::kTokenTypes, -1, false});
  }
  if (spec.embd_norm) {
    t.push_back({"token_embd_norm.weight", {d}, R::kTokenEmbdNorm});
    t.push_back({"token_embd_norm.bias", {d}, R::kTokenEmbdNormBias});
  }
  if (sh.rope_freqs) t.push_back({"rope_freqs.weight", {sh.n_rot / 2}, R::kRopeFreqs});
  if (spec.longrope) {
    t.push_back({"rope_factors_long.weight", {sh.n_rot / 2}, R::kRopeFactorsLong, -1, false});
    t.push_back({"rope_factors_short.weight", {sh.n_rot / 2}, R::kRopeFactorsShort, -1, false});
  }
  for (int32_t il = 0; il < sh.n_layer; ++il) {
    const std::string p = "blk." + std::to_string(il) + ".";
    auto add = [&](const char* suffix, std::vector<int64_t> dims, R role) {
      t.push_back({p + suffix, std::move(dims), role, il});
    };
    if (!spec.residual_norms) add("attn_norm.weight", {d}, R::kAttnNorm);
    if (spec.fused_qkv && sh.fused_qkv) {
      add("attn_qkv.weight", {d, dq + 2 * dkv}, R::kAttnQkv);
    } else {
      add("attn_q.weight", {d, dq}, R::kAttnQ);
      add("attn_k.weight", {d, dkv}, R::kAttnK);
      add("attn_v.weight", {d, dkv}, R::kAttnV);
    }
    if (spec.qkv_bias || spec.biases) {
      add("attn_q.bias", {dq}, R::kAttnQBias);
      add("attn_k.bias", {dkv}, R::kAttnKBias);
      add("attn_v.bias", {dkv}, R::kAttnVBias);
    }
    if (spec.qk_norm) {
      add("attn_q_norm.weight", {sh.head_dim}, R::kAttnQNorm);
      add("attn_k_norm.weight", {sh.head_dim}, R::kAttnKNorm);
    }
    add("attn_output.weight", {dq, d}, R::kAttnOut);
    if (spec.biases) add("attn_output.bias", {d}, R::kAttnOutBias);
    if (spec.post_norms) add("post_attention_norm.weight", {d}, R::kAttnPostNorm);
    if (spec.residual_norms) {
      add("attn_output_norm.weight", {d}, R::kAttnOutNorm);
      add("attn_output_norm.bias", {d}, R::kAttnOutNormBias);
    } else {
      add("ffn_norm.weight", {d}, R::kFfnNorm);
    }
    if (spec.fused_gate_up) {
      add("ffn_up.weight", {d, 2 * sh.n_ff}, R::kFfnGateUp);
    } else {
      if (spec.gated_ffn) add("ffn_gate.weight", {d, sh.n_ff}, R::kFfnGate);
      add("ffn_up.weight", {d, sh.n_ff}, R::kFfnUp);
    }
    if (spec.biases) add("ffn_up.bias", {sh.n_ff}, R::kFfnUpBias);
    add("ffn_down.weight", {sh.n_ff, d}, R::kFfnDown);
    if (spec.biases) add("ffn_down.bias", {d}, R::kFfnDownBias);
    if (spec.post_norms) add("post_ffw_norm.weight", {d}, R::kFfnPostNorm);
    if (spec.residual_norms) {
      add("layer_output_norm.weight", {d}, R::kLayerOutNorm);
      add("layer_output_norm.bias", {d}, R::kLayerOutNormBias);
    }
  }
  if (!spec.encoder) {  // an encoder ends with its last layer's norm; no head
    t.push_back({"output_norm.weight", {d}, R::kOutputNorm});
    if (!sh.tied_embeddings) t.push_back({"output.weight", {d, sh.n_vocab}, R::kOutput});
  }
  return t;
}

}  // namespace jarvis
