#include "util/prometheus_writer.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>

namespace jarvis {
namespace {

size_t Count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

TEST(PrometheusWriterTest, CounterAndGauge) {
  PrometheusWriter w;
  w.Family("jobs_total", PrometheusType::kCounter, "Jobs done.");
  w.Sample("jobs_total", {{"queue", "a"}}, 3);
  w.Sample("jobs_total", {{"queue", "b"}, {"kind", "x"}}, 0.25);
  w.Family("temperature", PrometheusType::kGauge, "Degrees.");
  w.Sample("temperature", {}, -1.5);
  EXPECT_EQ(w.Text(),
            "# HELP jobs_total Jobs done.\n"
            "# TYPE jobs_total counter\n"
            "jobs_total{queue=\"a\"} 3\n"
            "jobs_total{queue=\"b\",kind=\"x\"} 0.25\n"
            "# HELP temperature Degrees.\n"
            "# TYPE temperature gauge\n"
            "temperature -1.5\n");
}

TEST(PrometheusWriterTest, LabelValuesAndHelpAreEscaped) {
  EXPECT_EQ(PrometheusLabelText({{"model", "a\"b\\c\nd"}}), "model=\"a\\\"b\\\\c\\nd\"");
  EXPECT_EQ(PrometheusLabelText({}), "");
  PrometheusWriter w;
  w.Family("m", PrometheusType::kGauge, "two\nlines \\ and \"quotes\"");
  w.Sample("m", {{"path", "C:\\x \"y\""}}, 1);
  // HELP escapes backslash and newline (quotes stay); label values escape all three.
  EXPECT_EQ(w.Text(),
            "# HELP m two\\nlines \\\\ and \"quotes\"\n"
            "# TYPE m gauge\n"
            "m{path=\"C:\\\\x \\\"y\\\"\"} 1\n");
}

// A family declared again later, with samples added in between others',
// still appears once, with all its samples together.
TEST(PrometheusWriterTest, FamilyEmittedOnceWithItsSamplesTogether) {
  PrometheusWriter w;
  w.Family("a", PrometheusType::kGauge, "First.");
  w.Sample("a", {{"i", "1"}}, 1);
  w.Family("b", PrometheusType::kCounter, "Second.");
  w.Sample("b", {}, 2);
  w.Family("a", PrometheusType::kCounter, "Ignored: the first declaration wins.");
  w.Sample("a", {{"i", "2"}}, 3);
  const std::string text = w.Text();
  EXPECT_EQ(Count(text, "# HELP a "), 1u) << text;
  EXPECT_EQ(Count(text, "# TYPE a "), 1u) << text;
  EXPECT_EQ(text,
            "# HELP a First.\n# TYPE a gauge\na{i=\"1\"} 1\na{i=\"2\"} 3\n"
            "# HELP b Second.\n# TYPE b counter\nb 2\n");
}

TEST(PrometheusWriterTest, UndeclaredFamilyIsUntyped) {
  PrometheusWriter w;
  w.Sample("loose", {}, 7);
  EXPECT_EQ(w.Text(), "# TYPE loose untyped\nloose 7\n");
}

TEST(PrometheusWriterTest, Histogram) {
  PrometheusWriter w;
  w.Family("latency_seconds", PrometheusType::kHistogram, "Latency.");
  const double bounds[] = {0.1, 1};
  const uint64_t cumulative[] = {2, 5};
  w.Histogram("latency_seconds", {{"model", "m"}}, bounds, cumulative, 6, 4.5);
  EXPECT_EQ(w.Text(),
            "# HELP latency_seconds Latency.\n"
            "# TYPE latency_seconds histogram\n"
            "latency_seconds_bucket{model=\"m\",le=\"0.1\"} 2\n"
            "latency_seconds_bucket{model=\"m\",le=\"1\"} 5\n"
            "latency_seconds_bucket{model=\"m\",le=\"+Inf\"} 6\n"
            "latency_seconds_sum{model=\"m\"} 4.5\n"
            "latency_seconds_count{model=\"m\"} 6\n");
}

TEST(PrometheusWriterTest, Summary) {
  PrometheusWriter w;
  w.Family("rpc_seconds", PrometheusType::kSummary, "RPC time.");
  const std::pair<double, double> q[] = {{0.5, 0.01}, {0.99, 0.2}};
  w.Summary("rpc_seconds", {}, q, 10, 0.5);
  EXPECT_EQ(w.Text(),
            "# HELP rpc_seconds RPC time.\n"
            "# TYPE rpc_seconds summary\n"
            "rpc_seconds{quantile=\"0.5\"} 0.01\n"
            "rpc_seconds{quantile=\"0.99\"} 0.2\n"
            "rpc_seconds_sum 0.5\n"
            "rpc_seconds_count 10\n");
}

TEST(PrometheusWriterTest, SpecialNumbers) {
  EXPECT_EQ(PrometheusNumber(std::numeric_limits<double>::infinity()), "+Inf");
  EXPECT_EQ(PrometheusNumber(-std::numeric_limits<double>::infinity()), "-Inf");
  EXPECT_EQ(PrometheusNumber(std::nan("")), "NaN");
  EXPECT_EQ(PrometheusNumber(42), "42");
  EXPECT_EQ(PrometheusNumber(0.001), "0.001");
}

}  // namespace
}  // namespace jarvis
