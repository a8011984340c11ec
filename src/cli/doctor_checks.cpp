#include "cli/doctor_checks.h"
#include "cli/doctor_util.h"
#include "cli/environment.h"

#include <netdb.h>
#include <sched.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <string_view>
#include <thread>
#include <vector>

#include "api/dashboard_assets.h"
#include "cli/default_model.h"
#include "cli/version.h"
#include "gpu/gpu_backend.h"
#include "kernels/cpu/isa.h"
#include "kernels/cpu/matmul.h"
#include "model/model.h"
#include "model/weight_packing.h"
#include "service/nvml.h"
#include "service/system_monitor.h"
#include "util/cpu_features.h"
#include "util/thread_pool.h"

extern char** environ;

namespace jarvis::cli {

namespace {

using namespace doctor_internal;  // NOLINT: the helpers every check uses

// The variables jarvis reads (README's option table, plus the tuning and test
// knobs); any other JARVIS_* name is most likely a typo.
constexpr std::string_view kKnownEnv[] = {
    "JARVIS_API_KEY",       "JARVIS_BATCH_TOKENS",  "JARVIS_CACHE_SIZE",     "JARVIS_CACHE_TTL",
    "JARVIS_CORS_ORIGIN",   "JARVIS_CTX_SIZE",      "JARVIS_DEFAULT_MODEL",  "JARVIS_GPU_LAYERS",
    "JARVIS_HOST",          "JARVIS_IDLE_TIMEOUT",  "JARVIS_IO_THREADS",     "JARVIS_KEEP_ALIVE",
    "JARVIS_KERNELS",       "JARVIS_KV_TYPE",       "JARVIS_MAX_BODY",       "JARVIS_MAX_LOADED_MODELS",
    "JARVIS_MAX_QUEUE",     "JARVIS_MEMORY_BUDGET", "JARVIS_MODEL",          "JARVIS_NO_PRELOAD",
    "JARVIS_PACKED_CACHE",  "JARVIS_PACKED_CACHE_SIZE",
    "JARVIS_PARALLEL",      "JARVIS_PORT",          "JARVIS_REPACK",         "JARVIS_REQUEST_TIMEOUT",
    "JARVIS_SHARED_DIR",    "JARVIS_SHUTDOWN_GRACE", "JARVIS_THREADS",       "JARVIS_URL",
};

// A set, non-empty environment variable, else null.
const char* Env(const char* name) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? v : nullptr;
}

DoctorCheck CheckBuild() {
  // The first two lines of --version: "jarvis X (commit Y)", "compiler: ...".
  std::istringstream text(VersionText());
  std::string version, compiler;
  std::getline(text, version);
  std::getline(text, compiler);
  if (compiler.rfind("compiler: ", 0) == 0) compiler.erase(0, 10);
  const std::string detail = version + ", " + compiler;
#if defined(__OPTIMIZE__)
  return Ok("build", detail + ", optimized");
#else
  return Warn("build", detail + ", not optimized (debug build): inference is several times slower",
              "rebuild optimized: cmake --preset release (or -DCMAKE_BUILD_TYPE=Release)");
#endif
}

DoctorCheck CheckKernels() {
  const KernelIsa active = ActiveKernelIsa();
  const KernelIsa best = BestKernelIsa();
  const std::string features = GetCpuFeatures().ToString();
  const std::string detail = std::string(KernelIsaName(active)) + " kernels; cpu: " +
                             (features.empty() ? "no AVX2/AVX-512" : features);
  if (const char* forced = Env("JARVIS_KERNELS")) {
    const auto named = KernelIsaFromName(forced);
    if (!named || !CpuSupportsIsa(*named)) {
      return Warn("kernels", detail + "; JARVIS_KERNELS=" + forced + " ignored (unknown, or this CPU lacks it)",
                  std::string("unset JARVIS_KERNELS (the best here is ") + KernelIsaName(best) + ")");
    }
    if (static_cast<int>(active) < static_cast<int>(best)) {
      return Warn("kernels",
                  detail + "; JARVIS_KERNELS=" + forced + " forces slower kernels than this CPU's " +
                      KernelIsaName(best),
                  std::string("unset JARVIS_KERNELS to use the ") + KernelIsaName(best) + " kernels");
    }
  }
  if (active == KernelIsa::kScalar) {
    return Warn("kernels", detail + ": only the scalar reference kernels run on this CPU",
                "expect slow inference; a CPU with AVX2, FMA and F16C (x86-64-v3) is many times faster");
  }
  return Ok("kernels", detail);
}

DoctorCheck CheckThreads() {
  const int physical = DefaultThreadCount();
  const unsigned logical = std::thread::hardware_concurrency();
  std::string detail = std::to_string(physical) + " physical cores, " + std::to_string(logical) +
                       " logical CPUs: " + std::to_string(physical) + " threads by default";
  if (const char* env = Env("JARVIS_THREADS")) detail += " (JARVIS_THREADS=" + std::string(env) + ")";
  // A container or taskset may allow fewer CPUs than the machine has: more
  // threads than CPUs make every parallel step wait for a descheduled one.
  cpu_set_t allowed;
  CPU_ZERO(&allowed);
  if (sched_getaffinity(0, sizeof(allowed), &allowed) == 0 && CPU_COUNT(&allowed) < physical) {
    const std::string n = std::to_string(CPU_COUNT(&allowed));
    return Warn("threads", detail + ", but only " + n + " CPU(s) are allowed to this process",
                "pass --threads " + n + " (or JARVIS_THREADS=" + n + ")");
  }
  return Ok("threads", detail);
}

DoctorCheck CheckMemory() {
  const SystemSnapshot s = MemorySnapshot();
  const std::optional<uint64_t> available = s.memory_available_bytes;
  if (!s.memory_total_bytes || !available) {
    return Warn("memory", "cannot read MemTotal/MemAvailable from /proc/meminfo",
                "nothing to fix for jarvis, but memory use cannot be checked");
  }
  const std::string detail = Bytes(*available) + " available of " + Bytes(*s.memory_total_bytes);
  if (*available < 2 * kGiB) {
    return Warn("memory", detail + ": little room for a model",
                "close other programs or use a small quantized model (about its file size in RAM)");
  }
  return Ok("memory", detail);
}

DoctorCheck CheckHugePages() {
  const char* kPath = "/sys/kernel/mm/transparent_hugepage/enabled";
  std::ifstream in(kPath);
  std::string line;
  if (!std::getline(in, line)) {
    return Warn("hugepages", std::string("cannot read ") + kPath + " (kernel without transparent huge pages?)",
                "packed weights then use 4 KiB pages: decode is about 16% slower");
  }
  // "always [madvise] never": the bracketed word is the mode in force.
  const size_t open = line.find('['), close = line.find(']');
  const std::string mode = open != std::string::npos && close > open ? line.substr(open + 1, close - open - 1)
                                                                      : line;
  if (mode == "always" || mode == "madvise") return Ok("hugepages", "transparent huge pages: " + mode);
  return Warn("hugepages", "transparent huge pages: " + mode + ": packed weights get 4 KiB pages (decode ~16% slower)",
              std::string("echo madvise | sudo tee ") + kPath);
}

DoctorCheck CheckPacking() {
  const char* env = Env("JARVIS_REPACK");
  const std::string setting = env != nullptr ? std::string(" (JARVIS_REPACK=") + env + ")" : "";
  if (RepackFromEnv() && PackedWeights::Enabled()) {
    return Ok("packing", "on: quantized weights are repacked for the int8 kernels at load" + setting);
  }
  if (env != nullptr && std::string(env) == "0") {
    return Warn("packing", "off" + setting + ": quantized matmuls read the GGUF layout, decode is slower",
                "unset JARVIS_REPACK (the packed copy gives the same results)");
  }
  // The scalar kernels read the GGUF layout; the kernels check says why they run.
  return Ok("packing", std::string("off: not used by the ") + KernelIsaName(ActiveKernelIsa()) + " kernels");
}

// Where packed weights are cached across loads (model/packed_cache.h), how
// full that is, and whether it can be written.
DoctorCheck CheckPackedCache() {
  const PackedCacheSettings cache = PackedCacheFromEnv();
  if (!cache.enabled()) {
    return Ok("packed_cache", "off: every load packs the weights again (JARVIS_PACKED_CACHE, or no XDG_CACHE_HOME/HOME)");
  }
  namespace fs = std::filesystem;
  std::error_code ec;
  uint64_t used = 0;
  int files = 0;
  for (const auto& e : fs::directory_iterator(cache.dir, ec)) {
    std::error_code e2;
    if (e.path().extension() == ".jvpack" && e.is_regular_file(e2)) {
      used += e.file_size(e2);
      ++files;
    }
  }
  // The directory is created on first write: check the nearest existing one.
  fs::path probe = cache.dir;
  while (!probe.empty() && !fs::exists(probe, ec) && probe.has_parent_path() && probe != probe.parent_path()) {
    probe = probe.parent_path();
  }
  const std::string usage = std::to_string(files) + " file(s), " + Bytes(used) + " of " + Bytes(cache.max_bytes);
  if (::access(probe.c_str(), W_OK) != 0) {
    return Warn("packed_cache", cache.dir + " is not writable: every load packs the weights again (" + usage + ")",
                "set JARVIS_PACKED_CACHE (serve: --packed-cache) to a writable folder, or to off");
  }
  return Ok("packed_cache", cache.dir + ": " + usage + "; a model's second load maps its packed weights from here");
}

DoctorCheck CheckGpu(const std::vector<GpuDeviceInfo>& nvml_gpus) {
  const GpuProbe& probe = ProbeGpus();
  const char* env = Env("JARVIS_GPU_LAYERS");
  const GpuLayersEnv parsed = ReadGpuLayersEnv();
  const int32_t wanted = parsed.request();  // -1: all layers
  const std::string env_text = env != nullptr ? std::string("JARVIS_GPU_LAYERS=") + env : "";
  if (parsed.set && !parsed.valid) {
    return Warn("gpu", env_text + " is not an integer >= -1, so it counts as 0: CPU only",
                "set JARVIS_GPU_LAYERS to -1 (all layers), 0 (CPU only) or a layer count");
  }
  if (probe.cuda_built && !probe.devices.empty()) {
    const GpuDevice& d = probe.devices.front();
    std::string detail = DescribeGpuBackend() + "; " + Bytes(d.memory_free_bytes) + " free on device " +
                         std::to_string(d.index);
    if (wanted == 0) return Ok("gpu", detail + "; not used (" + env_text + ")");
    return Ok("gpu", detail + "; offloading " + (wanted < 0 ? std::string("all layers")
                                                             : std::to_string(wanted) + " layers"));
  }
  const std::string why = probe.cuda_built ? probe.unavailable_reason : "this build has no CUDA backend";
  const std::string rebuild = "rebuild with the CUDA toolkit installed (nvcc; -DJARVIS_CUDA=ON)";
  const std::string driver = "check the driver with nvidia-smi; jarvis needs compute capability 8.0+ and a driver "
                             "for CUDA " + probe.cuda_build_version;
  if (!nvml_gpus.empty()) {
    return Warn("gpu", "NVIDIA GPU present (" + nvml_gpus.front().name + ") but unusable: " + why +
                           "; running on the CPU",
                probe.cuda_built ? driver : rebuild);
  }
  if (parsed.asks_for_gpu()) {
    return Warn("gpu", env_text + " but no usable GPU (" + why + "): running on the CPU",
                "unset JARVIS_GPU_LAYERS on this machine, or " + (probe.cuda_built ? driver : rebuild));
  }
  return Ok("gpu", "no GPU: running on the CPU; " + why);
}

DoctorCheck CheckNvml(bool loaded, const std::vector<GpuDeviceInfo>& gpus) {
  if (loaded) {
    std::string names;
    for (const GpuDeviceInfo& g : gpus) names += (names.empty() ? ": " : ", ") + g.name;
    return Ok("nvml", "NVML loaded, " + std::to_string(gpus.size()) + " device(s)" + names +
                          " (GPU figures in the dashboard and /metrics)");
  }
  if (!ProbeGpus().devices.empty()) {
    return Warn("nvml", "libnvidia-ml.so.1 cannot be loaded: the dashboard and /metrics show no GPU figures",
                "install the NVIDIA driver's NVML library (libnvidia-ml.so.1)");
  }
  return Ok("nvml", "no NVML (no NVIDIA driver): no GPU figures to report");
}

DoctorCheck CheckDemoModel() {
  const std::string advice = "set XDG_CACHE_HOME (or HOME) to a writable folder, or always pass --model";
  auto path = DefaultModelCachePath();
  if (!path.ok()) return Warn("demo_model", path.status().message(), advice);
  std::error_code ec;
  if (std::filesystem::is_regular_file(*path, ec)) {
    return Ok("demo_model", *path + " (" + Bytes(std::filesystem::file_size(*path, ec)) + ")");
  }
  const std::string dir = std::filesystem::path(*path).parent_path().string();
  if (::access(dir.c_str(), W_OK) != 0) {
    return Warn("demo_model", dir + " is not writable: commands without --model cannot create the demo model",
                advice);
  }
  return Ok("demo_model", "not created yet: the first command without --model writes it to " + *path);
}

DoctorCheck CheckPort() {
  const char* host_env = Env("JARVIS_HOST");
  const char* port_env = Env("JARVIS_PORT");
  const std::string host = host_env != nullptr ? host_env : "127.0.0.1";
  const std::string port = port_env != nullptr ? port_env : "5050";
  const std::string where = host + ":" + port;
  const std::string other_port = "stop the other server, or choose a port: jarvis serve --port N (or JARVIS_PORT=N)";
  char* end = nullptr;
  const long number = std::strtol(port.c_str(), &end, 10);
  if (*end != '\0' || number < 0 || number > 65535) {
    return Warn("port", "JARVIS_PORT=" + port + " is not a port number", "set JARVIS_PORT to 1..65535 (0: any)");
  }
  if (number == 0) return Ok("port", "port 0: the server picks any free port on " + host);

  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* res = nullptr;
  if (getaddrinfo(host.c_str(), port.c_str(), &hints, &res) != 0 || res == nullptr) {
    return Warn("port", "cannot resolve host " + host, "set --host / JARVIS_HOST to an address of this machine");
  }
  int err = 0;
  const int fd = ::socket(res->ai_family, res->ai_socktype | SOCK_CLOEXEC, res->ai_protocol);
  if (fd < 0) {
    err = errno;
  } else {
    const int one = 1;  // as the server does: a socket in TIME_WAIT does not block it
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (::bind(fd, res->ai_addr, res->ai_addrlen) != 0) err = errno;
    ::close(fd);
  }
  freeaddrinfo(res);
  if (err == 0) return Ok("port", where + " is free for jarvis serve");
  if (err == EADDRINUSE) return Warn("port", where + " is in use (another jarvis serve?)", other_port);
  return Warn("port", "cannot bind " + where + ": " + std::strerror(err), other_port);
}

DoctorCheck CheckDashboard() {
  if (api::DashboardBuilt()) {
    uint64_t bytes = 0;
    for (const api::EmbeddedFile& f : api::DashboardFiles()) bytes += f.size;
    return Ok("dashboard", "embedded (" + std::to_string(api::DashboardFiles().size()) + " files, " +
                               Bytes(bytes) + "), served at /");
  }
  return Warn("dashboard", "not embedded: / only says how to build it",
              "install Node.js >= 18 and npm, then re-run cmake and rebuild");
}

size_t EditDistance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

DoctorCheck CheckEnv() {
  std::vector<std::string> known, unknown;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    const std::string_view entry(*e);
    if (entry.rfind("JARVIS_", 0) != 0) continue;
    const std::string name(entry.substr(0, entry.find('=')));
    const bool is_known = std::find(std::begin(kKnownEnv), std::end(kKnownEnv), name) != std::end(kKnownEnv);
    (is_known ? known : unknown).push_back(name);
  }
  std::sort(known.begin(), known.end());
  std::sort(unknown.begin(), unknown.end());
  std::string set;  // names only: values may be secrets (JARVIS_API_KEY)
  for (const std::string& n : known) set += (set.empty() ? "" : " ") + n;
  if (unknown.empty()) return Ok("env", set.empty() ? "no JARVIS_* variables set" : "set: " + set);

