// Element-wise and per-row operations of the llama layer graph, F32.
// Each works on one row (one token); callers loop over tokens.
#pragma once

#include <cstdint>

namespace jarvis {

// out[i] = x[i] / sqrt(mean(x^2) + eps) * weight[i]. out may alias x.
void RmsNorm(const float* x, const float* weight, int64_t n, float eps, float* out);

// How rotary embedding pairs dimensions of a head.
enum class RopeStyle {
  kInterleaved,  // pairs (2i, 2i+1): llama GGUFs (Q/K weights permuted at conversion)
  kNeox,         // pairs (i, i + n_rot/2): qwen2, NeoX
};

struct RopeParams {
  int32_t n_rot = 0;          // rotated dimensions per head (<= head_dim)
  float freq_base = 10000.0f;
  float freq_scale = 1.0f;    // linear scaling: positions multiplied by this
  RopeStyle style = RopeStyle::kInterleaved;
  const float* freq_factors = nullptr;  // optional, n_rot/2 divisors (llama3 rope_freqs, Phi-3 longrope)
  float attn_factor = 1.0f;   // multiplies cos and sin (Phi-3 longrope's attention factor)
};

// Rotates `n_heads` heads of `head_dim` values stored back to back, at position `pos`.
void ApplyRope(float* heads, int32_t n_heads, int32_t head_dim, int32_t pos, const RopeParams& p);

// In place: x[i] = silu(x[i]) * y[i].
void SiluMul(float* x, const float* y, int64_t n);

// In place: x[i] = gelu(x[i]) * y[i], GELU in its tanh approximation
// 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))) (Gemma's gelu_pytorch_tanh).
void GeluTanhMul(float* x, const float* y, int64_t n);

// In place: x[i] = gelu(x[i]), the same tanh approximation (BERT's FFN as
// llama.cpp's ggml_gelu computes it).
void GeluTanh(float* x, int64_t n);

// out[i] = (x[i] - mean(x)) / sqrt(var(x) + eps) * weight[i] + bias[i]
// (LayerNorm; var the population variance, bias may be null). out may alias x.
void LayerNorm(const float* x, const float* weight, const float* bias, int64_t n, float eps, float* out);

// In place: x[i] *= s.
void ScaleInPlace(float* x, int64_t n, float s);

// In place: x[i] = exp(x[i] - max) / sum.
void Softmax(float* x, int64_t n);

// x[i] += y[i]
void AddInPlace(float* x, const float* y, int64_t n);

}  // namespace jarvis
