// SystemMonitor: CPU, memory and GPU figures of the machine and of this
// process, sampled on a background thread (default every 1 s) so that readers
// (the monitoring endpoints) never touch /proc or NVML themselves.
//
// Sources: /proc/stat (system CPU, deltas between samples), /proc/self/stat
// (process CPU), /proc/meminfo (MemTotal, MemAvailable), /proc/self/statm
// (RSS), /proc/uptime; GPUs through NVML loaded at run time (service/nvml.h).
// Any figure that cannot be read is nullopt (JSON null), never an error.
// Before the first background sample the CPU figures are averages since boot
// (system) and since process start (process).
//
// Thread safety: every method may be called from any thread.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "service/nvml.h"

namespace jarvis {

struct SystemSnapshot {
  int cpu_count = 0;                         // online logical CPUs
  std::optional<double> cpu_percent;         // whole machine, 0..100
  std::optional<double> process_cpu_percent; // this process, share of all CPUs, 0..100
  std::optional<double> memory_percent;      // 100 * (1 - MemAvailable / MemTotal)
  std::optional<uint64_t> memory_total_bytes;
  std::optional<uint64_t> memory_available_bytes;
  std::optional<uint64_t> process_rss_bytes;
  double uptime_seconds = 0.0;               // since the monitor (the service) started
  std::optional<double> system_uptime_seconds;
  // GPUs (empty without NVML). Totals over all devices, nullopt without NVML:
  std::vector<GpuDeviceInfo> gpus;
  std::optional<double> gpu_memory_allocated_gb;  // held by this process
  std::optional<double> gpu_memory_reserved_gb;   // in use on the devices, all processes
  std::optional<double> gpu_memory_total_gb;
  std::optional<double> gpu_utilization_percent;  // mean over devices
  std::chrono::system_clock::time_point sampled_at;
};

// {"cpu_count", "cpu_percent", ..., "gpus": [...]} (field list in docs/API.md).
nlohmann::json ToJson(const SystemSnapshot& s);

struct SystemMonitorOptions {
  std::chrono::milliseconds interval{1000};
  bool start_thread = true;     // false: only SampleNow() updates (tests)
  bool gpu = true;
  std::string nvml_library = "libnvidia-ml.so.1";
  std::string proc_root = "/proc";  // tests point it at a fake tree
};

class SystemMonitor {
 public:
  explicit SystemMonitor(SystemMonitorOptions options = {});
  ~SystemMonitor();  // stops and joins the sampling thread
  SystemMonitor(const SystemMonitor&) = delete;
  SystemMonitor& operator=(const SystemMonitor&) = delete;

  // The most recent sample.
  SystemSnapshot Latest() const;
  // Takes a sample now (CPU figures over the time since the previous one),
  // stores it as the latest and returns it.
  SystemSnapshot SampleNow();
  bool gpu_available() const { return nvml_ != nullptr; }

 private:
  struct CpuTimes {
    uint64_t total = 0;  // jiffies, all states
    uint64_t idle = 0;   // idle + iowait
  };
  std::optional<CpuTimes> ReadCpuTimes() const;
  std::optional<double> ReadProcessCpuSeconds() const;
  std::optional<double> ReadSystemUptime() const;
  std::optional<double> ReadProcessStartSeconds() const;  // since boot
  void Loop();

  const SystemMonitorOptions options_;
  const std::chrono::steady_clock::time_point start_;
  std::unique_ptr<Nvml> nvml_;

  std::mutex sample_mu_;  // one sampler at a time; guards the previous readings
  std::optional<CpuTimes> prev_cpu_;
  std::optional<double> prev_proc_cpu_s_;
  std::chrono::steady_clock::time_point prev_time_;

  mutable std::mutex mu_;
  SystemSnapshot latest_;  // guarded by mu_
  bool stop_ = false;      // guarded by mu_
  std::condition_variable cv_;
  std::thread thread_;
};

}  // namespace jarvis
