// The architecture table: the one place a model architecture is described.
//
// Each supported `general.architecture` has one ArchSpec: which tensors its
// layers carry (and which are optional or fused), how its layer graph differs
// from the plain pre-norm llama layer (per-head Q/K norms, post-norms, GELU,
// soft-capping, sliding windows, embedding scaling, rope style), and the
// defaults of the metadata keys it may leave out. Everything downstream reads
// these facts from here: hyper-parameters (model/hparams.cpp), weight binding
// (model/weights.cpp), the layer graph (model/layer_graph.cpp), `jarvis synth`
// and `jarvis inspect`. The metadata keys and tensor names are llama.cpp's
// (its converters write the GGUF files people run).
//
// Thread safety: constant data.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "kernels/cpu/ops.h"

namespace jarvis {

// The FFN's activation: of the gate in a gated FFN (down(act(gate(h)) * up(h))),
// of the up projection in a plain one (down(act(up(h))), ArchSpec::gated_ffn).
enum class FfnActivation {
  kSilu,      // silu(x) = x * sigmoid(x)  (llama, nomic-bert's SwiGLU)
  kGeluTanh,  // 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))  (Gemma; BERT as llama.cpp runs it, ggml_gelu)
};

// The norm of the residual stream.
enum class NormKind {
  kRms,    // x / sqrt(mean(x^2) + eps) * w
  kLayer,  // (x - mean(x)) / sqrt(var(x) + eps) * w + b  (BERT family)
};

struct ArchSpec {
  std::string_view name;            // general.architecture
  RopeStyle rope_style = RopeStyle::kInterleaved;
  FfnActivation activation = FfnActivation::kSilu;
  bool qkv_bias = false;            // attn_{q,k,v}.bias (qwen2)
  bool qk_norm = false;             // attn_{q,k}_norm: per-head RMSNorm of Q and K before rope
  bool post_norms = false;          // attn_post_norm, ffn_post_norm: RMSNorm of each block's output
  bool fused_qkv = false;           // attn_qkv = [Wq; Wk; Wv] may replace attn_q/k/v
  bool fused_gate_up = false;       // ffn_up = [Wgate; Wup], no ffn_gate
  bool scale_embeddings = false;    // x = embed * sqrt(n_embd)
  bool longrope = false;            // rope_factors_short/long tensors + rope.scaling.attn_factor
  // An encoder (bert, nomic-bert): bidirectional attention (unless
  // <arch>.attention.causal says otherwise) and no output head (no output,
  // output_norm); it embeds (Engine::Embed) and cannot generate.
  bool encoder = false;
  // The BERT layer, switched on separately so the one layer graph covers it:
  // kLayer: the residual norms and token_embd_norm are LayerNorms with a bias
  // tensor (the pre-norms attn_norm / ffn_norm are always RMSNorm: no
  // pre-norm LayerNorm architecture is supported).
  NormKind norm = NormKind::kRms;
  // Post-norm residuals: x = norm(x + attn(x)) with attn_output_norm, then
  // x = norm(x + ffn(x)) with layer_output_norm; no attn_norm / ffn_norm.
  // (Gemma's post_norms instead norm the block's output before a pre-norm
  // residual add.)
  bool residual_norms = false;
  bool gated_ffn = true;            // false: down(act(up(h))), no ffn_gate
  bool biases = false;              // attn_q/k/v, attn_output, ffn_up, ffn_down carry .bias tensors
  bool rope = true;                 // false: no rotary positions (BERT's are absolute)
  bool position_embd = false;       // position_embd.weight (n_ctx_train rows) added to the input embeddings
  bool token_types = false;         // token_types.weight (optional): its row 0 (sentence A) is added too
  bool embd_norm = false;           // token_embd_norm.{weight,bias}: LayerNorm of the summed input embeddings
  // Sliding-window attention: layer il is local when il % period < period - 1
  // (llama.cpp's pattern; period 1: every layer when a window is given).
  // `default_window` applies when the file has no attention.sliding_window.
  int32_t default_swa_period = 0;   // 0: no sliding window for this architecture
  int32_t default_window = 0;
  // Local layers use rope.freq_base_swa (default 10000) and no rope scaling;
  // false: the global base and scaling on every layer.
  bool local_rope_base = false;
  // The variant with this many layers scales queries by 1/sqrt(n_embd/n_head)
  // instead of 1/sqrt(head_dim) (Gemma 27B's query_pre_attn_scalar). 0: none.
  int32_t wide_query_scale_layers = 0;
};

// The spec of `name`, or nullptr when unsupported.
const ArchSpec* FindArch(std::string_view name);
// "llama, qwen2, qwen3, gemma2, gemma3, phi3, bert, nomic-bert"
std::string SupportedArchNames();

// The shapes a tensor list depends on.
struct ArchShape {
  int64_t n_embd = 0, n_layer = 0, n_head = 0, n_head_kv = 0, head_dim = 0, n_ff = 0, n_vocab = 0, n_rot = 0;
  bool tied_embeddings = false;
  bool fused_qkv = false;  // for specs with fused_qkv: write/bind attn_qkv instead of attn_q/k/v
  bool rope_freqs = false; // llama3 rope_freqs tensor
  int64_t n_ctx_train = 0;    // position_embd rows (specs with position_embd)
  int64_t n_token_types = 0;  // token_types rows; 0: the file has no token_types
  int64_t n_embd_q() const { return n_head * head_dim; }
  int64_t n_embd_kv() const { return n_head_kv * head_dim; }
};

// What a tensor is for (the binder stores it; the graph uses it).
enum class TensorRole {
  kTokenEmbd, kOutputNorm, kOutput, kRopeFreqs, kRopeFactorsShort, kRopeFactorsLong,
  kPosEmbd, kTokenTypes, kTokenEmbdNorm, kTokenEmbdNormBias,
  kAttnNorm, kAttnQ, kAttnK, kAttnV, kAttnQkv, kAttnQBias, kAttnKBias, kAttnVBias, kAttnQNorm, kAttnKNorm,
  kAttnOut, kAttnOutBias, kAttnPostNorm, kAttnOutNorm, kAttnOutNormBias,
  kFfnNorm, kFfnGate, kFfnUp, kFfnUpBias, kFfnGateUp, kFfnDown, kFfnDownBias, kFfnPostNorm,
  kLayerOutNorm, kLayerOutNormBias,
};
inline constexpr int kTensorRoleCount = static_cast<int>(TensorRole::kLayerOutNormBias) + 1;

struct TensorEntry {
  std::string name;           // full GGUF name ("blk.3.attn_q.weight")
  std::vector<int64_t> dims;  // GGUF order: dims[0] is the row length
  TensorRole role;
  int32_t layer = -1;         // -1: not a layer tensor
  bool required = true;
};

// Every tensor a file of this architecture and shape has, in file order
// (token_embd, the input embeddings' extras, the layers, output_norm, output).
// Optional ones (rope factors, the tied output, token types) are listed only
// when `shape` says they are present.
std::vector<TensorEntry> ArchTensors(const ArchSpec& spec, const ArchShape& shape);

}  // namespace jarvis
