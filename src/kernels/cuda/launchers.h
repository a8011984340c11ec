// Host-callable launchers of the CUDA kernels (src/kernels/cuda/*.cu), for
// code compiled by the host compiler: no CUDA header needed. Every pointer
// argument is device memory unless said otherwise; `stream` is a cudaStream_t
// (nullptr = the legacy default stream). Launchers only enqueue work: errors
// (bad launch configuration, faults) surface at the caller's next
// cudaGetLastError / cudaStreamSynchronize.
//
// Shapes follow the CPU kernels (kernels/cpu/*.h), which are the oracles of the
// GPU tests: activations are row-major (n_tokens x width) F32; weights are GGUF
// rows in their on-disk block format.
//
// Only built when the build has CUDA (JARVIS_HAVE_CUDA).
#pragma once

#include <cstddef>
#include <cstdint>

#include "quant/ggml_type.h"

namespace jarvis::cuda {

using Stream = void*;  // a cudaStream_t

// Weight types MatMul handles: f32, f16, bf16, q4_0, q4_1, q5_0, q5_1, q8_0,
// q4_k, q5_k, q6_k (every CPU compute type, kernels/cpu/matmul.h).
bool HasMatMulKernel(GgmlType type);

// y[t * rows + r] = sum_c W[r][c] * x[t * cols + c] for t < n_tokens. W has
// `rows` rows of `row_bytes` bytes. Up to kMatVecMaxTokens tokens run one warp
// per row reading the blocks directly (decode); more run a shared-memory tiled
// F32 kernel (prefill, batched decode). REQUIRES: HasMatMulKernel(type).
inline constexpr int32_t kMatVecMaxTokens = 4;
void MatMul(GgmlType type, const uint8_t* w, int64_t rows, int64_t cols, size_t row_bytes, const float* x,
            int32_t n_tokens, float* y, Stream stream);

// out[i][c] = x[src][c] / sqrt(mean(x[src]^2) + eps) * weight[c] for i < n_rows,
// src = row_map ? row_map[i] : i. out must not alias x when row_map is set.
void RmsNorm(const float* x, const float* weight, int64_t n, float eps, const int32_t* row_map,
             int32_t n_rows, float* out, Stream stream);

// x[t][i] += bias[i] for t < n_rows, i < n.
void AddBias(float* x, const float* bias, int64_t n, int32_t n_rows, Stream stream);
// x[i] += y[i].
void Add(float* x, const float* y, int64_t n, Stream stream);
// x[i] = silu(x[i]) * y[i].
void SiluMul(float* x, const float* y, int64_t n, Stream stream);
// x[i] = gelu_tanh(x[i]) * y[i] (kernels/cpu/ops.h GeluTanhMul).
void GeluTanhMul(float* x, const float* y, int64_t n, Stream stream);
// x[i] = cap * tanh(x[i] / cap) (logit soft-capping).
void Softcap(float* x, int64_t n, float cap, Stream stream);
// x[i] *= s.
void Scale(float* x, int64_t n, float s, Stream stream);

struct RopeArgs {
  int32_t n_rot = 0;
  float freq_base = 10000.0f;
  float freq_scale = 1.0f;
  bool neox = false;                    // pairs (i, i + n_rot/2), else (2i, 2i+1)
  const float* freq_factors = nullptr;  // device, n_rot/2 divisors, or nullptr
  float attn_factor = 1.0f;             // multiplies cos and sin (longrope)
};
// Rotates n_heads heads of head_dim values of each token row t (row stride
// n_heads * head_dim) at position positions[t], as kernels/cpu/ops.h ApplyRope.
void Rope(float* x, int32_t n_tokens, int32_t n_heads, int32_t head_dim, const int32_t* positions,
          const RopeArgs& args, Stream stream);

// One layer's K and V rows in a paged pool (model/kv_layout.h geometry): the
// row of token t's position p is at
//   pool + tables[table_offsets[t] + p / block_size] * block_bytes
//        + (k_offset | v_offset) + (p % block_size) * row_bytes.
struct PagedKv {
  uint8_t* pool = nullptr;
  size_t block_bytes = 0;
  size_t k_offset = 0;
  size_t v_offset = 0;
  size_t row_bytes = 0;        // n_embd_kv elements
  int32_t block_size = 0;
  bool f16 = true;             // elements F16 (round to nearest even), else F32
  const int32_t* tables = nullptr;         // flattened block tables
  const int32_t* table_offsets = nullptr;  // per token: start of its sequence's table
};

// Writes k and v (n_tokens x n_embd_kv) at each token's position.
void StoreKv(const float* k, const float* v, int64_t n_embd_kv, int32_t n_tokens, const int32_t* positions,
             const PagedKv& kv, Stream stream);

// Attention of every (token t, head h): softmax(q . K[first..positions[t]] * scale)
// V over the token's cached positions first..positions[t] (first = 0, or
// positions[t] - window + 1 when window > 0: a sliding-window layer), scores
// soft-capped to softcap * tanh(s / softcap) when softcap > 0, K/V head h /
// (n_head / n_head_kv) (GQA). q and out are (n_tokens x n_head * head_dim). The
// positions are cut into splits of kAttentionSplit, computed in parallel and
// merged ("flash decoding"); `scratch` holds AttentionScratchFloats(...)
// floats. max_n_pos = 1 + the largest position in the batch.
inline constexpr int32_t kAttentionSplit = 256;
size_t AttentionScratchFloats(int32_t n_tokens, int32_t n_head, int32_t head_dim, int32_t max_n_pos);
struct AttentionOptions {
  float scale = 1.0f;
  float softcap = 0.0f;  // 0: none
  int32_t window = 0;    // 0: all positions
};
void Attention(const float* q, const PagedKv& kv, const int32_t* positions, int32_t n_tokens, int32_t n_head,
               int32_t n_head_kv, int32_t head_dim, const AttentionOptions& options, int32_t max_n_pos,
               float* scratch, float* out, Stream stream);

// out[r] = index of the largest x[r][i], i < n (the first one on ties), r < n_rows.
void ArgMax(const float* x, int32_t n_rows, int64_t n, int32_t* out, Stream stream);

}  // namespace jarvis::cuda
