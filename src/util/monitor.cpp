// Monitor and ScopeTimer (jarvis/monitor.h) over the internal PerfMonitor.
#include "jarvis/monitor.h"

#include <chrono>
#include <utility>

#include "util/perf_monitor.h"

namespace jarvis {
namespace {

TimerStats ToTimerStats(const DistributionStats& d) {
  TimerStats t;
  t.count = d.count;
  t.failures = d.failures;
  t.success_rate = d.success_rate;
  t.total_ms = d.sum;
  t.avg_ms = d.avg;
  t.min_ms = d.min;
  t.max_ms = d.max;
  t.p50_ms = d.p50;
  t.p95_ms = d.p95;
  t.p99_ms = d.p99;
  return t;
}

MetricType ToMetricType(MetricKind kind) {
  switch (kind) {
    case MetricKind::kTimer: return MetricType::kTimer;
    case MetricKind::kHistogram: return MetricType::kHistogram;
    case MetricKind::kCounter: return MetricType::kCounter;
    case MetricKind::kGauge: return MetricType::kGauge;
  }
  return MetricType::kCounter;
}

int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

Monitor::Monitor() : impl_(std::make_shared<PerfMonitor>()) {}
Monitor::Monitor(std::shared_ptr<PerfMonitor> impl) : impl_(std::move(impl)) {}
Monitor::~Monitor() = default;
Monitor::Monitor(const Monitor&) = default;
Monitor& Monitor::operator=(const Monitor&) = default;
// A moved-from handle keeps sharing the registry (a handle is never empty).
Monitor::Monitor(Monitor&& other) noexcept : impl_(other.impl_) {}
Monitor& Monitor::operator=(Monitor&& other) noexcept {
  impl_ = other.impl_;
  return *this;
}

void Monitor::RecordEvent(std::string_view name, double ms, bool success) { impl_->RecordEvent(name, ms, success); }
void Monitor::IncrementCounter(std::string_view name, int64_t by) { impl_->IncrementCounter(name, by); }
void Monitor::SetGauge(std::string_view name, double value) { impl_->SetGauge(name, value); }
int64_t Monitor::CounterValue(std::string_view name) const { return impl_->CounterValue(name); }

std::optional<TimerStats> Monitor::GetStats(std::string_view name) const {
  std::optional<MetricSnapshot> s = impl_->GetStats(name);
  if (!s) return std::nullopt;
  return ToTimerStats(s->lifetime);
}

std::vector<MetricStats> Monitor::GetAllStats() const {
  std::vector<MetricStats> out;
  for (const MetricSnapshot& s : impl_->GetAllStats()) {
    MetricStats m;
    m.name = s.name;
    m.labels = s.labels;
    m.type = ToMetricType(s.kind);
    m.lifetime = ToTimerStats(s.lifetime);
    m.window = ToTimerStats(s.window);
    m.value = s.value;
    out.push_back(std::move(m));
  }
  return out;
}

ScopeTimer::ScopeTimer(Monitor monitor, std::string name)
    : monitor_(std::move(monitor)), name_(std::move(name)), start_ns_(NowNs()) {}

ScopeTimer::~ScopeTimer() { Stop(); }

double ScopeTimer::Stop() {
  if (!stopped_) {
    stopped_ = true;
    elapsed_ms_ = static_cast<double>(NowNs() - start_ns_) / 1e6;
    monitor_.RecordEvent(name_, elapsed_ms_, success_);
  }
  return elapsed_ms_;
}

}  // namespace jarvis
