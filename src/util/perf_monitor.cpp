#include "util/perf_monitor.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>

#include "util/prometheus_writer.h"

namespace jarvis {
namespace {

constexpr double kMinValue = 1.0 / (1 << -LogLinearBuckets::kMinExp);         // 2^-10
constexpr double kMaxValue = static_cast<double>(1u << LogLinearBuckets::kMaxExp);  // 2^22

// Value at fraction q (0..1) of `total` samples in `buckets`, interpolated
// linearly inside the bucket holding that rank, clamped to [lo, hi].
template <typename Array>
double Quantile(const Array& buckets, uint64_t total, double q, double lo, double hi) {
  if (total == 0) return 0.0;
  const double target = std::max(1.0, q * static_cast<double>(total));
  double cum = 0.0;
  for (int i = 0; i < LogLinearBuckets::kCount; ++i) {
    const double c = static_cast<double>(buckets[static_cast<size_t>(i)]);
    if (c == 0.0) continue;
    if (cum + c >= target) {
      const double frac = (target - cum) / c;
      const double lower = LogLinearBuckets::Lower(i);
      const double v = lower + frac * (LogLinearBuckets::Upper(i) - lower);
      return std::clamp(v, lo, hi);
    }
    cum += c;
  }
  return hi;
}

MetricLabels Sorted(MetricLabels labels) {
  std::sort(labels.begin(), labels.end());
  return labels;
}

char KindLetter(MetricKind kind) {
  switch (kind) {
    case MetricKind::kTimer: return 't';
    case MetricKind::kHistogram: return 'h';
    case MetricKind::kCounter: return 'c';
    case MetricKind::kGauge: return 'g';
  }
  return '?';
}

std::string MakeKey(MetricKind kind, std::string_view name, const MetricLabels& sorted_labels) {
  std::string key;
  key.reserve(name.size() + 2);
  key += KindLetter(kind);
  key += name;
  if (!sorted_labels.empty()) {
    key += '{';
    key += RenderLabels(sorted_labels);
    key += '}';
  }
  return key;
}

std::vector<double> DefaultHistogramBounds() {
  std::vector<double> b;
  for (int i = 0; i <= 16; ++i) b.push_back(static_cast<double>(1u << i));
  return b;
}

}  // namespace

const char* MetricKindName(MetricKind kind) {
  switch (kind) {
    case MetricKind::kTimer: return "timer";
    case MetricKind::kHistogram: return "histogram";
    case MetricKind::kCounter: return "counter";
    case MetricKind::kGauge: return "gauge";
  }
  return "unknown";
}

std::string RenderLabels(const MetricLabels& labels) { return PrometheusLabelText(labels); }

// ---- bucket geometry ----------------------------------------------------

int LogLinearBuckets::Index(double value) {
  if (!(value >= kMinValue)) return 0;  // also NaN, zero and negatives
  if (value >= kMaxValue) return kCount - 1;
  // The IEEE-754 exponent picks the power of two; the top kSubBits bits of
  // the mantissa pick the linear sub-bucket inside it.
  const uint64_t bits = std::bit_cast<uint64_t>(value);
  const int exp = static_cast<int>((bits >> 52) & 0x7ff) - 1023;
  const int sub = static_cast<int>((bits >> (52 - kSubBits)) & (kSub - 1));
  return (exp - kMinExp) * kSub + sub;
}

double LogLinearBuckets::Lower(int index) {
  return std::ldexp(1.0 + static_cast<double>(index % kSub) / kSub, index / kSub + kMinExp);
}

double LogLinearBuckets::Upper(int index) {
  return std::ldexp(1.0 + static_cast<double>(index % kSub + 1) / kSub, index / kSub + kMinExp);
}

// ---- PerfDistribution ---------------------------------------------------

template <typename CountT>
void PerfDistribution::Hist<CountT>::Add(int index, double value, bool success) {
  if (count == 0 || value < min) min = value;
  if (count == 0 || value > max) max = value;
  ++count;
  if (!success) ++failures;
  sum += value;
  ++buckets[static_cast<size_t>(index)];
}

PerfDistribution::PerfDistribution(const SteadyClockFn* clock, std::chrono::steady_clock::time_point origin,
                                   std::chrono::nanoseconds slot, int slots, std::vector<double> prom_bounds)
    : clock_(clock),
      origin_(origin),
      slot_ns_(std::max<int64_t>(1, slot.count())),
      prom_bounds_(std::move(prom_bounds)),
      slots_(static_cast<size_t>(std::max(1, slots))),
      prom_counts_(prom_bounds_.size() + 1, 0) {}

std::chrono::steady_clock::time_point PerfDistribution::Now() const {
  return (clock_ != nullptr && *clock_) ? (*clock_)() : std::chrono::steady_clock::now();
}

void PerfDistribution::Record(double value, bool success) { RecordAt(value, success, Now()); }

double PerfDistribution::RecordElapsed(std::chrono::steady_clock::time_point start, bool success) {
  const auto real_now = std::chrono::steady_clock::now();
  const double ms = std::chrono::duration<double, std::milli>(real_now - start).count();
  RecordAt(ms, success, (clock_ != nullptr && *clock_) ? (*clock_)() : real_now);
  return ms;
}

void PerfDistribution::RecordAt(double value, bool success, std::chrono::steady_clock::time_point now) {
  const int index = LogLinearBuckets::Index(value);
  const size_t prom = static_cast<size_t>(
      std::lower_bound(prom_bounds_.begin(), prom_bounds_.end(), value) - prom_bounds_.begin());
  const int64_t epoch = std::max<int64_t>(0, (now - origin_).count() / slot_ns_);
  Slot& slot = slots_[static_cast<size_t>(epoch) % slots_.size()];
  std::lock_guard<std::mutex> lock(mu_);
  lifetime_.Add(index, value, success);
  ++prom_counts_[prom];
  if (slot.epoch > epoch) return;  // a straggler older than the whole window
  if (slot.epoch != epoch) {        // the slot's samples have left the window
    slot.hist = Hist<uint32_t>{};
    slot.epoch = epoch;
  }
  slot.hist.Add(index, value, success);
}

template <typename CountT>
DistributionStats PerfDistribution::Summarize(const Hist<CountT>& h) {
  DistributionStats s;
  s.count = h.count;
  if (h.count == 0) return s;
  s.failures = h.failures;
  s.success_rate = static_cast<double>(h.count - h.failures) / static_cast<double>(h.count);
  s.sum = h.sum;
  s.avg = h.sum / static_cast<double>(h.count);
  s.min = h.min;
  s.max = h.max;
  s.p50 = Quantile(h.buckets, h.count, 0.50, h.min, h.max);
  s.p95 = Quantile(h.buckets, h.count, 0.95, h.min, h.max);
  s.p99 = Quantile(h.buckets, h.count, 0.99, h.min, h.max);
  return s;
}

DistributionStats PerfDistribution::Lifetime() const {
  std::lock_guard<std::mutex> lock(mu_);
  return Summarize(lifetime_);
}

DistributionStats PerfDistribution::Window() const {
  const int64_t now_epoch = (Now() - origin_).count() / slot_ns_;
  const int64_t oldest = now_epoch - static_cast<int64_t>(slots_.size()) + 1;
  auto merged = std::make_unique<Hist<uint64_t>>();
  std::lock_guard<std::mutex> lock(mu_);
  for (const Slot& slot : slots_) {
    if (slot.epoch < oldest || slot.epoch > now_epoch || slot.hist.count == 0) continue;
    const auto& h = slot.hist;
    if (merged->count == 0 || h.min < merged->min) merged->min = h.min;
    if (merged->count == 0 || h.max > merged->max) merged->max = h.max;
    merged->count += h.count;
    merged->failures += h.failures;
    merged->sum += h.sum;
    for (size_t i = 0; i < h.buckets.size(); ++i) merged->buckets[i] += h.buckets[i];
  }
  return Summarize(*merged);
}

PerfDistribution::PromSnapshot PerfDistribution::Prometheus() const {
  PromSnapshot p;
  std::lock_guard<std::mutex> lock(mu_);
  uint64_t cum = 0;
  for (size_t i = 0; i < prom_bounds_.size(); ++i) {
    cum += prom_counts_[i];
    p.cumulative.push_back(cum);
  }
  p.count = lifetime_.count;
  p.sum = lifetime_.sum;
  return p;
}

void PerfGauge::Add(double delta) {
  double cur = value_.load(std::memory_order_relaxed);
  while (!value_.compare_exchange_weak(cur, cur + delta, std::memory_order_relaxed)) {
  }
}

double ScopedTimer::Stop() {
  if (stopped_) return elapsed_ms_;
  stopped_ = true;
  elapsed_ms_ = timer_->RecordElapsed(start_, success_);
  return elapsed_ms_;
}

// ---- PerfMonitor --------------------------------------------------------

const std::vector<double>& PerfMonitor::DefaultTimerBoundsMs() {
  static const std::vector<double> bounds = {1,    2.5,  5,    10,    25,    50,    100,   250,
                                             500,  1000, 2500, 5000,  10000, 30000, 60000, 120000};
  return bounds;
}

PerfMonitor::PerfMonitor() : PerfMonitor(Options{}) {}

PerfMonitor::PerfMonitor(Options options)
    : options_(std::move(options)),
      origin_(options_.clock ? options_.clock() : std::chrono::steady_clock::now()) {}

PerfMonitor::~PerfMonitor() = default;

const PerfMonitor::Entry* PerfMonitor::Find(std::string_view key) const {
  std::shared_lock<std::shared_mutex> lock(mu_);
  auto it = entries_.find(key);
  return it == entries_.end() ? nullptr : it->second.get();
}

PerfMonitor::Entry& PerfMonitor::FindOrCreate(std::string_view name, const MetricLabels& labels, MetricKind kind,
                                              std::vector<double> prom_bounds) {
  if (labels.empty()) {  // fast path: look up without allocating
    char buf[128];
    if (name.size() + 1 <= sizeof(buf)) {
      buf[0] = KindLetter(kind);
      std::memcpy(buf + 1, name.data(), name.size());
      if (const Entry* e = Find(std::string_view(buf, name.size() + 1))) return const_cast<Entry&>(*e);
    }
  }
  MetricLabels sorted = Sorted(labels);
  const std::string key = MakeKey(kind, name, sorted);
  if (const Entry* e = Find(key)) return const_cast<Entry&>(*e);
  std::unique_lock<std::shared_mutex> lock(mu_);
  auto& slot = entries_[key];
  if (slot) return *slot;  // another thread created it meanwhile
  auto e = std::make_unique<Entry>();
  e->name = std::string(name);
  e->labels = std::move(sorted);
  e->kind = kind;
  switch (kind) {
    case MetricKind::kTimer:
    case MetricKind::kHistogram: {
      if (prom_bounds.empty()) {
        prom_bounds = kind == MetricKind::kTimer ? DefaultTimerBoundsMs() : DefaultHistogramBounds();
      }
      std::sort(prom_bounds.begin(), prom_bounds.end());
      const auto slot_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(options_.window) /
                           std::max(1, options_.window_slots);
      e->dist = std::make_unique<PerfDistribution>(&options_.clock, origin_, slot_ns, options_.window_slots,
                                                   std::move(prom_bounds));
      break;
    }
    case MetricKind::kCounter: e->counter = std::make_unique<PerfCounter>(); break;
    case MetricKind::kGauge: e->gauge = std::make_unique<PerfGauge>(); break;
  }
  slot = std::move(e);
  return *slot;
}

PerfDistribution& PerfMonitor::GetTimer(std::string_view name, const MetricLabels& labels) {
  return *FindOrCreate(name, labels, MetricKind::kTimer, {}).dist;
}

PerfDistribution& PerfMonitor::GetHistogram(std::string_view name, const MetricLabels& labels,
                                            std::vector<double> prom_bounds) {
  return *FindOrCreate(name, labels, MetricKind::kHistogram, std::move(prom_bounds)).dist;
}

PerfCounter& PerfMonitor::GetCounter(std::string_view name, const MetricLabels& labels) {
  return *FindOrCreate(name, labels, MetricKind::kCounter, {}).counter;
}

PerfGauge& PerfMonitor::GetGauge(std::string_view name, const MetricLabels& labels) {
  return *FindOrCreate(name, labels, MetricKind::kGauge, {}).gauge;
}

void PerfMonitor::SetHelp(std::string_view name, std::string help) {
  std::unique_lock<std::shared_mutex> lock(mu_);
  help_[std::string(name)] = std::move(help);
}

void PerfMonitor::RecordEvent(std::string_view name, double value_ms, bool success) {
  GetTimer(name).Record(value_ms, success);
}

void PerfMonitor::IncrementCounter(std::string_view name, int64_t by) { GetCounter(name).Increment(by); }

void PerfMonitor::SetGauge(std::string_view name, double value) { GetGauge(name).Set(value); }

int64_t PerfMonitor::CounterValue(std::string_view name, const MetricLabels& labels) const {
  const Entry* e = Find(MakeKey(MetricKind::kCounter, name, Sorted(labels)));
  return e == nullptr ? 0 : e->counter->value();
}

MetricSnapshot PerfMonitor::SnapshotOf(const Entry& e) const {
  MetricSnapshot s;
  s.name = e.name;
  s.labels = e.labels;
  s.kind = e.kind;
  if (e.dist) {
    s.lifetime = e.dist->Lifetime();
    s.window = e.dist->Window();
    s.prom_bounds = e.dist->prom_bounds();
    s.prom = e.dist->Prometheus();
  } else if (e.counter) {
    s.value = static_cast<double>(e.counter->value());
  } else if (e.gauge) {
    s.value = e.gauge->value();
  }
  return s;
}

std::optional<MetricSnapshot> PerfMonitor::GetStats(std::string_view name, const MetricLabels& labels) const {
  const MetricLabels sorted = Sorted(labels);
  for (MetricKind kind : {MetricKind::kTimer, MetricKind::kHistogram}) {
    if (const Entry* e = Find(MakeKey(kind, name, sorted))) {
      MetricSnapshot s = SnapshotOf(*e);
      std::shared_lock<std::shared_mutex> lock(mu_);
      auto h = help_.find(name);
      if (h != help_.end()) s.help = h->second;
      return s;
    }
  }
  return std::nullopt;
}

std::vector<MetricSnapshot> PerfMonitor::GetAllStats() const {
  std::vector<const Entry*> all;
  std::map<std::string, std::string, std::less<>> help;
  {
    std::shared_lock<std::shared_mutex> lock(mu_);
    all.reserve(entries_.size());
    for (const auto& [key, e] : entries_) all.push_back(e.get());
    help = help_;
  }
  std::sort(all.begin(), all.end(), [](const Entry* a, const Entry* b) {
    return std::tie(a->name, a->labels) < std::tie(b->name, b->labels);
  });
  std::vector<MetricSnapshot> out;
  out.reserve(all.size());
  for (const Entry* e : all) {
    out.push_back(SnapshotOf(*e));
    auto h = help.find(e->name);
    if (h != help.end()) out.back().help = h->second;
  }
  return out;
}

}  // namespace jarvis
