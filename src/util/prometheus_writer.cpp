#include "util/prometheus_writer.h"

#include <cmath>

#include <fmt/format.h>

namespace jarvis {
namespace {

// Label values escape \, " and newline; HELP text escapes \ and newline only.
std::string Escape(std::string_view text, bool quotes) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    if (c == '\\' || (quotes && c == '"')) {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

}  // namespace

const char* PrometheusTypeName(PrometheusType type) {
  switch (type) {
    case PrometheusType::kCounter: return "counter";
    case PrometheusType::kGauge: return "gauge";
    case PrometheusType::kSummary: return "summary";
    case PrometheusType::kHistogram: return "histogram";
    case PrometheusType::kUntyped: return "untyped";
  }
  return "untyped";
}

std::string PrometheusLabelText(const PrometheusLabels& labels) {
  std::string out;
  for (const auto& [key, value] : labels) {
    if (!out.empty()) out += ',';
    out += key;
    out += "=\"";
    out += Escape(value, /*quotes=*/true);
    out += '"';
  }
  return out;
}

std::string PrometheusNumber(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  return fmt::format("{}", value);  // shortest form that reads back exactly
}

PrometheusWriter::FamilyText& PrometheusWriter::Find(std::string_view name) {
  // Samples of a family usually arrive together: look at the last one first.
  if (!families_.empty() && families_.back().name == name) return families_.back();
  for (FamilyText& f : families_) {
    if (f.name == name) return f;
  }
  families_.push_back(FamilyText{std::string(name), {}, {}});
  return families_.back();
}

void PrometheusWriter::Family(std::string_view name, PrometheusType type, std::string_view help) {
  FamilyText& f = Find(name);
  if (!f.header.empty()) return;  // declared before: the first declaration wins
  f.header = fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, Escape(help, /*quotes=*/false), name,
                         PrometheusTypeName(type));
}

void PrometheusWriter::Sample(std::string_view family, const PrometheusLabels& labels, double value,
                              std::string_view suffix) {
  FamilyText& f = Find(family);
  std::string& out = f.samples;
  out += family;
  out += suffix;
  if (!labels.empty()) {
    out += '{';
    out += PrometheusLabelText(labels);
    out += '}';
  }
  out += ' ';
  out += PrometheusNumber(value);
  out += '\n';
}

void PrometheusWriter::Histogram(std::string_view family, const PrometheusLabels& labels,
                                 std::span<const double> bounds, std::span<const uint64_t> cumulative,
                                 uint64_t count, double sum) {
  PrometheusLabels with_le = labels;
  with_le.emplace_back("le", "");
  for (size_t i = 0; i < bounds.size() && i < cumulative.size(); ++i) {
    with_le.back().second = PrometheusNumber(bounds[i]);
    Sample(family, with_le, static_cast<double>(cumulative[i]), "_bucket");
  }
  with_le.back().second = "+Inf";
  Sample(family, with_le, static_cast<double>(count), "_bucket");
  Sample(family, labels, sum, "_sum");
  Sample(family, labels, static_cast<double>(count), "_count");
}

void PrometheusWriter::Summary(std::string_view family, const PrometheusLabels& labels,
                               std::span<const std::pair<double, double>> quantiles, uint64_t count, double sum) {
  PrometheusLabels with_q = labels;
  with_q.emplace_back("quantile", "");
  for (const auto& [q, value] : quantiles) {
    with_q.back().second = PrometheusNumber(q);
    Sample(family, with_q, value);
  }
  Sample(family, labels, sum, "_sum");
  Sample(family, labels, static_cast<double>(count), "_count");
}

std::string PrometheusWriter::Text() const {
  std::string out;
  for (const FamilyText& f : families_) {
    if (f.header.empty()) {
      out += fmt::format("# TYPE {} untyped\n", f.name);
    } else {
      out += f.header;
    }
    out += f.samples;
  }
  return out;
}

}  // namespace jarvis
