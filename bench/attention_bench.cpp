// AttentionGroup over a KV cache of each type (quant/kv_type.h): 1 or 4
// query heads of 64 (Llama-3.2-1B: 4 query heads per KV head) against 512 or
// 4096 cached positions. GB/s counts the cached bytes read.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstring>
#include <string>
#include <random>
#include <vector>

#include "kernels/cpu/attention.h"
#include "kernels/cpu/isa.h"

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
    for (KernelIsa isa : {KernelIsa::kScalar, BestKernelIsa()}) {
      const std::string name = std::string("Attention/") + t.name + "/" + KernelIsaName(isa);
      benchmark::RegisterBenchmark(name.c_str(), BM_Attention, t.type, isa)->ArgsProduct({{512, 4096}, {1, 4}});
    }
  }
  return 0;
}

const int kRegistered = Register();

}  // namespace
}  // namespace jarvis
