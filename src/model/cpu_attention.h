// CpuAttention: the attention step of CpuLayerOps (model/cpu_layer_ops.h):
// stores the batch's K/V rows in the paged cache, then attends every token
// over its sequence's cached rows, spreading the work over the thread pool.
//
// The arithmetic of one token is fixed by kernels/cpu/attention.h: chunks of
// kAttentionChunk positions aligned on absolute positions, folded in order.
// How the work is cut only changes who computes which chunk and what stays in
// cache, never a result bit (the engine stays batch- and thread-invariant):
//   - Tiles: consecutive tokens of one sequence (a prompt chunk) are taken
//     together per KV head, chunk by chunk, so a chunk's cached rows are read
//     from memory once for the whole tile and then served from L2 (prompt
//     processing deep into a context was bound by re-reading every row once
//     per token).
//   - Split-K: when the batch has fewer (token, KV head) items than the pool
//     has threads to keep busy (one decode token of a model with few KV
//     heads, e.g. Gemma 3's one), the chunks of a token are computed by
//     different threads into a partial buffer and folded afterwards.
//
// Thread safety: one thread at a time, like the CpuLayerOps that owns it.
#pragma once

#include <cstdint>
#include <vector>

#include "model/batch.h"
#include "model/kv_layout.h"
#include "model/layer_ops.h"
#include "util/thread_pool.h"

namespace jarvis {

// Where a layer's attention reads and writes (row-major F32 activations).
struct AttentionIo {
  const float* q;  // n_tokens x (n_head * head_dim)
  const float* k;  // n_tokens x (n_head_kv * head_dim), stored into the cache
  const float* v;
  float* out;      // n_tokens x (n_head * head_dim)
  int32_t n_head = 0, n_head_kv = 0, head_dim = 0;
};

class CpuAttention {
 public:
  explicit CpuAttention(ThreadPool& pool) : pool_(pool) {}

  void StoreKvAndAttend(const Batch& batch, const KvPoolView& kv, int32_t layer, const AttentionParams& params,
                        const AttentionIo& io);

 private:
  // Tokens [begin, end) of the batch: one sequence, consecutive positions.
  struct Tile {
    int32_t begin = 0, end = 0;
  };
  void AttendTiles(const Batch& batch, const KvPoolView& kv, int32_t layer, const AttentionParams& params,
                   const AttentionIo& io);
  void AttendSplit(const Batch& batch, const KvPoolView& kv, int32_t layer, const AttentionParams& params,
                   const AttentionIo& io);

  ThreadPool& pool_;
  std::vector<Tile> tiles_;
  std::vector<float> scratch_;   // per thread, see AttendTiles / AttendSplit
  std::vector<float> partials_;  // split-K: one partial per (token, KV head, chunk)
  std::vector<int32_t> chunk_base_;  // split-K: index of each token's first chunk in partials_
};

}  // namespace jarvis
