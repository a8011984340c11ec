// PrometheusWriter: renders metrics in the Prometheus text exposition format
// (version 0.0.4), the body of GET /metrics. Every producer of /metrics text
// (the service's model and cache metrics, the HTTP server's counters) writes
// through it, so the format rules are kept in one place:
//   - each family's `# HELP` and `# TYPE` lines appear once, and all its
//     samples follow them together (Prometheus rejects a family split in
//     two), whatever order the caller adds them in;
//   - label values are escaped (\\, \", \n);
//   - numbers: +Inf, -Inf, NaN spelled as Prometheus parses them.
//
// Thread safety: a plain value; one thread writes one document.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace jarvis {

// key -> value, in the order given (the same type as MetricLabels).
using PrometheusLabels = std::vector<std::pair<std::string, std::string>>;

enum class PrometheusType { kCounter, kGauge, kSummary, kHistogram, kUntyped };

// "counter", "gauge", "summary", "histogram", "untyped".
const char* PrometheusTypeName(PrometheusType type);

// key="value",... with the values escaped; "" for no labels.
std::string PrometheusLabelText(const PrometheusLabels& labels);

// A sample value as Prometheus writes it: "3", "0.25", "+Inf", "-Inf", "NaN".
std::string PrometheusNumber(double value);

class PrometheusWriter {
 public:
  // Declares a family. The first declaration of a name wins; a later one
  // (same name) adds nothing, so callers may declare inside loops.
  void Family(std::string_view name, PrometheusType type, std::string_view help);

  // One sample of family `family`, named family + suffix ("_bucket", "_sum",
  // "_count" or ""). A family never declared is written as untyped, without
  // HELP.
  void Sample(std::string_view family, const PrometheusLabels& labels, double value,
              std::string_view suffix = {});

  // One histogram series: a _bucket sample per upper bound (`cumulative[i]`
  // observations <= bounds[i]; the sizes must match), le="+Inf" = count,
  // then _sum and _count.
  void Histogram(std::string_view family, const PrometheusLabels& labels, std::span<const double> bounds,
                 std::span<const uint64_t> cumulative, uint64_t count, double sum);

  // One summary series: a sample per (quantile, value), then _sum and _count.
  void Summary(std::string_view family, const PrometheusLabels& labels,
               std::span<const std::pair<double, double>> quantiles, uint64_t count, double sum);

  // The document: families in the order they were first declared (or first
  // sampled), each with its samples in the order they were added.
  std::string Text() const;

 private:
  struct FamilyText {
    std::string name;
    std::string header;   // HELP and TYPE lines
    std::string samples;
  };
  FamilyText& Find(std::string_view name);

  std::vector<FamilyText> families_;
};

}  // namespace jarvis
