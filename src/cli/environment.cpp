#include "cli/environment.h"

#include <spdlog/spdlog.h>

#include <cstdlib>
#include <string>

#include "jarvis/runtime_options.h"
#include "kernels/cpu/isa.h"
#include "util/value_parse.h"

namespace jarvis::cli {

void ApplyKernelsEnv() {
  const char* requested = std::getenv("JARVIS_KERNELS");
  if (requested == nullptr || *requested == '\0') return;
  (void)SetKernelIsa(ResolveKernelIsa(requested));  // ResolveKernelIsa warns and falls back
}

bool RepackFromEnv() {
  const char* env = std::getenv("JARVIS_REPACK");
  return !(env != nullptr && std::string(env) == "0");
}

PackedCacheSettings PackedCacheFromEnv() {
  const char* dir = std::getenv("JARVIS_PACKED_CACHE");
  PackedCacheSettings settings;
  settings.dir = ResolvePackedCacheDir(dir == nullptr ? RuntimeOptions{}.packed_cache : dir);
  settings.max_bytes = RuntimeOptions{}.packed_cache_bytes;
  const char* size = std::getenv("JARVIS_PACKED_CACHE_SIZE");
  if (size != nullptr && *size != '\0') {
    auto bytes = ParseByteSize(size);
    if (bytes.ok()) {
      settings.max_bytes = *bytes;
    } else {
      spdlog::warn("JARVIS_PACKED_CACHE_SIZE: {}; keeping {} GiB", bytes.status().message(), settings.max_bytes >> 30);
    }
  }
  return settings;
}

int32_t GpuLayersEnv::request() const { return !set ? kGpuLayersAuto : valid ? value : 0; }

GpuLayersEnv ReadGpuLayersEnv() {
  GpuLayersEnv env;
  const char* text = std::getenv("JARVIS_GPU_LAYERS");
  if (text == nullptr || *text == '\0') return env;
  env.set = true;
  char* end = nullptr;
  const long value = std::strtol(text, &end, 10);
  if (end == text || *end != '\0' || value < -1 || value > 1'000'000) return env;
  env.valid = true;
  env.value = static_cast<int32_t>(value);
  return env;
}

int32_t ResolveGpuLayersFlag(int32_t flag) {
  if (flag != kGpuLayersAuto) return flag;
  const GpuLayersEnv env = ReadGpuLayersEnv();
  if (env.set && !env.valid) {
    spdlog::warn("JARVIS_GPU_LAYERS={} is not an integer >= -1; running on the CPU", std::getenv("JARVIS_GPU_LAYERS"));
  }
  return env.request();
}

}  // namespace jarvis::cli
