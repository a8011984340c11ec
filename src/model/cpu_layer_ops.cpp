#include "model/cpu_layer_ops.h"

#include <algorithm>
#include <cmath>
#include <functional>

#include "kernels/cpu/attention.h"
#include "kernels/cpu/matmul.h"
#include "kernels/cpu/ops.h"

namespace jarvis {
namespace {

void Grow(std::vector<float>& v, size_t n) {
  if (v.size() < n) v.resize(n);
}

// The row-wise and element-wise ops (norms, biases, RoPE, activations,
// residual adds) are split over the pool when a batch gives them enough work
// to pay for the hand-off: a prompt chunk or an embedding batch, where on the
// calling thread alone they took ~15% of an encoder pass. A decode step's few
// rows stay on the calling thread. Each row or element is computed the same
// way wherever a split falls (elements are split on multiples of 64, so
// vector lanes and tails do not move), so results do not change.
constexpr int64_t kParallelElements = int64_t{1} << 15;

void ForRows(ThreadPool& pool, int64_t rows, int64_t width, const std::function<void(int64_t, int64_t)>& fn) {
  if (pool.size() == 1 || rows < 2 || rows * width < kParallelElements) {
    fn(0, rows);
  } else {
    pool.ParallelFor(rows, 1, fn);
  }
}

void ForElements(ThreadPool& pool, int64_t n, const std::function<void(int64_t, int64_t)>& fn) {
  if (pool.size() == 1 || n < kParallelElements) {
    fn(0, n);
  } else {
    pool.ParallelFor(n, 64, fn);
  }
}

}  // namespace

CpuLayerOps::CpuLayerOps(const Model& model, ThreadPool& pool) : model_(model), pool_(pool), attention_(pool) {}

void CpuLayerOps::Bind(const Batch& batch, const KvPoolView& kv, float* x, float* logits) {
  const HParams& hp = model_.hparams();
  const size_t n = static_cast<size_t>(batch.size());
  batch_ = &batch;
  kv_ = kv;
  Grow(h_, n * hp.n_embd);
  Grow(out_, n * hp.n_embd);
  Grow(q_, n * hp.n_embd_q());
  Grow(att_, n * hp.n_embd_q());
  Grow(k_, n * hp.n_embd_kv());
  Grow(v_, n * hp.n_embd_kv());
  Grow(gate_, n * hp.n_ff);
  Grow(up_, n * hp.n_ff);
  act_ = {x, h_.data(), q_.data(), k_.data(), v_.data(), att_.data(), out_.data(), gate_.data(), up_.data(), logits};
}

void CpuLayerOps::BindWithoutCache(const Batch& batch, float* x) {
  Bind(batch, KvPoolView{}, x, nullptr);
  const int32_t n = batch.size();
  seq_end_.resize(static_cast<size_t>(n));
  // Walk back from the end: a token's sequence ends where the next one starts
  // (position 0) or at the batch's end.
  int32_t end = n;
  for (int32_t t = n - 1; t >= 0; --t) {
    seq_end_[static_cast<size_t>(t)] = end;
    if (batch.positions[t] == 0) end = t;
  }
  seq_start_.clear();
  for (int32_t t = 0; t < n; ++t) {
    if (batch.positions[t] == 0) seq_start_.push_back(t);
  }
  const HParams& hp = model_.hparams();
  // Score rows of the longest sequence: per thread, one per query head of a
  // KV group (the causal path) or K transposed + a tile of query rows
  // (AttentionDense).
  int32_t longest = 0;
  for (int32_t t = 0; t < n; ++t) longest = std::max(longest, seq_end_[static_cast<size_t>(t)] - (t - batch.positions[t]));
  scores_stride_ = std::max(scores_stride_, longest);
  Grow(scores_, static_cast<size_t>(scores_stride_) * static_cast<size_t>(hp.n_head / hp.n_head_kv) * pool_.size());
  Grow(dense_scratch_,
       static_cast<size_t>(scores_stride_) * static_cast<size_t>(hp.head_dim + kAttentionDenseQueries) * pool_.size());
}

const float* CpuLayerOps::Vector(int32_t layer, TensorRole role) const {
  const ModelWeights& w = model_.weights();
  if (layer >= 0) return w.layers[static_cast<size_t>(layer)].vector(role);
  switch (role) {
    case TensorRole::kTokenEmbdNorm: return w.tok_norm;
    case TensorRole::kTokenEmbdNormBias: return w.tok_norm_b;
    default: return w.output_norm;
  }
}

void CpuLayerOps::MatMul(int32_t layer, TensorRole weight, Act in, Act out, int32_t rows) {
  const ModelWeights& w = model_.weights();
  const WeightMatrix& m = layer < 0 ? w.output : w.layers[static_cast<size_t>(layer)].matrix(weight);
  jarvis::MatMul(m, at(in), rows, at(out), pool_);
}

void CpuLayerOps::RmsNorm(int32_t layer, TensorRole weight, Act in, Act out, int64_t width, int32_t rows,
                          float eps) {
  const float* w = Vector(layer, weight);
  const float* x = at(in);
  float* y = at(out);
  ForRows(pool_, rows, width, [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r) jarvis::RmsNorm(x + r * width, w, width, eps, y + r * width);
  });
}

