// Nvml: NVIDIA GPU facts through NVML, loaded at run time with dlopen, so
// jarvis neither links against nor needs the NVIDIA driver. Without the
// library, without a GPU, or when NVML refuses to initialise, Open() returns
// null and callers report GPU fields as null: never an error.
//
// Thread safety: Query() may be called from one thread at a time.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace jarvis {

struct GpuDeviceInfo {
  int index = 0;
  std::string name;
  uint64_t memory_total_bytes = 0;
  uint64_t memory_used_bytes = 0;  // all processes on the device
  uint64_t memory_free_bytes = 0;
  // Memory held by this process on the device (nullopt if NVML cannot tell).
  std::optional<uint64_t> process_memory_bytes;
  std::optional<uint32_t> utilization_percent;         // kernels running, last sample period
  std::optional<uint32_t> memory_utilization_percent;  // memory bus busy
  std::optional<uint32_t> temperature_c;
};

class Nvml {
 public:
  // dlopen()s `library` and initialises NVML; null when either fails.
  static std::unique_ptr<Nvml> Open(const std::string& library = "libnvidia-ml.so.1");
  ~Nvml();
  Nvml(const Nvml&) = delete;
  Nvml& operator=(const Nvml&) = delete;

  // One entry per device NVML can query (devices that fail are skipped).
  std::vector<GpuDeviceInfo> Query() const;

 private:
  struct Api;
  explicit Nvml(std::unique_ptr<Api> api);
  std::unique_ptr<Api> api_;
};

}  // namespace jarvis
