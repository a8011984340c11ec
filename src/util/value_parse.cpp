#include "util/value_parse.h"

#include <cctype>
#include <cmath>
#include <cstdlib>
#include <string>

namespace jarvis {
namespace {

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Reads a non-negative decimal number (digits with an optional fraction) at
// `pos`; false when there is none.
bool ReadNumber(std::string_view s, size_t* pos, double* value) {
  const size_t start = *pos;
  while (*pos < s.size() && (std::isdigit(static_cast<unsigned char>(s[*pos])) || s[*pos] == '.')) ++*pos;
  if (*pos == start) return false;
  const std::string digits(s.substr(start, *pos - start));
  char* end = nullptr;
  *value = std::strtod(digits.c_str(), &end);
  return end == digits.c_str() + digits.size();
}

}  // namespace

Result<std::chrono::seconds> ParseDuration(std::string_view text) {
  const Status bad = Status::InvalidArgument("invalid duration '" + std::string(text) +
                                             "' (examples: 300, 5m, 1h30m, -1)");
  std::string s = Lower(text);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.pop_back();
  if (s.empty()) return bad;
  bool negative = false;
  size_t pos = 0;
  if (s[0] == '-' || s[0] == '+') {
    negative = s[0] == '-';
    pos = 1;
  }
  double total_seconds = 0.0;
  bool any = false;
  while (pos < s.size()) {
    double value = 0.0;
    if (!ReadNumber(s, &pos, &value)) return bad;
    const size_t unit_start = pos;
    while (pos < s.size() && std::isalpha(static_cast<unsigned char>(s[pos]))) ++pos;
    const std::string unit = s.substr(unit_start, pos - unit_start);
    double scale = 0.0;
    if (unit.empty()) {
      if (any || pos != s.size()) return bad;  // a bare number only stands alone
      scale = 1.0;
    } else if (unit == "ns") {
      scale = 1e-9;
    } else if (unit == "us" || unit == "µs") {
      scale = 1e-6;
    } else if (unit == "ms") {
      scale = 1e-3;
    } else if (unit == "s") {
      scale = 1.0;
    } else if (unit == "m") {
      scale = 60.0;
    } else if (unit == "h") {
      scale = 3600.0;
    } else {
      return bad;
    }
    total_seconds += value * scale;
    any = true;
  }
  if (!any || !std::isfinite(total_seconds) || total_seconds > 1e12) return bad;
  if (negative && total_seconds > 0) return std::chrono::seconds(-1);
  if (total_seconds > 0 && total_seconds < 1) return std::chrono::seconds(1);
  return std::chrono::seconds(static_cast<int64_t>(total_seconds));
}

Result<uint64_t> ParseByteSize(std::string_view text) {
  const Status bad = Status::InvalidArgument("invalid size '" + std::string(text) + "' (examples: 8MiB, 512K, 1048576)");
  const std::string s = Lower(text);
  size_t pos = 0;
  double value = 0.0;
  if (!ReadNumber(s, &pos, &value)) return bad;
  std::string unit = s.substr(pos);
  while (!unit.empty() && unit.front() == ' ') unit.erase(unit.begin());
  double scale = 0.0;
  if (unit.empty() || unit == "b") {
    scale = 1.0;
  } else if (unit == "k" || unit == "kb" || unit == "kib") {
    scale = 1024.0;
  } else if (unit == "m" || unit == "mb" || unit == "mib") {
    scale = 1024.0 * 1024.0;
  } else if (unit == "g" || unit == "gb" || unit == "gib") {
    scale = 1024.0 * 1024.0 * 1024.0;
  } else {
    return bad;
  }
  const double bytes = value * scale;
  if (!std::isfinite(bytes) || bytes > 1e15) return bad;
  return static_cast<uint64_t>(std::llround(bytes));
}

}  // namespace jarvis
