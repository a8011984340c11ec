// Helpers shared by the doctor's machine checks (doctor_checks.cpp) and model
// checks (doctor_model_checks.cpp). Private to src/cli.
#pragma once

#include <cstdint>
#include <string>

#include "cli/doctor_checks.h"
#include "service/system_monitor.h"

namespace jarvis::cli::doctor_internal {

inline constexpr uint64_t kMiB = uint64_t{1} << 20;
inline constexpr uint64_t kGiB = uint64_t{1} << 30;

DoctorCheck Ok(std::string name, std::string detail);
DoctorCheck Warn(std::string name, std::string detail, std::string advice);
DoctorCheck Failed(std::string name, std::string detail, std::string advice);

// "3.2 KiB", "812.0 MiB", "7.6 GiB".
std::string Bytes(uint64_t n);

// /proc/meminfo, read once through SystemMonitor (no thread, no NVML).
SystemSnapshot MemorySnapshot();

}  // namespace jarvis::cli::doctor_internal
