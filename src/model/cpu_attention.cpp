#include "model/cpu_attention.h"

#include <algorithm>
#include <limits>

#include "kernels/cpu/attention.h"

namespace jarvis {
namespace {

// Tokens per prompt tile: enough to amortize a chunk's reads, few enough that
// a long prompt still gives every thread several tiles.
constexpr int32_t kTileTokens = 16;

// A running or chunk partial of `group` heads: m, l (group each), o (group x head_dim).
struct Partial {
  float* m;
  float* l;
  float* o;
};

size_t PartialFloats(int32_t group, int32_t head_dim) {
  return static_cast<size_t>(group) * (2 + static_cast<size_t>(head_dim));
}

Partial PartialAt(float* base, int32_t group) { return {base, base + group, base + 2 * group}; }

void ResetPartial(const Partial& p, int32_t group, int32_t head_dim) {
  std::fill(p.m, p.m + group, -std::numeric_limits<float>::infinity());
  std::fill(p.l, p.l + group, 0.0f);
  std::fill(p.o, p.o + static_cast<size_t>(group) * head_dim, 0.0f);
}

// The first position a token at `pos` sees (a sliding-window layer: the last
// `window` positions).
int32_t FirstVisible(int32_t pos, int32_t window) { return window > 0 ? std::max(0, pos - window + 1) : 0; }

}  // namespace

void CpuAttention::StoreKvAndAttend(const Batch& batch, const KvPoolView& kv, int32_t layer,
                                    const AttentionParams& params, const AttentionIo& io) {
  const int32_t n_tokens = batch.size();
  const int64_t dkv = static_cast<int64_t>(io.n_head_kv) * io.head_dim;
  // Every token's K/V first: a token attends to the batch's earlier tokens of
  // its sequence through the cache.
  for (int32_t t = 0; t < n_tokens; ++t) {
    const int32_t* table = batch.block_tables[static_cast<size_t>(batch.seq[t])].data();
    kv.StoreRow(layer, /*values=*/false, table, batch.positions[t], io.k + t * dkv);
    kv.StoreRow(layer, /*values=*/true, table, batch.positions[t], io.v + t * dkv);
  }
  // Split-K pays off when (token, KV head) items alone would leave threads
  // idle and some token has several chunks to spread.
  const int64_t items = static_cast<int64_t>(n_tokens) * io.n_head_kv;
  bool long_token = false;
  for (int32_t t = 0; t < n_tokens && !long_token; ++t) {
    const int32_t pos = batch.positions[t];
    long_token = pos / kAttentionChunk != FirstVisible(pos, params.window) / kAttentionChunk;
  }
  if (long_token && items < 2 * static_cast<int64_t>(pool_.size())) {
    AttendSplit(batch, kv, layer, params, io);
  } else {
    AttendTiles(batch, kv, layer, params, io);
  }
}

void CpuAttention::AttendTiles(const Batch& batch, const KvPoolView& kv, int32_t layer,
                               const AttentionParams& params, const AttentionIo& io) {
  const int32_t n_tokens = batch.size();
  tiles_.clear();
  for (int32_t t = 0; t < n_tokens; ++t) {
    const bool extends = !tiles_.empty() && batch.seq[t] == batch.seq[t - 1] &&
                         batch.positions[t] == batch.positions[t - 1] + 1 &&
                         t - tiles_.back().begin < kTileTokens;
    if (extends) {
      tiles_.back().end = t + 1;
    } else {
      tiles_.push_back({t, t + 1});
    }
  }
  const int32_t group = io.n_head / io.n_head_kv;
  const int32_t hd = io.head_dim;
  const int64_t dq = static_cast<int64_t>(io.n_head) * hd;
  const size_t pf = PartialFloats(group, hd);
  // The query heads of a whole tile for one KV head (tokens x group).
  const size_t tile_heads = static_cast<size_t>(kTileTokens) * static_cast<size_t>(group);
  // Per thread: the tile's queries (tile_heads x hd), scores (tile_heads x
  // chunk), the chunk partials (m, l: tile_heads each; o: tile_heads x hd)
  // and the tokens' running partials.
  const size_t per_thread =
      tile_heads * (static_cast<size_t>(hd) + kAttentionChunk + 2 + static_cast<size_t>(hd)) + pf * kTileTokens;
  if (scratch_.size() < per_thread * pool_.size()) scratch_.resize(per_thread * pool_.size());
  const int64_t n_items = static_cast<int64_t>(tiles_.size()) * io.n_head_kv;
  pool_.Run([&](int thread, int n_threads) {
    float* queries = scratch_.data() + static_cast<size_t>(thread) * per_thread;
    float* scores = queries + tile_heads * hd;
    float* chunk_m = scores + tile_heads * kAttentionChunk;
    float* chunk_l = chunk_m + tile_heads;
    float* chunk_o = chunk_l + tile_heads;
    float* running_base = chunk_o + tile_heads * hd;
    for (int64_t item = thread; item < n_items; item += n_threads) {
      const Tile tile = tiles_[static_cast<size_t>(item / io.n_head_kv)];
      const int32_t kvh = static_cast<int32_t>(item % io.n_head_kv);
      const int32_t* table = batch.block_tables[static_cast<size_t>(batch.seq[tile.begin])].data();
      KvHeadRows k = kv.HeadRows(layer, /*values=*/false, table, kvh);
      KvHeadRows v = kv.HeadRows(layer, /*values=*/true, table, kvh);
      const size_t head_floats = static_cast<size_t>(group) * hd;
      for (int32_t t = tile.begin; t < tile.end; ++t) {
        ResetPartial(PartialAt(running_base + (t - tile.begin) * pf, group), group, hd);
        const float* q = io.q + t * dq + static_cast<int64_t>(kvh) * group * hd;
        std::copy(q, q + head_floats, queries + static_cast<size_t>(t - tile.begin) * head_floats);
      }
      // Chunk by chunk (absolute positions). The tokens of the tile that see
      // the same rows of the chunk (all of them, for the chunks before the
      // tile's own) go through the kernel together as one group of tokens x
      // heads: the rows are staged once for them, and each head's arithmetic
      // is that of a head alone, so every token keeps its own bits.
      const int32_t c_first = FirstVisible(batch.positions[tile.begin], params.window) / kAttentionChunk;
      const int32_t c_last = batch.positions[tile.end - 1] / kAttentionChunk;
      for (int32_t c = c_first; c <= c_last; ++c) {
        auto rows_of = [&](int32_t t, int32_t* first, int32_t* a, int32_t* b) {
          const int32_t pos = batch.positions[t];
          *first = FirstVisible(pos, params.window);
          *a = std::max(c * kAttentionChunk, *first);
          *b = std::min((c + 1) * kAttentionChunk, pos + 1);
        };
        for (int32_t t = tile.begin; t < tile.end;) {
          int32_t first, a, b;
          rows_of(t, &first, &a, &b);
          if (a >= b) {
            ++t;
            continue;
          }
          int32_t end = t + 1;
          for (; end < tile.end; ++end) {
            int32_t f2, a2, b2;
            rows_of(end, &f2, &a2, &b2);
            if (f2 != first || a2 != a || b2 != b) break;
          }
          const size_t u0 = static_cast<size_t>(t - tile.begin);
          k.rows.first = v.rows.first = first;
          AttentionGroupPartial(queries + u0 * head_floats, (end - t) * group, k.rows, v.rows, k.head, hd, a - first,
                                b - first, params.scale, params.softcap, scores, chunk_m, chunk_l, chunk_o);
          for (int32_t u = t; u < end; ++u) {
            const size_t j = static_cast<size_t>(u - t) * group;
            const Partial run = PartialAt(running_base + (u - tile.begin) * pf, group);
            MergeAttentionPartial(group, hd, run.m, run.l, run.o, chunk_m + j, chunk_l + j, chunk_o + j * hd);
          }
          t = end;
        }
      }
      for (int32_t t = tile.begin; t < tile.end; ++t) {
        const Partial run = PartialAt(running_base + (t - tile.begin) * pf, group);
        FinishAttention(group, hd, run.l, run.o, io.out + t * dq + static_cast<int64_t>(kvh) * group * hd);
      }
    }
  });
}

void CpuAttention::AttendSplit(const Batch& batch, const KvPoolView& kv, int32_t layer,
                               const AttentionParams& params, const AttentionIo& io) {
  const int32_t n_tokens = batch.size();
  const int32_t group = io.n_head / io.n_head_kv;
  const int32_t hd = io.head_dim;
  const int64_t dq = static_cast<int64_t>(io.n_head) * hd;
  const size_t pf = PartialFloats(group, hd);
  // Token t's chunk c (relative to its first visible chunk) and KV head h own
  // partial (chunk_base_[t] + c) * n_head_kv + h.
  chunk_base_.assign(static_cast<size_t>(n_tokens) + 1, 0);
  for (int32_t t = 0; t < n_tokens; ++t) {
    const int32_t pos = batch.positions[t];
    const int32_t chunks = pos / kAttentionChunk - FirstVisible(pos, params.window) / kAttentionChunk + 1;
    chunk_base_[static_cast<size_t>(t) + 1] = chunk_base_[static_cast<size_t>(t)] + chunks;
  }
  const int64_t n_chunks = chunk_base_.back();
  const int64_t n_parts = n_chunks * io.n_head_kv;
  if (partials_.size() < static_cast<size_t>(n_parts) * pf) partials_.resize(static_cast<size_t>(n_parts) * pf);
  const size_t per_thread = static_cast<size_t>(group) * kAttentionChunk + pf;
  if (scratch_.size() < per_thread * pool_.size()) scratch_.resize(per_thread * pool_.size());

  // The token of global chunk index `gc` (chunk_base_ is sorted).
  auto token_of = [&](int64_t gc) {
    return static_cast<int32_t>(std::upper_bound(chunk_base_.begin(), chunk_base_.end(), gc) - chunk_base_.begin()) -
           1;
  };
  pool_.Run([&](int thread, int n_threads) {
    float* scores = scratch_.data() + static_cast<size_t>(thread) * per_thread;
    for (int64_t part = thread; part < n_parts; part += n_threads) {
      const int64_t gc = part / io.n_head_kv;
      const int32_t kvh = static_cast<int32_t>(part % io.n_head_kv);
      const int32_t t = token_of(gc);
      const int32_t pos = batch.positions[t];
      const int32_t first = FirstVisible(pos, params.window);
      const int32_t c = first / kAttentionChunk + static_cast<int32_t>(gc - chunk_base_[static_cast<size_t>(t)]);
      const int32_t a = std::max(c * kAttentionChunk, first);
      const int32_t b = std::min((c + 1) * kAttentionChunk, pos + 1);
      const int32_t* table = batch.block_tables[static_cast<size_t>(batch.seq[t])].data();
      KvHeadRows k = kv.HeadRows(layer, /*values=*/false, table, kvh);
      KvHeadRows v = kv.HeadRows(layer, /*values=*/true, table, kvh);
      k.rows.first = v.rows.first = first;
      const Partial out = PartialAt(partials_.data() + static_cast<size_t>(part) * pf, group);
      AttentionGroupPartial(io.q + t * dq + static_cast<int64_t>(kvh) * group * hd, group, k.rows, v.rows, k.head, hd,
                            a - first, b - first, params.scale, params.softcap, scores, out.m, out.l, out.o);
    }
  });
  // Fold each (token, KV head)'s chunks in position order.
  pool_.Run([&](int thread, int n_threads) {
    const Partial run = PartialAt(scratch_.data() + static_cast<size_t>(thread) * per_thread +
                                      static_cast<size_t>(group) * kAttentionChunk,
                                  group);
    const int64_t n_items = static_cast<int64_t>(n_tokens) * io.n_head_kv;
    for (int64_t item = thread; item < n_items; item += n_threads) {
      const int32_t t = static_cast<int32_t>(item / io.n_head_kv);
      const int32_t kvh = static_cast<int32_t>(item % io.n_head_kv);
      ResetPartial(run, group, hd);
      for (int64_t gc = chunk_base_[static_cast<size_t>(t)]; gc < chunk_base_[static_cast<size_t>(t) + 1]; ++gc) {
        const Partial p = PartialAt(partials_.data() + static_cast<size_t>(gc * io.n_head_kv + kvh) * pf, group);
        MergeAttentionPartial(group, hd, run.m, run.l, run.o, p.m, p.l, p.o);
      }
      FinishAttention(group, hd, run.l, run.o, io.out + t * dq + static_cast<int64_t>(kvh) * group * hd);
    }
  });
}

}  // namespace jarvis
