// CpuLayerOps: LayerOps (model/layer_ops.h) on the CPU kernels
// (kernels/cpu/): matmuls and attention spread over the thread pool, the
// per-row steps on the calling thread. It owns the scratch activations
// (grown on demand, reused); Act::kX and Act::kLogits are the caller's
// memory, bound per batch.
//
// Every output row depends only on its own token's inputs and is computed by
// one thread in a fixed order: results do not depend on the batch or on the
// thread count.
//
// Thread safety: one thread at a time.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "model/batch.h"
#include "model/cpu_attention.h"
#include "model/kv_layout.h"
#include "model/layer_ops.h"
#include "model/model.h"
#include "util/thread_pool.h"

namespace jarvis {

class CpuLayerOps final : public LayerOps {
 public:
  // `model` and `pool` must outlive the ops.
  CpuLayerOps(const Model& model, ThreadPool& pool);

  // Binds a validated batch: its K/V go to `kv`, the residual stream is `x`
  // (batch.size() x n_embd), the head writes `logits` (n_outputs x n_vocab;
  // may be null when the head will not run). Sizes the scratch.
  void Bind(const Batch& batch, const KvPoolView& kv, float* x, float* logits);
  // Binds whole sequences for the cacheless pass (AttendWithinBatch): each
  // sequence's tokens contiguous in `batch` at positions 0..len-1 (checked by
  // the caller); no KV pool, no logits.
  void BindWithoutCache(const Batch& batch, float* x);

  void MatMul(int32_t layer, TensorRole weight, Act in, Act out, int32_t rows) override;
  void RmsNorm(int32_t layer, TensorRole weight, Act in, Act out, int64_t width, int32_t rows,
               float eps) override;
  void AddBias(int32_t layer, TensorRole bias, Act x, int64_t width, int32_t rows) override;
  void Rope(Act x, int32_t n_heads, int32_t head_dim, const RopeParams& rope) override;
  void StoreKvAndAttend(int32_t layer, const AttentionParams& params) override;
  void GatedActivation(FfnActivation activation, Act gate, Act up, int64_t n) override;
  void AttendWithinBatch(const AttentionParams& params, bool causal) override;
  void LayerNorm(int32_t layer, TensorRole weight, TensorRole bias, Act in, Act out, int64_t width, int32_t rows,
                 float eps) override;
  void Activation(FfnActivation activation, Act x, int64_t n) override;
  void Add(Act x, Act y, int64_t n) override;
  void Softcap(Act x, int64_t n, float cap) override;
  void NormLogitRows(Act in, Act out, int64_t width, float eps) override;

 private:
  float* at(Act a) { return act_[static_cast<size_t>(a)]; }
  const float* Vector(int32_t layer, TensorRole role) const;

  const Model& model_;
  ThreadPool& pool_;
  const Batch* batch_ = nullptr;
  KvPoolView kv_;
  std::array<float*, kActCount> act_{};
  // Scratch: (n_tokens x width) row-major.
  std::vector<float> h_, q_, k_, v_, att_, gate_, up_, out_;
  std::vector<int32_t> seq_end_;  // BindWithoutCache: per token, one past its sequence's last token
  std::vector<int32_t> seq_start_;  // BindWithoutCache: first token of each sequence, in batch order
  std::vector<float> dense_scratch_;  // per thread: K transposed (head_dim x len) + scores (kAttentionDenseQueries x len)
  std::vector<float> scores_;  // per thread: (max positions) x (query heads per KV head)
  int32_t scores_stride_ = 0;
  CpuAttention attention_;
};

}  // namespace jarvis
