// Attention of one query head over one sequence's cached keys and values,
// stored in a paged KV pool (see engine/kv_cache.h for who owns the pool).
#pragma once

#include <cstddef>
#include <cstdint>

#include "quant/kv_type.h"

namespace jarvis {

// Where one sequence's cached K (or V) rows of one layer live. Position p is in
// block block_table[p / block_size], slot p % block_size.
struct KvRows {
  const uint8_t* pool = nullptr;   // base of the block pool
  size_t block_bytes = 0;          // bytes per block (all layers, K and V)
  size_t layer_offset = 0;         // bytes from a block's start to this layer's K (or V) rows
  size_t row_bytes = 0;            // bytes per position: n_kv_heads * head_dim elements of `type`
  int32_t block_size = 0;          // positions per block
  const int32_t* block_table = nullptr;
  KvType type = KvType::kF16;      // element type (q8_0: row_bytes a whole number of blocks)
  // Position of row 0 of this view: a sliding-window layer attends to the
  // positions [first, p] only, read as rows 0..p-first.
  int32_t first = 0;

  const uint8_t* row(int32_t r) const {
    const int32_t pos = r + first;
    return pool + static_cast<size_t>(block_table[pos / block_size]) * block_bytes + layer_offset +
           static_cast<size_t>(pos % block_size) * row_bytes;
  }
};

// Attention is computed in chunks of kAttentionChunk positions, each chunk
// aligned on absolute positions (multiples of kAttentionChunk, whatever the
// view's `first`), and the chunks' partial results are folded in position
// order (online softmax, as in FlashAttention / flash-decoding). A token's
// result therefore depends only on its query, its rows and its position:
// not on how chunks are spread over threads (split-K for a few long
// sequences) or grouped with other tokens (tiles of a prompt), which keeps the
// engine batch-invariant.
inline constexpr int32_t kAttentionChunk = 256;

// The partial of the n_heads query heads that share KV head `kv_head` over
// rows [p0, p1) of k / v (0 <= p0 < p1): per head h, m[h] = max_p s_p,
// l[h] = sum_p exp(s_p - m[h]), o[h] (head_dim values) = sum_p exp(s_p - m[h]) v_p,
// with s_p = q_h . k_p * scale, soft-capped to softcap * tanh(s_p / softcap)
// when softcap > 0 (Gemma 2). q and o hold the heads back to back
// (n_heads x head_dim); scores is scratch of n_heads x (p1 - p0) floats.
// Each head's partial is bit-identical to that of the head alone, so the
// "heads" may also be several tokens' groups over the same rows (a prompt
// tile: tokens x heads), which then share the reads and conversions.
void AttentionGroupPartial(const float* q, int32_t n_heads, const KvRows& k, const KvRows& v, int32_t kv_head,
                           int32_t head_dim, int32_t p0, int32_t p1, float scale, float softcap, float* scores,
                           float* m, float* l, float* o);

// Folds the partial (m2, l2, o2) of later rows into the running partial
// (m, l, o) of n_heads heads. A running partial starts as m = -inf, l = 0,
// o = 0 (folding into it copies the first partial exactly).
void MergeAttentionPartial(int32_t n_heads, int32_t head_dim, float* m, float* l, float* o, const float* m2,
                           const float* l2, const float* o2);

// out = o / l, head by head.
void FinishAttention(int32_t n_heads, int32_t head_dim, const float* l, const float* o, float* out);

// The chunks of a view of n_pos rows whose row 0 is position `first`:
// chunk c covers rows [ChunkBegin(c), ChunkBegin(c + 1)) clipped to [0, n_pos).
struct AttentionChunks {
  int32_t first = 0, n_pos = 0;
  int32_t count() const {
    return n_pos <= 0 ? 0 : (first + n_pos - 1) / kAttentionChunk - first / kAttentionChunk + 1;
  }
  int32_t begin(int32_t c) const {
    const int32_t p = (first / kAttentionChunk + c) * kAttentionChunk - first;
    return p < 0 ? 0 : p;
  }
  int32_t end(int32_t c) const {
    const int32_t p = (first / kAttentionChunk + c + 1) * kAttentionChunk - first;
    return p > n_pos ? n_pos : p;
  }
};

// out[d] = sum_p softmax_p(s_p) * v_p[d] over rows p < n_pos (s_p as above)
// for the n_heads query heads that share KV head `kv_head` (grouped-query
// attention): the chunks' partials folded in order. q and out hold the heads
// back to back (n_heads x head_dim); scores is scratch of n_heads x
// min(n_pos, kAttentionChunk) floats. Each head's result is bit-identical to
// AttentionHead's; the heads only share the reads of the cached rows.
void AttentionGroup(const float* q, int32_t n_heads, const KvRows& k, const KvRows& v, int32_t kv_head,
                    int32_t head_dim, int32_t n_pos, float scale, float* scores, float* out,
                    float softcap = 0.0f);

// Bidirectional attention of one query head within one whole sequence held
// in F32 rows (the embedding pass: no cache): for each of the n queries i,
// out_i = softmax_j(q_i . k_j * scale [soft-capped]) v_j over all n rows j.
// q, k, v, out point at this head's slice of row 0; rows are q_stride,
// kv_stride, out_stride floats apart. Scratch: kt of head_dim x n floats,
// scores of kAttentionDenseQueries x n (queries go in tiles of that many).
// Memory is linear in n (no n x n matrix); each output depends only on the
// sequence, in a fixed order.
inline constexpr int kAttentionDenseQueries = 4;
void AttentionDense(const float* q, int64_t q_stride, const float* k, const float* v, int64_t kv_stride, int32_t n,
                    int32_t head_dim, float scale, float softcap, float* kt, float* scores, float* out,
                    int64_t out_stride);

// AttentionGroup of one head.
void AttentionHead(const float* q, const KvRows& k, const KvRows& v, int32_t kv_head, int32_t head_dim,
                   int32_t n_pos, float scale, float* scores, float* out, float softcap = 0.0f);

// In place: s[i] = cap * tanh(s[i] / cap) (logit soft-capping), for cap > 0.
void SoftcapInPlace(float* s, int64_t n, float cap);

// Stores n values as one cached row of `type`: F16 rounds to nearest even,
// Q8_0 quantizes each block of 32 with the GGUF reference quantizer
// (quant/quantize.h). Every ISA writes the same bits.
void StoreKvRow(const float* src, int64_t n, KvType type, uint8_t* dst);

}  // namespace jarvis