void CpuLayerOps::AddBias(int32_t layer, TensorRole bias, Act x, int64_t width, int32_t rows) {
  const float* b = Vector(layer, bias);
  float* v = at(x);
  ForRows(pool_, rows, width, [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r) AddInPlace(v + r * width, b, width);
  });
}

void CpuLayerOps::Rope(Act x, int32_t n_heads, int32_t head_dim, const RopeParams& rope) {
  float* v = at(x);
  const int64_t width = static_cast<int64_t>(n_heads) * head_dim;
  ForRows(pool_, batch_->size(), width, [&](int64_t begin, int64_t end) {
    for (int64_t t = begin; t < end; ++t) {
      ApplyRope(v + t * width, n_heads, head_dim, batch_->positions[static_cast<int32_t>(t)], rope);
    }
  });
}

void CpuLayerOps::StoreKvAndAttend(int32_t layer, const AttentionParams& params) {
  const HParams& hp = model_.hparams();
  attention_.StoreKvAndAttend(*batch_, kv_, layer, params,
                              {q_.data(), k_.data(), v_.data(), att_.data(), hp.n_head, hp.n_head_kv, hp.head_dim});
}

namespace {

// Rows [start, ...) of a contiguous F32 (n_tokens x width) buffer as a KvRows
// view: one "block" holding every row, so row(r) = base + (start + first + r) * width.
// The block size is a power of two beyond any sequence: the attention kernel
// then finds a row with a shift and a mask instead of two divisions
// (measured: 256-token MiniLM inputs spent most of their time there).
KvRows ContiguousRows(const float* base, int32_t start, int64_t width) {
  static const int32_t kOneBlock = 0;
  KvRows r;
  r.pool = reinterpret_cast<const uint8_t*>(base + static_cast<int64_t>(start) * width);
  r.block_bytes = 0;
  r.layer_offset = 0;
  r.row_bytes = static_cast<size_t>(width) * sizeof(float);
  r.block_size = int32_t{1} << 30;
  r.block_table = &kOneBlock;
  r.type = KvType::kF32;
  return r;
}

}  // namespace

