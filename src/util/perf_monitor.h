// PerfMonitor: a registry of named timers, histograms, counters and gauges,
// cheap enough to record on every token.
//
// Metrics are created on first use and live as long as the monitor, so a
// caller may look one up once (GetTimer, GetCounter, ...) and keep the
// reference: recording through it costs no lookup (tens of ns: one uncontended
// mutex for a distribution, one relaxed atomic for a counter or gauge). The
// by-name helpers (RecordEvent, IncrementCounter, SetGauge) add one hash
// lookup under a shared lock. A metric is identified by its name plus optional
// labels (e.g. {"model", "stories260K"}); names should be unique across kinds.
//
// Distributions (timers in milliseconds, histograms in any unit) keep:
//   - lifetime: count, failures, sum, min, max (exact) and a log-linear bucket
//     histogram for percentiles;
//   - a sliding window (default 5 min) of the same, split into `window_slots`
//     slots (default 10): a sample expires with its slot, so the window covers
//     between (slots-1)/slots and all of `window` (4.5 to 5 min by default);
//   - cumulative counts for fixed Prometheus bucket bounds (exact, lifetime).
// Percentile error: values in [2^-10, 2^22) (about 0.001 to 4.2 million units)
// fall into buckets 1/32 of a power of two wide; the estimate interpolates
// linearly inside the bucket holding the rank and is clamped to [min, max],
// so its relative error is at most 1/32 (3.125%) of the true value (far less
// for smooth distributions). Values outside that range clamp to the end
// buckets (min and max stay exact).
//
// Thread safety: every method may be called from any thread.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "jarvis/status.h"  // JARVIS_CONCAT_

namespace jarvis {

using MetricLabels = std::vector<std::pair<std::string, std::string>>;
using SteadyClockFn = std::function<std::chrono::steady_clock::time_point()>;

enum class MetricKind { kTimer, kHistogram, kCounter, kGauge };
const char* MetricKindName(MetricKind kind);

// Summary of a set of samples. Fields are 0 when count == 0 (success_rate 1).
struct DistributionStats {
  uint64_t count = 0;
  uint64_t failures = 0;
  double success_rate = 1.0;  // (count - failures) / count
  double sum = 0.0;
  double avg = 0.0;
  double min = 0.0;
  double max = 0.0;
  double p50 = 0.0;
  double p95 = 0.0;
  double p99 = 0.0;
};

// Bucket geometry of the percentile histograms (exposed for tests and docs).
struct LogLinearBuckets {
  static constexpr int kSubBits = 5;
  static constexpr int kSub = 1 << kSubBits;  // buckets per power of two
  static constexpr int kMinExp = -10;
  static constexpr int kMaxExp = 22;
  static constexpr int kCount = (kMaxExp - kMinExp) * kSub;
  // Index of the bucket holding `value` (clamped to the first/last bucket).
  static int Index(double value);
  static double Lower(int index);
  static double Upper(int index);
};

// A timer or histogram. Obtain from PerfMonitor; never destroyed before it.
class PerfDistribution {
 public:
  PerfDistribution(const SteadyClockFn* clock, std::chrono::steady_clock::time_point origin,
                   std::chrono::nanoseconds slot, int slots, std::vector<double> prom_bounds);
  PerfDistribution(const PerfDistribution&) = delete;
  PerfDistribution& operator=(const PerfDistribution&) = delete;

  void Record(double value, bool success = true);
  // Records the ms elapsed since `start` (one clock read); returns them.
  double RecordElapsed(std::chrono::steady_clock::time_point start, bool success = true);

  DistributionStats Lifetime() const;
  DistributionStats Window() const;
  // Prometheus view: upper bounds (ascending, +Inf implied) and, for each,
  // the count of samples <= it; then the total count and sum.
  const std::vector<double>& prom_bounds() const { return prom_bounds_; }
  struct PromSnapshot {
    std::vector<uint64_t> cumulative;  // one per bound
    uint64_t count = 0;
    double sum = 0.0;
  };
  PromSnapshot Prometheus() const;

 private:
  template <typename CountT>
  struct Hist {
    uint64_t count = 0;
    uint64_t failures = 0;
    double sum = 0.0;
    double min = 0.0;
    double max = 0.0;
    std::array<CountT, LogLinearBuckets::kCount> buckets{};
    void Add(int index, double value, bool success);
  };
  struct Slot {
    int64_t epoch = -1;
    Hist<uint32_t> hist;
  };
  std::chrono::steady_clock::time_point Now() const;
  void RecordAt(double value, bool success, std::chrono::steady_clock::time_point now);
  template <typename CountT>
  static DistributionStats Summarize(const Hist<CountT>& h);

  const SteadyClockFn* clock_;  // owned by the monitor; empty: steady_clock
  const std::chrono::steady_clock::time_point origin_;
  const int64_t slot_ns_;
  const std::vector<double> prom_bounds_;

