// AttentionGroup over a KV cache of each type (quant/kv_type.h): 1 or 4
// query heads of 64 (Llama-3.2-1B: 4 query heads per KV head) against 512 or
// 4096 cached positions. GB/s counts the cached bytes read.
#include <benchmark/benchmark.h>
#include <sys/mman.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <string>
#include <random>
#include <vector>

#include "kernels/cpu/attention.h"
#include "kernels/cpu/isa.h"
#include "model/kv_layout.h"

namespace jarvis {
namespace {

void BM_Attention(benchmark::State& state, KvType type, KernelIsa isa) {
  ScopedKernelIsa pin(isa);
  if (!pin.ok()) {
    state.SkipWithError("CPU lacks this ISA");
    return;
  }
  const int32_t head_dim = 64, n_pos = static_cast<int32_t>(state.range(0)), block = 16;
  const int32_t group = static_cast<int32_t>(state.range(1));
  const size_t row_bytes = KvRowBytes(type, head_dim);
  const int32_t n_blocks = (n_pos + block - 1) / block;
  std::vector<uint8_t> pool(static_cast<size_t>(n_blocks) * 2 * block * row_bytes);
  std::vector<int32_t> table(static_cast<size_t>(n_blocks));
  for (int32_t b = 0; b < n_blocks; ++b) table[static_cast<size_t>(b)] = n_blocks - 1 - b;
  std::mt19937 rng(3);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> row(static_cast<size_t>(head_dim));
  KvRows k{pool.data(), 2 * block * row_bytes, 0, row_bytes, block, table.data(), type};
  KvRows v = k;
  v.layer_offset = block * row_bytes;
  for (int32_t p = 0; p < n_pos; ++p) {
    for (auto& e : row) e = normal(rng);
    StoreKvRow(row.data(), head_dim, type, const_cast<uint8_t*>(k.row(p)));
    for (auto& e : row) e = normal(rng);
    StoreKvRow(row.data(), head_dim, type, const_cast<uint8_t*>(v.row(p)));
  }
  std::vector<float> q(static_cast<size_t>(group * head_dim), 0.1f), out(q.size());
  std::vector<float> scores(static_cast<size_t>(group) * static_cast<size_t>(std::min(n_pos, kAttentionChunk)));
  for (auto _ : state) {
    AttentionGroup(q.data(), group, k, v, 0, head_dim, n_pos, 0.125f, scores.data(), out.data());
    benchmark::DoNotOptimize(out.data());
  }
  state.counters["GB/s"] = benchmark::Counter(2.0 * n_pos * row_bytes * static_cast<double>(state.iterations()) / 1e9,
                                              benchmark::Counter::kIsRate);
}

int Register() {
  for (const KvTypeTraits& t : kKvTypes) {
    for (KernelIsa isa : {KernelIsa::kScalar, KernelIsa::kAvx2, KernelIsa::kAvx512}) {
      const std::string name = std::string("Attention/") + t.name + "/" + KernelIsaName(isa);
      benchmark::RegisterBenchmark(name.c_str(), BM_Attention, t.type, isa)->ArgsProduct({{512, 4096}, {1, 4}});
    }
  }
  return 0;
}

const int kRegistered = Register();

}  // namespace
}  // namespace jarvis

namespace jarvis {
namespace {

// A decode step's attention over a Llama-3.2-1B-shaped cache (16 layers, 8 KV
// heads of 64, 4 query heads each, blocks of 16 positions): every layer, every
// KV head, 4096 positions; 128 MiB of F16 K and V, so the rows come from DRAM
// as they do in the engine. Arg: 1 = head-major blocks (the host pool's
// layout), 0 = position-major (128-byte slices 1 KiB apart). Threads split the
// KV heads, as a decode step does.
void BM_AttentionDecodeLayers(benchmark::State& state) {
  const int32_t n_layer = 16, n_kv = 8, hd = 64, group = 4, n_pos = 4096, block = 16;
  KvLayout layout;
  layout.n_layer = n_layer;
  layout.n_embd_kv = n_kv * hd;
  layout.block_size = block;
  layout.head_dim = state.range(0) != 0 ? hd : 0;
  const int32_t n_blocks = n_pos / block;
  // On huge pages, as the engine's pool (engine/kv_cache.cpp).
  static const size_t bytes = static_cast<size_t>(n_blocks) * layout.block_bytes();
  static uint8_t* pool = nullptr;
  static std::vector<int32_t> table;
  if (state.thread_index() == 0 && pool == nullptr) {
    pool = static_cast<uint8_t*>(std::aligned_alloc(size_t{2} << 20, bytes));
    madvise(pool, bytes, MADV_HUGEPAGE);
    // F16 values in [0.5, 1) (subnormal ones would take the converter's slow path).
    for (size_t i = 0; i < bytes; i += 2) {
      pool[i] = static_cast<uint8_t>(i * 7);
      pool[i + 1] = static_cast<uint8_t>(0x38 | (i >> 1 & 0x80));
    }
    table.resize(n_blocks);
    for (int32_t b = 0; b < n_blocks; ++b) table[b] = b;
    std::shuffle(table.begin(), table.end(), std::mt19937(5));
  }
  KvPoolView view{layout, pool, n_blocks};
  std::vector<float> q(group * hd, 0.1f), out(q.size());
  std::vector<float> scores(static_cast<size_t>(group) * kAttentionChunk);
  for (auto _ : state) {
    for (int32_t l = 0; l < n_layer; ++l) {
      for (int32_t h = state.thread_index(); h < n_kv; h += state.threads()) {
        const KvHeadRows k = view.HeadRows(l, false, table.data(), h), v = view.HeadRows(l, true, table.data(), h);
        AttentionGroup(q.data(), group, k.rows, v.rows, k.head, hd, n_pos, 0.125f, scores.data(), out.data());
      }
    }
    benchmark::DoNotOptimize(out.data());
  }
  // Real time per step; the cache bytes every thread's share adds up to.
  state.counters["GB/s"] = benchmark::Counter(2.0 * n_layer * n_pos * layout.row_bytes() / state.threads() *
                                                  static_cast<double>(state.iterations()),
                                              benchmark::Counter::kIsRate);
}
BENCHMARK(BM_AttentionDecodeLayers)->Arg(0)->Arg(1)->Threads(1)->Threads(2)->UseRealTime();

}  // namespace
}  // namespace jarvis
