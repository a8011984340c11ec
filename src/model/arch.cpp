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

const std::array<ArchSpec, 6>& Table() {
  static const std::array<ArchSpec, 6> table = {Llama(), Qwen2(), Qwen3(), Gemma2(), Gemma3(), Phi3()};
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
    add("attn_norm.weight", {d}, R::kAttnNorm);
    if (spec.fused_qkv && sh.fused_qkv) {
      add("attn_qkv.weight", {d, dq + 2 * dkv}, R::kAttnQkv);
    } else {
      add("attn_q.weight", {d, dq}, R::kAttnQ);
      add("attn_k.weight", {d, dkv}, R::kAttnK);
      add("attn_v.weight", {d, dkv}, R::kAttnV);
    }
    if (spec.qkv_bias) {
      add("attn_q.bias", {dq}, R::kAttnQBias);
      add("attn_k.bias", {dkv}, R::kAttnKBias);
      add("attn_v.bias", {dkv}, R::kAttnVBias);
    }
    if (spec.qk_norm) {
      add("attn_q_norm.weight", {sh.head_dim}, R::kAttnQNorm);
      add("attn_k_norm.weight", {sh.head_dim}, R::kAttnKNorm);
    }
    add("attn_output.weight", {dq, d}, R::kAttnOut);
    if (spec.post_norms) add("post_attention_norm.weight", {d}, R::kAttnPostNorm);
    add("ffn_norm.weight", {d}, R::kFfnNorm);
    if (spec.fused_gate_up) {
      add("ffn_up.weight", {d, 2 * sh.n_ff}, R::kFfnGateUp);
    } else {
      add("ffn_gate.weight", {d, sh.n_ff}, R::kFfnGate);
      add("ffn_up.weight", {d, sh.n_ff}, R::kFfnUp);
    }
    add("ffn_down.weight", {sh.n_ff, d}, R::kFfnDown);
    if (spec.post_norms) add("post_ffw_norm.weight", {d}, R::kFfnPostNorm);
  }
  t.push_back({"output_norm.weight", {d}, R::kOutputNorm});
  if (!sh.tied_embeddings) t.push_back({"output.weight", {d, sh.n_vocab}, R::kOutput});
  return t;
}

}  // namespace jarvis