  mutable std::mutex mu_;
  Hist<uint64_t> lifetime_;         // guarded by mu_
  std::vector<Slot> slots_;         // guarded by mu_; ring indexed by epoch % size
  std::vector<uint64_t> prom_counts_;  // guarded by mu_; per bound + one for +Inf (not cumulative)
};

class PerfCounter {
 public:
  void Increment(int64_t by = 1) { value_.fetch_add(by, std::memory_order_relaxed); }
  int64_t value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<int64_t> value_{0};
};

class PerfGauge {
 public:
  void Set(double v) { value_.store(v, std::memory_order_relaxed); }
  void Add(double delta);
  double value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0.0};
};

// One metric's identity and current values, for GetAllStats and exporters.
struct MetricSnapshot {
  std::string name;
  MetricLabels labels;
  MetricKind kind = MetricKind::kCounter;
  std::string help;
  // Distributions:
  DistributionStats lifetime;
  DistributionStats window;
  std::vector<double> prom_bounds;
  PerfDistribution::PromSnapshot prom;
  // Counters and gauges:
  double value = 0.0;
};

class PerfMonitor {
 public:
  struct Options {
    std::chrono::seconds window{300};
    int window_slots = 10;
    SteadyClockFn clock;  // empty: std::chrono::steady_clock::now (tests inject one)
  };
  // Prometheus bucket bounds of timers, in ms (exported in seconds).
  static const std::vector<double>& DefaultTimerBoundsMs();

  PerfMonitor();
  explicit PerfMonitor(Options options);
  ~PerfMonitor();
  PerfMonitor(const PerfMonitor&) = delete;
  PerfMonitor& operator=(const PerfMonitor&) = delete;

  // Registry. The returned reference is valid for the monitor's lifetime.
  // `prom_bounds` of a histogram apply when it is created (default: powers of 2 up to 2^16).
  PerfDistribution& GetTimer(std::string_view name, const MetricLabels& labels = {});
  PerfDistribution& GetHistogram(std::string_view name, const MetricLabels& labels = {},
                                 std::vector<double> prom_bounds = {});
  PerfCounter& GetCounter(std::string_view name, const MetricLabels& labels = {});
  PerfGauge& GetGauge(std::string_view name, const MetricLabels& labels = {});
  // Optional HELP text for exporters (per name).
  void SetHelp(std::string_view name, std::string help);

  // By-name helpers (unlabeled metrics).
  void RecordEvent(std::string_view name, double value_ms, bool success = true);
  void IncrementCounter(std::string_view name, int64_t by = 1);
  void SetGauge(std::string_view name, double value);
  int64_t CounterValue(std::string_view name, const MetricLabels& labels = {}) const;  // 0 if absent

  // Stats of an unlabeled timer or histogram; nullopt if never created.
  std::optional<MetricSnapshot> GetStats(std::string_view name, const MetricLabels& labels = {}) const;
  // Every metric, sorted by (name, labels).
  std::vector<MetricSnapshot> GetAllStats() const;

 private:
  struct Entry {
    std::string name;
    MetricLabels labels;
    MetricKind kind;
    std::unique_ptr<PerfDistribution> dist;
    std::unique_ptr<PerfCounter> counter;
    std::unique_ptr<PerfGauge> gauge;
  };
  struct StringHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  const Entry* Find(std::string_view key) const;
  Entry& FindOrCreate(std::string_view name, const MetricLabels& labels, MetricKind kind,
                      std::vector<double> prom_bounds);
  MetricSnapshot SnapshotOf(const Entry& e) const;

  const Options options_;
  const std::chrono::steady_clock::time_point origin_;
  mutable std::shared_mutex mu_;
  // Key: kind letter + name + rendered labels. Entries never move or die.
  std::unordered_map<std::string, std::unique_ptr<Entry>, StringHash, std::equal_to<>> entries_;
  std::map<std::string, std::string, std::less<>> help_;
};

// Records the time from construction to destruction (or Stop()) in a timer,
// as a success unless MarkFailed() was called.
class ScopedTimer {
 public:
  ScopedTimer(PerfMonitor& monitor, std::string_view name) : ScopedTimer(monitor.GetTimer(name)) {}
  explicit ScopedTimer(PerfDistribution& timer)
      : timer_(&timer), start_(std::chrono::steady_clock::now()) {}
  ~ScopedTimer() { Stop(); }
  ScopedTimer(const ScopedTimer&) = delete;
  ScopedTimer& operator=(const ScopedTimer&) = delete;

  void MarkFailed() { success_ = false; }
  // Records now (once; later calls return the same value); returns the elapsed ms.
  double Stop();

 private:
  PerfDistribution* timer_;
  std::chrono::steady_clock::time_point start_;
  bool success_ = true;
  bool stopped_ = false;
  double elapsed_ms_ = 0.0;
};

// JARVIS_MEASURE(monitor, "name"): times the rest of the enclosing scope.
#define JARVIS_MEASURE(monitor, name) \
  ::jarvis::ScopedTimer JARVIS_CONCAT_(jarvis_measure_, __LINE__)((monitor), (name))

// Renders labels as Prometheus does: key="value",... (sorted by key, escaped).
std::string RenderLabels(const MetricLabels& labels);

}  // namespace jarvis
