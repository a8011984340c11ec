// System metrics: CPU, memory and GPU figures of the machine and this process,
// as the HTTP server reports them on /api/system/metrics.
//
// Thread safety: GetSystemStats() may be called from any thread.
#pragma once

#include <cstdint>
#include <optional>

namespace jarvis {

// Every figure is nullopt when it cannot be read here (no /proc, no NVML).
struct SystemStats {
  int32_t cpu_count = 0;                       // online logical CPUs
  std::optional<double> cpu_percent;           // whole machine, 0..100
  std::optional<double> process_cpu_percent;   // this process, share of all CPUs
  std::optional<double> memory_percent;        // 100 * (1 - available / total)
  std::optional<uint64_t> memory_total_bytes;
  std::optional<uint64_t> process_rss_bytes;
  std::optional<double> gpu_memory_allocated_gb;  // held by this process (NVML)
  std::optional<double> gpu_memory_reserved_gb;   // in use on the devices, all processes
  std::optional<double> gpu_memory_total_gb;
  std::optional<double> gpu_utilization_percent;  // mean over devices
};

// The latest sample of a process-wide sampler (started on the first call,
// one sample per second; the first call's CPU figures are averages since
// boot / since the process started).
SystemStats GetSystemStats();

}  // namespace jarvis
