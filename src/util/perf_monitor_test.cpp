#include "util/perf_monitor.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <thread>
#include <vector>

namespace jarvis {
namespace {

using std::chrono::seconds;
using std::chrono::steady_clock;

// Exact nearest-rank percentile of a sample set (the reference).
double ExactPercentile(std::vector<double> v, double q) {
  std::sort(v.begin(), v.end());
  const size_t rank = static_cast<size_t>(std::ceil(q * static_cast<double>(v.size())));
  return v[std::max<size_t>(rank, 1) - 1];
}

TEST(LogLinearBucketsTest, EveryValueFallsInsideItsBucketAndBucketsAreNarrow) {
  for (double v = 0.001; v < 4.0e6; v *= 1.0137) {
    const int i = LogLinearBuckets::Index(v);
    ASSERT_GE(i, 0);
    ASSERT_LT(i, LogLinearBuckets::kCount);
    EXPECT_LE(LogLinearBuckets::Lower(i), v) << v;
    EXPECT_LT(v, LogLinearBuckets::Upper(i)) << v;
    EXPECT_LE(LogLinearBuckets::Upper(i) - LogLinearBuckets::Lower(i),
              LogLinearBuckets::Lower(i) / LogLinearBuckets::kSub * 1.0000001);
  }
  EXPECT_EQ(LogLinearBuckets::Index(0.0), 0);
  EXPECT_EQ(LogLinearBuckets::Index(-5.0), 0);
  EXPECT_EQ(LogLinearBuckets::Index(1e12), LogLinearBuckets::kCount - 1);
}

TEST(PerfMonitorTest, PercentilesOfUniform1To10000) {
  PerfMonitor m;
  std::vector<double> values;
  for (int i = 1; i <= 10000; ++i) values.push_back(i);
  std::mt19937 rng(7);
  std::shuffle(values.begin(), values.end(), rng);
  for (double v : values) m.RecordEvent("lat", v);
  auto s = m.GetStats("lat");
  ASSERT_TRUE(s.has_value());
  const DistributionStats& l = s->lifetime;
  EXPECT_EQ(l.count, 10000u);
  EXPECT_DOUBLE_EQ(l.min, 1.0);
  EXPECT_DOUBLE_EQ(l.max, 10000.0);
  EXPECT_DOUBLE_EQ(l.avg, 5000.5);
  EXPECT_DOUBLE_EQ(l.success_rate, 1.0);
  // Documented bound: relative error <= 1/32.
  EXPECT_NEAR(l.p50, 5000.0, 5000.0 / 32);
  EXPECT_NEAR(l.p95, 9500.0, 9500.0 / 32);
  EXPECT_NEAR(l.p99, 9900.0, 9900.0 / 32);
  // The window holds the same samples (all recorded just now).
  EXPECT_EQ(s->window.count, 10000u);
  EXPECT_DOUBLE_EQ(s->window.p50, l.p50);
}

TEST(PerfMonitorTest, PercentilesOfSkewedDistributionWithinBucketError) {
  PerfMonitor m;
  std::mt19937 rng(42);
  std::lognormal_distribution<double> dist(3.0, 1.2);  // heavy right tail, ms
  std::vector<double> values;
  for (int i = 0; i < 20000; ++i) values.push_back(dist(rng));
  for (double v : values) m.RecordEvent("skew", v);
  auto s = m.GetStats("skew");
  ASSERT_TRUE(s.has_value());
  for (auto [q, got] : {std::pair{0.50, s->lifetime.p50}, {0.95, s->lifetime.p95}, {0.99, s->lifetime.p99}}) {
    const double want = ExactPercentile(values, q);
    EXPECT_NEAR(got, want, want / 32) << "q=" << q;
  }
}

TEST(PerfMonitorTest, WindowExpiresWithInjectedClock) {
  steady_clock::time_point now{};
  PerfMonitor::Options opt;
  opt.window = seconds(300);
  opt.window_slots = 10;  // 30 s slots
  opt.clock = [&now] { return now; };
  PerfMonitor m(opt);
  auto& t = m.GetTimer("t");
  for (int i = 0; i < 100; ++i) t.Record(10.0);
  now += seconds(120);
  for (int i = 0; i < 10; ++i) t.Record(1000.0, false);
  EXPECT_EQ(t.Window().count, 110u);
  now += seconds(179);  // t = 299 s: the first slot [0, 30) is still inside
  EXPECT_EQ(t.Window().count, 110u);
  now += seconds(2);  // t = 301 s: it has left
  DistributionStats w = t.Window();
  EXPECT_EQ(w.count, 10u);
  EXPECT_DOUBLE_EQ(w.min, 1000.0);
  EXPECT_DOUBLE_EQ(w.success_rate, 0.0);
  now += seconds(130);  // t = 431 s: the second batch (t = 120 s) has left too
  EXPECT_EQ(t.Window().count, 0u);
  // The lifetime view keeps everything.
  DistributionStats l = t.Lifetime();
  EXPECT_EQ(l.count, 110u);
  EXPECT_EQ(l.failures, 10u);
  EXPECT_NEAR(l.success_rate, 100.0 / 110.0, 1e-12);
  // A slot reused after wrapping around starts empty.
  t.Record(5.0);
  EXPECT_EQ(t.Window().count, 1u);
}

TEST(PerfMonitorTest, CountersFromManyThreadsAreExact) {
  PerfMonitor m;
  constexpr int kThreads = 8, kPer = 20000;
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&m, i] {
      PerfCounter& c = m.GetCounter("by_ref");
      for (int j = 0; j < kPer; ++j) {
        c.Increment();
        m.IncrementCounter("by_name", 2);
        m.RecordEvent("timer", static_cast<double>(j % 100), j % 4 != 0);
        if (j % 1000 == 0) m.GetGauge("g", {{"thread", std::to_string(i)}}).Set(j);
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(m.CounterValue("by_ref"), int64_t{kThreads} * kPer);
  EXPECT_EQ(m.CounterValue("by_name"), int64_t{2} * kThreads * kPer);
  auto s = m.GetStats("timer");
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->lifetime.count, uint64_t{kThreads} * kPer);
  EXPECT_DOUBLE_EQ(s->lifetime.success_rate, 0.75);
  int gauges = 0;
  for (const auto& snap : m.GetAllStats()) gauges += snap.kind == MetricKind::kGauge;
  EXPECT_EQ(gauges, kThreads);
}

TEST(PerfMonitorTest, ScopedTimerAndMeasureMacroRecordSuccessAndFailure) {
  PerfMonitor m;
  {
    JARVIS_MEASURE(m, "scope");
  }
  {
    ScopedTimer t(m, "scope");
    t.MarkFailed();
  }
  {
    ScopedTimer t(m.GetTimer("scope"));
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    EXPECT_GE(t.Stop(), 5.0);
    t.Stop();  // records once
  }
  auto s = m.GetStats("scope");
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->lifetime.count, 3u);
  EXPECT_EQ(s->lifetime.failures, 1u);
  EXPECT_NEAR(s->lifetime.success_rate, 2.0 / 3.0, 1e-12);
  EXPECT_GE(s->lifetime.max, 5.0);
}

TEST(PerfMonitorTest, LabelsIdentifySeriesRegardlessOfOrder) {
  PerfMonitor m;
  PerfCounter& a = m.GetCounter("req", {{"model", "x"}, {"outcome", "ok"}});
  PerfCounter& b = m.GetCounter("req", {{"outcome", "ok"}, {"model", "x"}});
  PerfCounter& c = m.GetCounter("req", {{"model", "y"}, {"outcome", "ok"}});
  EXPECT_EQ(&a, &b);
  EXPECT_NE(&a, &c);
  a.Increment(3);
  EXPECT_EQ(m.CounterValue("req", {{"outcome", "ok"}, {"model", "x"}}), 3);
  EXPECT_EQ(m.CounterValue("req"), 0);  // unlabeled is another series
  EXPECT_EQ(RenderLabels({{"model", "a\"b\\c\nd"}}), "model=\"a\\\"b\\\\c\\nd\"");
}

TEST(PerfMonitorTest, PrometheusBucketsAreExactAndCumulative) {
  PerfMonitor m;
  PerfDistribution& h = m.GetHistogram("batch", {}, {1, 4, 16});
  for (double v : {0.5, 1.0, 2.0, 4.0, 5.0, 16.0, 17.0, 100.0}) h.Record(v);
  auto p = h.Prometheus();
  ASSERT_EQ(p.cumulative.size(), 3u);
  EXPECT_EQ(p.cumulative[0], 2u);  // <= 1 (bounds are inclusive)
  EXPECT_EQ(p.cumulative[1], 4u);  // <= 4
  EXPECT_EQ(p.cumulative[2], 6u);  // <= 16
  EXPECT_EQ(p.count, 8u);
  EXPECT_DOUBLE_EQ(p.sum, 145.5);
  EXPECT_EQ(m.GetTimer("t").prom_bounds(), PerfMonitor::DefaultTimerBoundsMs());
}

TEST(PerfMonitorTest, EmptyAndMissingStats) {
  PerfMonitor m;
  EXPECT_FALSE(m.GetStats("nope").has_value());
  m.GetTimer("empty");
  auto s = m.GetStats("empty");
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->lifetime.count, 0u);
  EXPECT_DOUBLE_EQ(s->lifetime.success_rate, 1.0);
  EXPECT_DOUBLE_EQ(s->lifetime.p99, 0.0);
  m.SetGauge("g", 2.5);
  m.GetGauge("g").Add(-1.0);
  EXPECT_DOUBLE_EQ(m.GetGauge("g").value(), 1.5);
  m.SetHelp("empty", "An empty timer.");
  EXPECT_EQ(m.GetStats("empty")->help, "An empty timer.");
}

}  // namespace
}  // namespace jarvis
