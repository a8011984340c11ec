// Monitor: the performance monitor, a registry of named timers (milliseconds),
// counters and gauges. The runtime records its own metrics into it
// (llm_inference, time_to_first_token, queue_wait, scheduler_step, the
// llm_requests_* counters, ...; docs/API.md lists them), and a program may
// record its own next to them: what the HTTP server shows on
// /api/performance/stats and /metrics is this registry.
//
//   jarvis::Monitor monitor;                      // or runtime.monitor()
//   monitor.RecordEvent("ui_render", 12.5);
//   monitor.IncrementCounter("clicks");
//   { jarvis::ScopeTimer t(monitor, "handler"); ... }   // timed scope
//   std::optional<jarvis::TimerStats> s = monitor.GetStats("handler");
//
// A Monitor is a handle: copies share one registry, which lives as long as
// any copy does. Metrics are created on first use. Percentiles come from a
// log-linear histogram (relative error at most 1/32); count, min, max and
// the average are exact.
//
// Thread safety: every method may be called from any thread, on the same or
// on different handles.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace jarvis {

class PerfMonitor;  // the implementation (internal)

// Summary of a timer's samples, in milliseconds. All 0 when count == 0
// (success_rate 1).
struct TimerStats {
  uint64_t count = 0;
  uint64_t failures = 0;
  double success_rate = 1.0;  // (count - failures) / count
  double total_ms = 0.0;
  double avg_ms = 0.0;
  double min_ms = 0.0;
  double max_ms = 0.0;
  double p50_ms = 0.0;
  double p95_ms = 0.0;
  double p99_ms = 0.0;
};

enum class MetricType { kTimer, kHistogram, kCounter, kGauge };

// One metric of GetAllStats().
struct MetricStats {
  std::string name;
  std::vector<std::pair<std::string, std::string>> labels;  // e.g. {"model", "stories260K"}
  MetricType type = MetricType::kCounter;
  // Timers and histograms (a histogram's unit is its own, not ms):
  TimerStats lifetime;  // since the monitor was created
  TimerStats window;    // the last 5 minutes (4.5 to 5 min: slotted window)
  // Counters and gauges:
  double value = 0.0;
};

class Monitor {
 public:
  // A new, empty registry.
  Monitor();
  ~Monitor();
  Monitor(const Monitor&);             // shares the registry
  Monitor& operator=(const Monitor&);  // shares the registry
  Monitor(Monitor&&) noexcept;
  Monitor& operator=(Monitor&&) noexcept;

  // Records one sample of the timer `name` (created on first use).
  void RecordEvent(std::string_view name, double ms, bool success = true);
  // Adds `by` to the counter `name` (created on first use).
  void IncrementCounter(std::string_view name, int64_t by = 1);
  // Sets the gauge `name` (created on first use).
  void SetGauge(std::string_view name, double value);
  // The counter's value; 0 when it does not exist.
  int64_t CounterValue(std::string_view name) const;

  // Lifetime stats of the unlabeled timer `name`; nullopt when it was never
  // recorded into.
  std::optional<TimerStats> GetStats(std::string_view name) const;
  // Every metric (the runtime's per-model ones carry a "model" label),
  // sorted by name, then labels.
  std::vector<MetricStats> GetAllStats() const;

  // The implementation, for the runtime inside the library. REQUIRES: valid.
  const std::shared_ptr<PerfMonitor>& impl() const { return impl_; }
  explicit Monitor(std::shared_ptr<PerfMonitor> impl);

 private:
  std::shared_ptr<PerfMonitor> impl_;
};

// Records the time from construction to destruction (or Stop()) as one
// sample of `name`, a failure if MarkFailed() was called.
// Thread safety: one ScopeTimer belongs to one thread.
class ScopeTimer {
 public:
  ScopeTimer(Monitor monitor, std::string name);
  ~ScopeTimer();
  ScopeTimer(const ScopeTimer&) = delete;
  ScopeTimer& operator=(const ScopeTimer&) = delete;

  void MarkFailed() { success_ = false; }
  // Records now (once; later calls only return the same value); returns the
  // elapsed milliseconds.
  double Stop();

 private:
  Monitor monitor_;
  std::string name_;
  int64_t start_ns_;  // steady clock
  bool success_ = true;
  bool stopped_ = false;
  double elapsed_ms_ = 0.0;
};

}  // namespace jarvis
