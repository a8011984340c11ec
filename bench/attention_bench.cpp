// AttentionHead over an F16 / F32 KV cache: one query head of 64 against
// 512 cached positions (Llama-3.2-1B head size).
#include <benchmark/benchmark.h>

#include <cstring>
#include <random>
#include <vector>

#include "kernels/cpu/attention.h"
#include "kernels/cpu/isa.h"

namespace jarvis {
namespace {

void BM_AttentionHead(benchmark::State& state, bool f16, KernelIsa isa) {
  ScopedKernelIsa pin(isa);
  if (!pin.ok()) {
    state.SkipWithError("CPU lacks this ISA");
    return;
  }
  const int32_t head_dim = 64, n_pos = static_cast<int32_t>(state.range(0)), block = 16;
  const size_t row_bytes = static_cast<size_t>(head_dim) * (f16 ? 2 : 4);
  const int32_t n_blocks = (n_pos + block - 1) / block;
  std::vector<uint8_t> pool(static_cast<size_t>(n_blocks) * 2 * block * row_bytes);
  std::vector<int32_t> table(static_cast<size_t>(n_blocks));
  for (int32_t b = 0; b < n_blocks; ++b) table[static_cast<size_t>(b)] = n_blocks - 1 - b;
  std::mt19937 rng(3);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> row(static_cast<size_t>(head_dim));
  KvRows k{pool.data(), 2 * block * row_bytes, 0, row_bytes, block, table.data(), f16};
  KvRows v = k;
  v.layer_offset = block * row_bytes;
  for (int32_t p = 0; p < n_pos; ++p) {
    for (auto& e : row) e = normal(rng);
    StoreKvRow(row.data(), head_dim, f16, const_cast<uint8_t*>(k.row(p)));
    for (auto& e : row) e = normal(rng);
    StoreKvRow(row.data(), head_dim, f16, const_cast<uint8_t*>(v.row(p)));
  }
  std::vector<float> q(static_cast<size_t>(head_dim), 0.1f), scores(static_cast<size_t>(n_pos)), out(q.size());
  for (auto _ : state) {
    AttentionHead(q.data(), k, v, 0, head_dim, n_pos, 0.125f, scores.data(), out.data());
    benchmark::DoNotOptimize(out.data());
  }
  state.counters["GB/s"] = benchmark::Counter(2.0 * n_pos * row_bytes * static_cast<double>(state.iterations()) / 1e9,
                                              benchmark::Counter::kIsRate);
}

int Register() {
  for (bool f16 : {true, false}) {
    for (KernelIsa isa : {KernelIsa::kScalar, BestKernelIsa()}) {
      const std::string name = std::string("AttentionHead/") + (f16 ? "f16" : "f32") + "/" + KernelIsaName(isa);
      benchmark::RegisterBenchmark(name.c_str(), BM_AttentionHead, f16, isa)->Arg(512)->Arg(4096);
    }
  }
  return 0;
}

const int kRegistered = Register();

}  // namespace
}  // namespace jarvis
