#include "cli/bench_stream.h"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <memory>
#include <thread>
#include <vector>

namespace jarvis::cli {

double MeasureTriadBandwidth(size_t bytes_per_array, int threads, int reps) {
  const size_t n = bytes_per_array / sizeof(double);
  std::unique_ptr<double[]> a(new (std::nothrow) double[n]);
  std::unique_ptr<double[]> b(new (std::nothrow) double[n]);
  std::unique_ptr<double[]> c(new (std::nothrow) double[n]);
  if (!a || !b || !c || n == 0) return 0.0;
  threads = std::max(1, threads);
  auto parallel = [&](auto&& body) {
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; ++t) {
      pool.emplace_back([&, t] {
        const size_t begin = n * static_cast<size_t>(t) / static_cast<size_t>(threads);
        const size_t end = n * static_cast<size_t>(t + 1) / static_cast<size_t>(threads);
        body(begin, end);
      });
    }
    for (auto& th : pool) th.join();
  };
  // First touch from the threads that will use the pages.
  parallel([&](size_t begin, size_t end) {
    for (size_t i = begin; i < end; ++i) {
      a[i] = 0.0;
      b[i] = 1.0;
      c[i] = 2.0;
    }
  });
  double best = 0.0;
  for (int r = 0; r < reps; ++r) {
    const auto start = std::chrono::steady_clock::now();
    parallel([&](size_t begin, size_t end) {
      const double s = 3.0;
      double* __restrict pa = a.get();
      const double* __restrict pb = b.get();
      const double* __restrict pc = c.get();
      for (size_t i = begin; i < end; ++i) pa[i] = pb[i] + s * pc[i];
    });
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    best = std::max(best, 3.0 * static_cast<double>(n * sizeof(double)) / seconds / 1e9);
  }
  return best;
}

}  // namespace jarvis::cli