void CpuLayerOps::AttendWithinBatch(const AttentionParams& params, bool causal) {
  const HParams& hp = model_.hparams();
  const Batch& batch = *batch_;
  const int32_t n_tokens = batch.size();
  const int64_t dkv = hp.n_embd_kv();
  const int32_t group = hp.n_head / hp.n_head_kv;
  if (!causal && params.window == 0) {
    // Encoders: every query of a sequence sees all of it, so one item per
    // (sequence, query head) runs the whole sequence at once (AttentionDense:
    // K transposed once, scores of many keys per instruction), several times
    // faster than a query at a time over the cached-path kernel.
    const int64_t dq = hp.n_embd_q();
    const int64_t n_items = static_cast<int64_t>(seq_start_.size()) * hp.n_head;
    pool_.Run([&](int thread, int n_threads) {
      float* kt = dense_scratch_.data() +
                  static_cast<size_t>(thread) * scores_stride_ * static_cast<size_t>(hp.head_dim + kAttentionDenseQueries);
      float* scores = kt + static_cast<size_t>(scores_stride_) * hp.head_dim;
      for (int64_t item = thread; item < n_items; item += n_threads) {
        const int32_t start = seq_start_[static_cast<size_t>(item / hp.n_head)];
        const int32_t h = static_cast<int32_t>(item % hp.n_head);
        const int32_t len = seq_end_[static_cast<size_t>(start)] - start;
        const int64_t q_off = start * dq + static_cast<int64_t>(h) * hp.head_dim;
        const int64_t kv_off = start * dkv + static_cast<int64_t>(h / group) * hp.head_dim;
        AttentionDense(q_.data() + q_off, dq, k_.data() + kv_off, v_.data() + kv_off, dkv, len, hp.head_dim,
                       params.scale, params.softcap, kt, scores, att_.data() + q_off, dq);
      }
    });
    return;
  }
  // The sequence's own K/V rows stay in k_ / v_ (F32, never cached); the same
  // attention kernel as the cached path reads them through a KvRows view.
  // Memory per thread: one score row per query head (scores_), not a
  // sequence x sequence matrix.
  pool_.Run([&](int thread, int n_threads) {
    float* scores = scores_.data() + static_cast<size_t>(thread) * scores_stride_ * static_cast<size_t>(group);
    const int64_t n_items = static_cast<int64_t>(n_tokens) * hp.n_head_kv;
    for (int64_t item = thread; item < n_items; item += n_threads) {
      const int32_t t = static_cast<int32_t>(item / hp.n_head_kv);
      const int32_t kvh = static_cast<int32_t>(item % hp.n_head_kv);
      const int32_t pos = batch.positions[t];
      const int32_t start = t - pos;
      KvRows k = ContiguousRows(k_.data(), start, dkv);
      KvRows v = ContiguousRows(v_.data(), start, dkv);
      int32_t n_pos = seq_end_[static_cast<size_t>(t)] - start;  // bidirectional: the whole sequence
      if (causal) {
        k.first = v.first = params.window > 0 ? std::max(0, pos - params.window + 1) : 0;
        n_pos = pos + 1 - k.first;
      }
      const size_t first = static_cast<size_t>(t) * hp.n_embd_q() + static_cast<size_t>(kvh * group) * hp.head_dim;
      AttentionGroup(q_.data() + first, group, k, v, kvh, hp.head_dim, n_pos, params.scale, scores,
                     att_.data() + first, params.softcap);
    }
  });
}

void CpuLayerOps::LayerNorm(int32_t layer, TensorRole weight, TensorRole bias, Act in, Act out, int64_t width,
                            int32_t rows, float eps) {
  const float* w = Vector(layer, weight);
  const float* b = Vector(layer, bias);
  const float* x = at(in);
  float* y = at(out);
  ForRows(pool_, rows, width, [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r) jarvis::LayerNorm(x + r * width, w, b, width, eps, y + r * width);
  });
}

void CpuLayerOps::Activation(FfnActivation activation, Act x, int64_t n) {
  float* v = at(x);
  ForElements(pool_, n, [&](int64_t begin, int64_t end) {
    if (activation == FfnActivation::kGeluTanh) {
      GeluTanh(v + begin, end - begin);
    } else {  // no plain-FFN architecture uses SiLU yet: the scalar form suffices
      for (int64_t i = begin; i < end; ++i) v[i] = v[i] / (1.0f + std::exp(-v[i]));
    }
  });
}

void CpuLayerOps::GatedActivation(FfnActivation activation, Act gate, Act up, int64_t n) {
  float* g = at(gate);
  const float* u = at(up);
  ForElements(pool_, n, [&](int64_t begin, int64_t end) {
    if (activation == FfnActivation::kGeluTanh) {
      GeluTanhMul(g + begin, u + begin, end - begin);
    } else {
      SiluMul(g + begin, u + begin, end - begin);
    }
  });
}

void CpuLayerOps::Add(Act x, Act y, int64_t n) {
  float* a = at(x);
  const float* b = at(y);
  ForElements(pool_, n, [&](int64_t begin, int64_t end) { AddInPlace(a + begin, b + begin, end - begin); });
}

void CpuLayerOps::Softcap(Act x, int64_t n, float cap) { SoftcapInPlace(at(x), n, cap); }

void CpuLayerOps::NormLogitRows(Act in, Act out, int64_t width, float eps) {
  const float* x = at(in);
  float* y = at(out);
  int32_t n_out = 0;
  for (int32_t t = 0; t < batch_->size(); ++t) {
    if (batch_->logits[t]) {
      jarvis::RmsNorm(x + t * width, model_.weights().output_norm, width, eps, y + n_out++ * width);
    }
  }
}

}  // namespace jarvis
