// The helpers shared by the doctor's checks (cli/doctor_util.h).
#include "cli/doctor_util.h"

#include <cstdio>
#include <utility>

namespace jarvis::cli {

namespace doctor_internal {

DoctorCheck Ok(std::string name, std::string detail) {
  return {std::move(name), CheckStatus::kOk, std::move(detail), ""};
}
DoctorCheck Warn(std::string name, std::string detail, std::string advice) {
  return {std::move(name), CheckStatus::kWarn, std::move(detail), std::move(advice)};
}
DoctorCheck Failed(std::string name, std::string detail, std::string advice) {
  return {std::move(name), CheckStatus::kFail, std::move(detail), std::move(advice)};
}

// "3.2 KiB", "812.0 MiB", "7.6 GiB".
std::string Bytes(uint64_t n) {
  char buf[32];
  if (n >= kGiB) {
    std::snprintf(buf, sizeof(buf), "%.1f GiB", static_cast<double>(n) / kGiB);
  } else if (n >= kMiB) {
    std::snprintf(buf, sizeof(buf), "%.1f MiB", static_cast<double>(n) / kMiB);
  } else {
    std::snprintf(buf, sizeof(buf), "%.1f KiB", static_cast<double>(n) / 1024);
  }
  return buf;
}

// /proc/meminfo, read once through SystemMonitor (no thread, no NVML).
SystemSnapshot MemorySnapshot() {
  SystemMonitorOptions options;
  options.start_thread = false;
  options.gpu = false;
  return SystemMonitor(options).Latest();
}

}  // namespace doctor_internal

}  // namespace jarvis::cli
