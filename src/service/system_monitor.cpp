#include "service/system_monitor.h"

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <sstream>

namespace jarvis {
namespace {

constexpr double kGiB = 1024.0 * 1024.0 * 1024.0;

std::optional<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Fields of /proc/<pid>/stat after the command name (which is in parentheses
// and may contain spaces): element 0 is field 3 ("state").
std::vector<std::string> StatFieldsAfterComm(const std::string& text) {
  std::vector<std::string> fields;
  const size_t close = text.rfind(')');
  if (close == std::string::npos) return fields;
  std::istringstream in(text.substr(close + 1));
  std::string f;
  while (in >> f) fields.push_back(f);
  return fields;
}

template <typename T>
nlohmann::json OrNull(const std::optional<T>& v) {
  return v.has_value() ? nlohmann::json(*v) : nlohmann::json(nullptr);
}

double Clamp100(double v) { return std::clamp(v, 0.0, 100.0); }

}  // namespace

SystemMonitor::SystemMonitor(SystemMonitorOptions options)
    : options_(std::move(options)), start_(std::chrono::steady_clock::now()) {
  if (options_.gpu) nvml_ = Nvml::Open(options_.nvml_library);
  SampleNow();
  if (options_.start_thread) thread_ = std::thread([this] { Loop(); });
}

SystemMonitor::~SystemMonitor() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void SystemMonitor::Loop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stop_) {
    if (cv_.wait_for(lock, options_.interval, [this] { return stop_; })) break;
    lock.unlock();
    SampleNow();
    lock.lock();
  }
}

SystemSnapshot SystemMonitor::Latest() const {
  std::lock_guard<std::mutex> lock(mu_);
  return latest_;
}

std::optional<SystemMonitor::CpuTimes> SystemMonitor::ReadCpuTimes() const {
  auto text = ReadFile(options_.proc_root + "/stat");
  if (!text) return std::nullopt;
  std::istringstream in(*text);
  std::string label;
  in >> label;
  if (label != "cpu") return std::nullopt;
  // user nice system idle iowait irq softirq steal (guest time is already in user)
  uint64_t v[8] = {};
  for (uint64_t& x : v) {
    if (!(in >> x)) return std::nullopt;
  }
  CpuTimes t;
  for (uint64_t x : v) t.total += x;
  t.idle = v[3] + v[4];
  return t;
}

std::optional<double> SystemMonitor::ReadProcessCpuSeconds() const {
  auto text = ReadFile(options_.proc_root + "/self/stat");
  if (!text) return std::nullopt;
  const auto f = StatFieldsAfterComm(*text);
  if (f.size() < 13) return std::nullopt;
  const double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
  try {
    return (std::stod(f[11]) + std::stod(f[12])) / ticks;  // utime + stime (fields 14, 15)
  } catch (...) {
    return std::nullopt;
  }
}

std::optional<double> SystemMonitor::ReadProcessStartSeconds() const {
  auto text = ReadFile(options_.proc_root + "/self/stat");
  if (!text) return std::nullopt;
  const auto f = StatFieldsAfterComm(*text);
  if (f.size() < 20) return std::nullopt;
  try {
    return std::stod(f[19]) / static_cast<double>(sysconf(_SC_CLK_TCK));  // starttime (field 22)
  } catch (...) {
    return std::nullopt;
  }
}

std::optional<double> SystemMonitor::ReadSystemUptime() const {
  auto text = ReadFile(options_.proc_root + "/uptime");
  if (!text) return std::nullopt;
  std::istringstream in(*text);
  double up = 0.0;
  if (!(in >> up)) return std::nullopt;
  return up;
}

