#include "service/nvml.h"

#include <dlfcn.h>
#include <unistd.h>

namespace jarvis {
namespace {

// The few NVML types we use, declared from the documented C ABI (nvml.h).
using NvmlReturn = int;  // nvmlReturn_t; 0 = NVML_SUCCESS
constexpr NvmlReturn kNvmlSuccess = 0;
constexpr NvmlReturn kNvmlInsufficientSize = 7;
using NvmlDevice = void*;  // nvmlDevice_t (opaque pointer)
struct NvmlMemory {        // nvmlMemory_t
  unsigned long long total;
  unsigned long long free;
  unsigned long long used;
};
struct NvmlUtilization {  // nvmlUtilization_t
  unsigned int gpu;
  unsigned int memory;
};
struct NvmlProcessInfoV1 {  // nvmlProcessInfo_v1_t, taken by the unversioned call
  unsigned int pid;
  unsigned long long used_gpu_memory;
};
constexpr unsigned kNvmlTemperatureGpu = 0;  // NVML_TEMPERATURE_GPU

template <typename Fn>
Fn Sym(void* lib, const char* name) {
  return reinterpret_cast<Fn>(dlsym(lib, name));
}

}  // namespace

struct Nvml::Api {
  void* lib = nullptr;
  NvmlReturn (*init)() = nullptr;
  NvmlReturn (*shutdown)() = nullptr;
  NvmlReturn (*count)(unsigned*) = nullptr;
  NvmlReturn (*handle)(unsigned, NvmlDevice*) = nullptr;
  NvmlReturn (*memory)(NvmlDevice, NvmlMemory*) = nullptr;
  NvmlReturn (*utilization)(NvmlDevice, NvmlUtilization*) = nullptr;  // optional
  NvmlReturn (*name)(NvmlDevice, char*, unsigned) = nullptr;          // optional
  NvmlReturn (*temperature)(NvmlDevice, unsigned, unsigned*) = nullptr;  // optional
  NvmlReturn (*processes)(NvmlDevice, unsigned*, NvmlProcessInfoV1*) = nullptr;  // optional
};

std::unique_ptr<Nvml> Nvml::Open(const std::string& library) {
  void* lib = dlopen(library.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (lib == nullptr) return nullptr;
  auto api = std::make_unique<Api>();
  api->lib = lib;
  api->init = Sym<decltype(api->init)>(lib, "nvmlInit_v2");
  api->shutdown = Sym<decltype(api->shutdown)>(lib, "nvmlShutdown");
  api->count = Sym<decltype(api->count)>(lib, "nvmlDeviceGetCount_v2");
  api->handle = Sym<decltype(api->handle)>(lib, "nvmlDeviceGetHandleByIndex_v2");
  api->memory = Sym<decltype(api->memory)>(lib, "nvmlDeviceGetMemoryInfo");
  api->utilization = Sym<decltype(api->utilization)>(lib, "nvmlDeviceGetUtilizationRates");
  api->name = Sym<decltype(api->name)>(lib, "nvmlDeviceGetName");
  api->temperature = Sym<decltype(api->temperature)>(lib, "nvmlDeviceGetTemperature");
  api->processes = Sym<decltype(api->processes)>(lib, "nvmlDeviceGetComputeRunningProcesses");
  if (api->init == nullptr || api->shutdown == nullptr || api->count == nullptr || api->handle == nullptr ||
      api->memory == nullptr || api->init() != kNvmlSuccess) {
    dlclose(lib);
    return nullptr;
  }
  return std::unique_ptr<Nvml>(new Nvml(std::move(api)));
}

Nvml::Nvml(std::unique_ptr<Api> api) : api_(std::move(api)) {}

Nvml::~Nvml() {
  api_->shutdown();
  dlclose(api_->lib);
}

std::vector<GpuDeviceInfo> Nvml::Query() const {
  std::vector<GpuDeviceInfo> out;
  unsigned n = 0;
  if (api_->count(&n) != kNvmlSuccess) return out;
  const unsigned self = static_cast<unsigned>(getpid());
  for (unsigned i = 0; i < n; ++i) {
    NvmlDevice dev = nullptr;
    NvmlMemory mem{};
    if (api_->handle(i, &dev) != kNvmlSuccess || api_->memory(dev, &mem) != kNvmlSuccess) continue;
    GpuDeviceInfo info;
    info.index = static_cast<int>(i);
    info.memory_total_bytes = mem.total;
    info.memory_used_bytes = mem.used;
    info.memory_free_bytes = mem.free;
    char name[96] = {};
    if (api_->name != nullptr && api_->name(dev, name, sizeof(name) - 1) == kNvmlSuccess) info.name = name;
    NvmlUtilization util{};
    if (api_->utilization != nullptr && api_->utilization(dev, &util) == kNvmlSuccess) {
      info.utilization_percent = util.gpu;
      info.memory_utilization_percent = util.memory;
    }
    unsigned temp = 0;
    if (api_->temperature != nullptr && api_->temperature(dev, kNvmlTemperatureGpu, &temp) == kNvmlSuccess) {
      info.temperature_c = temp;
    }
    if (api_->processes != nullptr) {
      std::vector<NvmlProcessInfoV1> procs(16);
      unsigned count = static_cast<unsigned>(procs.size());
      NvmlReturn r = api_->processes(dev, &count, procs.data());
      if (r == kNvmlInsufficientSize && count > procs.size()) {
        procs.resize(count + 8);
        count = static_cast<unsigned>(procs.size());
        r = api_->processes(dev, &count, procs.data());
      }
      if (r == kNvmlSuccess) {
        uint64_t mine = 0;
        bool known = true;
        for (unsigned p = 0; p < count && p < procs.size(); ++p) {
          if (procs[p].pid != self) continue;
          if (procs[p].used_gpu_memory == ~0ull) known = false;  // NVML_VALUE_NOT_AVAILABLE
          else mine += procs[p].used_gpu_memory;
        }
        if (known) info.process_memory_bytes = mine;
      }
    }
    out.push_back(std::move(info));
  }
  return out;
}

}  // namespace jarvis
