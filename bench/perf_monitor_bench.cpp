// Cost of recording into the PerfMonitor (target: < 100 ns per record,
// uncontended). Run: jarvis_perf_monitor_bench
//   Record/timer_ref      PerfDistribution::Record through a kept reference
//   Record/by_name        PerfMonitor::RecordEvent (adds the name lookup)
//   Counter/*             the same for counters; Scoped: JARVIS_MEASURE
#include <benchmark/benchmark.h>

#include "util/perf_monitor.h"

namespace jarvis {
namespace {

void BM_RecordTimerRef(benchmark::State& state) {
  static PerfMonitor monitor;
  PerfDistribution& t = monitor.GetTimer("bench_timer_ref");
  double v = 1.0;
  for (auto _ : state) {
    t.Record(v);
    v = v < 5000.0 ? v * 1.01 : 1.0;
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_RecordTimerRef)->ThreadRange(1, 2);

void BM_RecordEventByName(benchmark::State& state) {
  static PerfMonitor monitor;
  double v = 1.0;
  for (auto _ : state) {
    monitor.RecordEvent("time_per_output_token", v);
    v = v < 5000.0 ? v * 1.01 : 1.0;
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_RecordEventByName);

void BM_CounterRef(benchmark::State& state) {
  static PerfMonitor monitor;
  PerfCounter& c = monitor.GetCounter("bench_counter");
  for (auto _ : state) c.Increment();
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_CounterRef);

void BM_CounterByName(benchmark::State& state) {
  static PerfMonitor monitor;
  for (auto _ : state) monitor.IncrementCounter("generated_tokens_total");
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_CounterByName);

void BM_ScopedMeasure(benchmark::State& state) {
  static PerfMonitor monitor;
  for (auto _ : state) {
    JARVIS_MEASURE(monitor, "bench_scoped");
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ScopedMeasure);

}  // namespace
}  // namespace jarvis