SystemSnapshot SystemMonitor::SampleNow() {
  std::lock_guard<std::mutex> sample_lock(sample_mu_);
  const auto now = std::chrono::steady_clock::now();
  SystemSnapshot s;
  s.sampled_at = std::chrono::system_clock::now();
  s.uptime_seconds = std::chrono::duration<double>(now - start_).count();
  s.system_uptime_seconds = ReadSystemUptime();

  // CPU count: the cpuN lines of /proc/stat (consistent with the times read), else sysconf.
  if (auto text = ReadFile(options_.proc_root + "/stat")) {
    std::istringstream in(*text);
    std::string line;
    while (std::getline(in, line)) {
      if (line.size() > 3 && line.compare(0, 3, "cpu") == 0 && std::isdigit(static_cast<unsigned char>(line[3]))) {
        ++s.cpu_count;
      }
    }
  }
  if (s.cpu_count == 0) s.cpu_count = static_cast<int>(std::max(1L, sysconf(_SC_NPROCESSORS_ONLN)));

  const auto cpu = ReadCpuTimes();
  if (cpu && prev_cpu_ && cpu->total > prev_cpu_->total) {
    const double dt = static_cast<double>(cpu->total - prev_cpu_->total);
    const double di = static_cast<double>(cpu->idle - std::min(cpu->idle, prev_cpu_->idle));
    s.cpu_percent = Clamp100(100.0 * (dt - di) / dt);
  } else if (cpu && cpu->total > 0) {  // first sample: since boot
    s.cpu_percent = Clamp100(100.0 * static_cast<double>(cpu->total - cpu->idle) / static_cast<double>(cpu->total));
  }

  const auto proc_s = ReadProcessCpuSeconds();
  const double wall = std::chrono::duration<double>(now - prev_time_).count();
  if (proc_s && prev_proc_cpu_s_ && wall > 0.0) {
    s.process_cpu_percent = Clamp100(100.0 * (*proc_s - *prev_proc_cpu_s_) / wall / s.cpu_count);
  } else if (proc_s) {  // first sample: since the process started
    const auto started = ReadProcessStartSeconds();
    if (started && s.system_uptime_seconds && *s.system_uptime_seconds > *started) {
      s.process_cpu_percent =
          Clamp100(100.0 * *proc_s / (*s.system_uptime_seconds - *started) / s.cpu_count);
    }
  }
  if (cpu) prev_cpu_ = cpu;
  if (proc_s) prev_proc_cpu_s_ = proc_s;
  prev_time_ = now;

  if (auto text = ReadFile(options_.proc_root + "/meminfo")) {
    std::istringstream in(*text);
    std::string key, unit;
    uint64_t value = 0;
    while (in >> key >> value) {
      std::getline(in, unit);  // " kB"
      if (key == "MemTotal:") s.memory_total_bytes = value * 1024;
      if (key == "MemAvailable:") s.memory_available_bytes = value * 1024;
    }
    if (s.memory_total_bytes && s.memory_available_bytes && *s.memory_total_bytes > 0) {
      s.memory_percent = Clamp100(100.0 * (1.0 - static_cast<double>(*s.memory_available_bytes) /
                                                     static_cast<double>(*s.memory_total_bytes)));
    }
  }
  if (auto text = ReadFile(options_.proc_root + "/self/statm")) {
    std::istringstream in(*text);
    uint64_t size = 0, resident = 0;
    if (in >> size >> resident) s.process_rss_bytes = resident * static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
  }

  if (nvml_ != nullptr) {
    s.gpus = nvml_->Query();
    double total = 0, used = 0, util = 0, mine = 0;
    int n_util = 0;
    bool mine_known = !s.gpus.empty();
    for (const auto& g : s.gpus) {
      total += static_cast<double>(g.memory_total_bytes);
      used += static_cast<double>(g.memory_used_bytes);
      if (g.utilization_percent) {
        util += *g.utilization_percent;
        ++n_util;
      }
      if (g.process_memory_bytes) mine += static_cast<double>(*g.process_memory_bytes);
      else mine_known = false;
    }
    if (!s.gpus.empty()) {
      s.gpu_memory_total_gb = total / kGiB;
      s.gpu_memory_reserved_gb = used / kGiB;
      if (mine_known) s.gpu_memory_allocated_gb = mine / kGiB;
      if (n_util > 0) s.gpu_utilization_percent = util / n_util;
    }
  }

  std::lock_guard<std::mutex> lock(mu_);
  latest_ = s;
  return s;
}

nlohmann::json ToJson(const SystemSnapshot& s) {
  nlohmann::json gpus = nlohmann::json::array();
  for (const auto& g : s.gpus) {
    gpus.push_back({
        {"index", g.index},
        {"name", g.name},
        {"memory_total_gb", static_cast<double>(g.memory_total_bytes) / kGiB},
        {"memory_used_gb", static_cast<double>(g.memory_used_bytes) / kGiB},
        {"memory_free_gb", static_cast<double>(g.memory_free_bytes) / kGiB},
        {"process_memory_gb", g.process_memory_bytes
                                  ? nlohmann::json(static_cast<double>(*g.process_memory_bytes) / kGiB)
                                  : nlohmann::json(nullptr)},
        {"utilization_percent", OrNull(g.utilization_percent)},
        {"memory_utilization_percent", OrNull(g.memory_utilization_percent)},
        {"temperature_c", OrNull(g.temperature_c)},
    });
  }
  return {
      {"cpu_count", s.cpu_count},
      {"cpu_percent", OrNull(s.cpu_percent)},
      {"process_cpu_percent", OrNull(s.process_cpu_percent)},
      {"memory_percent", OrNull(s.memory_percent)},
      {"memory_total_bytes", OrNull(s.memory_total_bytes)},
      {"memory_available_bytes", OrNull(s.memory_available_bytes)},
      {"process_rss_bytes", OrNull(s.process_rss_bytes)},
      {"uptime_seconds", s.uptime_seconds},
      {"system_uptime_seconds", OrNull(s.system_uptime_seconds)},
      {"gpu_available", !s.gpus.empty()},
      {"gpu_memory_allocated_gb", OrNull(s.gpu_memory_allocated_gb)},
      {"gpu_memory_reserved_gb", OrNull(s.gpu_memory_reserved_gb)},
      {"gpu_memory_total_gb", OrNull(s.gpu_memory_total_gb)},
      {"gpu_utilization_percent", OrNull(s.gpu_utilization_percent)},
      {"gpus", gpus},
  };
}

}  // namespace jarvis