  std::string detail = "unknown:";
  for (const std::string& n : unknown) {
    detail += " " + n;
    auto closest = std::min_element(std::begin(kKnownEnv), std::end(kKnownEnv), [&](auto a, auto b) {
      return EditDistance(n, a) < EditDistance(n, b);
    });
    // A typo: about one edit per four letters after "JARVIS_" (THRADS, GPU_LAYER).
    const size_t allowed = std::max<size_t>(1, (n.size() - 7) / 4);
    if (EditDistance(n, *closest) <= allowed) detail += " (did you mean " + std::string(*closest) + "?)";
  }
  return Warn("env", detail + (set.empty() ? "" : "; set: " + set), "jarvis ignores unknown JARVIS_* variables: fix or unset them (see README)");
}

}  // namespace

const char* CheckStatusName(CheckStatus status) {
  switch (status) {
    case CheckStatus::kOk: return "ok";
    case CheckStatus::kWarn: return "warn";
    case CheckStatus::kFail: return "fail";
  }
  return "?";
}

std::vector<DoctorCheck> RunMachineChecks() {
  const std::unique_ptr<Nvml> nvml = Nvml::Open();
  const std::vector<GpuDeviceInfo> nvml_gpus = nvml ? nvml->Query() : std::vector<GpuDeviceInfo>{};
  return {CheckBuild(),   CheckKernels(),       CheckThreads(),          CheckMemory(),
          CheckHugePages(), CheckPacking(),     CheckPackedCache(),     CheckGpu(nvml_gpus),     CheckNvml(nvml != nullptr, nvml_gpus),
          CheckDemoModel(), CheckPort(),        CheckDashboard(),        CheckEnv()};
}

}  // namespace jarvis::cli
