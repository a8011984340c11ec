// MatMul per weight type at Llama-3.2-1B shapes (2048 x 2048 and 8192 x 2048),
// for 1, 16 and 64 tokens, on the scalar reference and on each ISA, with GGUF-
// layout weights and (isa_packed) with the packed copy the engine uses. Counters:
// GB/s of weights read, GOP/s (2 ops per multiply-add).
//   jarvis_microbench --benchmark_filter=MatMul/q4_0
#include <benchmark/benchmark.h>

#include <random>
#include <string>
#include <vector>

#include "kernels/cpu/isa.h"
#include "kernels/cpu/matmul.h"
#include "kernels/cpu/weight_pack.h"
#include "quant/quantize.h"

namespace jarvis {
namespace {

struct Weights {
  std::vector<uint8_t> bytes;
  std::vector<uint8_t> packed;
  WeightMatrix w;
};

// `packed`: also the load-time lane-interleaved copy (weight_pack.h), which
// the engine makes for every type that has one.
Weights MakeWeights(GgmlType type, int64_t rows, int64_t cols, bool packed) {
  std::mt19937 rng(1);
  std::normal_distribution<float> normal(0.0f, 0.02f);
  Weights out;
  const size_t row_bytes = RowSize(type, cols);
  out.bytes.resize(row_bytes * static_cast<size_t>(rows));
  std::vector<float> row(static_cast<size_t>(cols));
  for (int64_t r = 0; r < rows; ++r) {
    for (auto& v : row) v = normal(rng);
    (void)QuantizeRow(type, row.data(), out.bytes.data() + r * row_bytes, cols);
  }
  out.w = {type, out.bytes.data(), rows, cols, row_bytes};
  if (packed) {
    out.packed.resize(PackedWeightBytes(rows, row_bytes));
    PackWeightTiles(type, out.bytes.data(), rows, row_bytes, 0, (rows + kPackLanes - 1) / kPackLanes,
                    out.packed.data());
    out.w.packed = out.packed.data();
  }
  return out;
}

void BM_MatMul(benchmark::State& state, GgmlType type, KernelIsa isa, int64_t rows, bool packed) {
  const int64_t cols = 2048;
  const int64_t n_tokens = state.range(0);
  const int threads = static_cast<int>(state.range(1));
  ScopedKernelIsa pin(isa);
  if (!pin.ok()) {
    state.SkipWithError("CPU lacks this ISA");
    return;
  }
  const Weights w = MakeWeights(type, rows, cols, packed);
  std::vector<float> x(static_cast<size_t>(n_tokens * cols), 0.5f);
  std::vector<float> y(static_cast<size_t>(n_tokens * rows));
  ThreadPool pool(threads);
  for (auto _ : state) {
    MatMul(w.w, x.data(), n_tokens, y.data(), pool);
    benchmark::DoNotOptimize(y.data());
  }
  const double iters = static_cast<double>(state.iterations());
  state.counters["GB/s"] = benchmark::Counter(static_cast<double>(w.bytes.size()) * iters / 1e9,
                                              benchmark::Counter::kIsRate);
  state.counters["GOP/s"] = benchmark::Counter(2.0 * rows * cols * n_tokens * iters / 1e9,
                                               benchmark::Counter::kIsRate);
}

int Register() {
  for (GgmlType type : {GgmlType::kQ4_0, GgmlType::kQ8_0, GgmlType::kQ4_K, GgmlType::kQ6_K, GgmlType::kQ5_K,
                        GgmlType::kQ4_1, GgmlType::kQ5_0, GgmlType::kQ5_1, GgmlType::kQ3_K, GgmlType::kQ2_K,
                        GgmlType::kIQ4_NL, GgmlType::kIQ4_XS, GgmlType::kF16, GgmlType::kBF16,
                        GgmlType::kF32}) {
    std::vector<KernelIsa> isas = {KernelIsa::kScalar, KernelIsa::kAvx2, KernelIsa::kAvx512, KernelIsa::kAmx};
    for (KernelIsa isa : isas) {
      if (!CpuSupportsIsa(isa)) continue;
      for (int64_t rows : {2048, 8192}) {
        for (bool packed : {false, true}) {
          if (packed && (isa == KernelIsa::kScalar || !CanPackWeights(type))) continue;
          const std::string name = std::string("MatMul/") + TypeName(type) + "/" + KernelIsaName(isa) +
                                   (packed ? "_packed/" : "/") + std::to_string(rows) + "x2048";
          auto* b = benchmark::RegisterBenchmark(name.c_str(), BM_MatMul, type, isa, rows, packed);
          b->ArgNames({"tokens", "threads"})->Args({1, 1})->Args({16, 1})->Args({64, 1})->Args({1, 2})->Args({64, 2});
          b->Unit(benchmark::kMicrosecond)->UseRealTime();
        }
      }
    }
  }
  return 0;
}

const int kRegistered = Register();

}  // namespace
}  // namespace jarvis
