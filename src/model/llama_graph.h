// The llama-family forward pass over a batch of tokens from several sequences:
//
//   x = embed(tokens)                                   (n_tokens x n_embd)
//   for each layer:
//     h = rmsnorm(x) ; q,k,v = h Wq, h Wk, h Wv (+bias)  rope(q), rope(k)
//     write k, v to each token's sequence cache at its position
//     a = attention(q, cached K/V of the token's sequence, positions 0..pos)
//     x += a Wo
//     h = rmsnorm(x) ; x += (silu(h Wgate) * h Wup) Wdown
//   logits = rmsnorm(x) Woutput        only for tokens that asked for them
//
// Every per-token result depends only on that token's sequence (not on what
// else is in the batch) and not on the thread count.
//
// Thread safety: one LlamaGraph per engine; Forward() from one thread at a time.
#pragma once

#include <vector>

#include "jarvis/status.h"
#include "model/batch.h"
#include "model/kv_layout.h"
#include "model/model.h"
#include "util/thread_pool.h"

namespace jarvis {

class LlamaGraph {
 public:
  // `model` and `pool` must outlive the graph.
  LlamaGraph(const Model& model, ThreadPool& pool);

  // Runs the batch, writing its K/V into `kv` and the logits of tokens with
  // logits=1, in batch order, to `logits` (n_outputs x n_vocab).
  // InvalidArgument if a token id, position, sequence index or block table is
  // out of range (nothing is written then).
  Status Forward(const Batch& batch, const KvPoolView& kv, float* logits);

 private:
  Status Validate(const Batch& batch, const KvPoolView& kv) const;
  void EnsureScratch(int32_t n_tokens, int32_t max_pos);
  void Attention(const Batch& batch, const KvPoolView& kv, int32_t layer);

  const Model& model_;
  ThreadPool& pool_;
  // Scratch, grown on demand and reused: (n_tokens x width) row-major.
  std::vector<float> x_, h_, q_, k_, v_, att_, gate_, up_, out_;
  std::vector<float> scores_;  // per thread: max positions
  int32_t scores_stride_ = 0;
};

}  // namespace jarvis
