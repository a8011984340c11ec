#include "service/system_monitor.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <thread>

namespace jarvis {
namespace {

namespace fs = std::filesystem;

void Write(const fs::path& path, const std::string& text) {
  fs::create_directories(path.parent_path());
  std::ofstream(path) << text;
}

class FakeProc {
 public:
  FakeProc() : root_(fs::temp_directory_path() / ("jarvis_fake_proc_" + std::to_string(getpid()))) {
    fs::remove_all(root_);
  }
  ~FakeProc() { fs::remove_all(root_); }
  std::string root() const { return root_.string(); }
  // user nice system idle iowait irq softirq steal
  void Stat(uint64_t busy, uint64_t idle) {
    Write(root_ / "stat", "cpu  " + std::to_string(busy) + " 0 0 " + std::to_string(idle) +
                              " 0 0 0 0 0 0\ncpu0 1 0 0 1 0 0 0 0 0 0\ncpu1 1 0 0 1 0 0 0 0 0 0\nintr 5\n");
  }
  // utime and stime in ticks; starttime in ticks since boot.
  void SelfStat(uint64_t utime, uint64_t stime, uint64_t starttime) {
    std::string s = "4242 (my (odd) name) S";
    for (int field = 4; field <= 13; ++field) s += " 0";
    s += " " + std::to_string(utime) + " " + std::to_string(stime);
    for (int field = 16; field <= 21; ++field) s += " 0";
    s += " " + std::to_string(starttime) + " 0 0\n";
    Write(root_ / "self" / "stat", s);
  }

 private:
  fs::path root_;
};

TEST(SystemMonitorTest, RealProcValuesAreInRange) {
  SystemMonitorOptions opt;
  opt.start_thread = false;
  SystemMonitor m(opt);
  SystemSnapshot s = m.SampleNow();
  EXPECT_GE(s.cpu_count, 1);
  ASSERT_TRUE(s.cpu_percent.has_value());
  EXPECT_GE(*s.cpu_percent, 0.0);
  EXPECT_LE(*s.cpu_percent, 100.0);
  ASSERT_TRUE(s.process_cpu_percent.has_value());
  EXPECT_LE(*s.process_cpu_percent, 100.0);
  ASSERT_TRUE(s.memory_percent.has_value());
  EXPECT_GT(*s.memory_percent, 0.0);
  EXPECT_LT(*s.memory_percent, 100.0);
  ASSERT_TRUE(s.process_rss_bytes.has_value());
  EXPECT_GT(*s.process_rss_bytes, 1u << 20);  // a test binary is bigger than 1 MiB resident
  EXPECT_LT(*s.process_rss_bytes, *s.memory_total_bytes);
  EXPECT_GE(s.uptime_seconds, 0.0);
  ASSERT_TRUE(s.system_uptime_seconds.has_value());
  EXPECT_GT(*s.system_uptime_seconds, 0.0);
}

TEST(SystemMonitorTest, MissingNvmlGivesNullGpuFieldsNotErrors) {
  SystemMonitorOptions opt;
  opt.start_thread = false;
  opt.nvml_library = "libjarvis-no-such-nvml.so.1";
  SystemMonitor m(opt);
  EXPECT_FALSE(m.gpu_available());
  const nlohmann::json j = ToJson(m.SampleNow());
  EXPECT_FALSE(j["gpu_available"].get<bool>());
  for (const char* k : {"gpu_memory_allocated_gb", "gpu_memory_reserved_gb", "gpu_memory_total_gb",
                        "gpu_utilization_percent"}) {
    EXPECT_TRUE(j[k].is_null()) << k;
  }
  EXPECT_TRUE(j["gpus"].is_array());
  EXPECT_TRUE(j["gpus"].empty());
  EXPECT_TRUE(j["cpu_percent"].is_number());
}

TEST(SystemMonitorTest, NvmlFiguresThroughARuntimeLoadedLibrary) {
  SystemMonitorOptions opt;
  opt.start_thread = false;
  opt.nvml_library = JARVIS_FAKE_NVML;  // two fake 80 GiB GPUs (testdata/fake_nvml.c)
  SystemMonitor m(opt);
  ASSERT_TRUE(m.gpu_available());
  const SystemSnapshot s = m.SampleNow();
  ASSERT_EQ(s.gpus.size(), 2u);
  EXPECT_EQ(s.gpus[0].name, "Fake GPU 0");
  EXPECT_EQ(s.gpus[1].memory_used_bytes, 30ull << 30);
  EXPECT_EQ(*s.gpus[0].process_memory_bytes, 2ull << 30);
  EXPECT_EQ(*s.gpus[1].process_memory_bytes, 1ull << 30);  // found after the buffer grew
  EXPECT_DOUBLE_EQ(*s.gpu_memory_total_gb, 160.0);
  EXPECT_DOUBLE_EQ(*s.gpu_memory_reserved_gb, 40.0);
  EXPECT_DOUBLE_EQ(*s.gpu_memory_allocated_gb, 3.0);
  EXPECT_DOUBLE_EQ(*s.gpu_utilization_percent, 50.0);
  const nlohmann::json j = ToJson(s);
  EXPECT_TRUE(j["gpu_available"].get<bool>());
  EXPECT_EQ(j["gpus"].size(), 2u);
  EXPECT_DOUBLE_EQ(j["gpus"][1]["memory_free_gb"].get<double>(), 50.0);
  EXPECT_EQ(j["gpus"][0]["temperature_c"], 50);
}

TEST(SystemMonitorTest, FakeProcGivesExactPercentages) {
  FakeProc proc;
  const uint64_t hz = static_cast<uint64_t>(sysconf(_SC_CLK_TCK));
  proc.Stat(300, 700);                     // since boot: 30% busy
  proc.SelfStat(20 * hz, 5 * hz, 50 * hz);  // 25 CPU-s, started at 50 s
  Write(fs::path(proc.root()) / "uptime", "100.00 150.00\n");
  Write(fs::path(proc.root()) / "meminfo", "MemTotal:       1000 kB\nMemFree:  10 kB\nMemAvailable:    250 kB\n");
  Write(fs::path(proc.root()) / "self" / "statm", "500 10 3 1 0 8 0\n");
  SystemMonitorOptions opt;
  opt.start_thread = false;
  opt.gpu = false;
  opt.proc_root = proc.root();
  SystemMonitor m(opt);  // takes the first sample
  SystemSnapshot s = m.Latest();
  EXPECT_EQ(s.cpu_count, 2);
  EXPECT_DOUBLE_EQ(*s.cpu_percent, 30.0);
  EXPECT_DOUBLE_EQ(*s.process_cpu_percent, 25.0);  // 25 CPU-s / 50 s / 2 CPUs
  EXPECT_DOUBLE_EQ(*s.memory_percent, 75.0);
  EXPECT_EQ(*s.memory_total_bytes, 1024000u);
  EXPECT_EQ(*s.process_rss_bytes, 10u * static_cast<uint64_t>(sysconf(_SC_PAGESIZE)));
  EXPECT_DOUBLE_EQ(*s.system_uptime_seconds, 100.0);

  proc.Stat(300 + 900, 700 + 100);  // this interval: 900 busy of 1000
  s = m.SampleNow();
  EXPECT_DOUBLE_EQ(*s.cpu_percent, 90.0);
  EXPECT_TRUE(s.process_cpu_percent.has_value());
  EXPECT_DOUBLE_EQ(*s.process_cpu_percent, 0.0);  // no CPU time since the last sample
}

TEST(SystemMonitorTest, UnreadableProcGivesNulls) {
  SystemMonitorOptions opt;
  opt.start_thread = false;
  opt.gpu = false;
  opt.proc_root = "/nonexistent/jarvis/proc";
  SystemMonitor m(opt);
  const nlohmann::json j = ToJson(m.Latest());
  EXPECT_TRUE(j["cpu_percent"].is_null());
  EXPECT_TRUE(j["memory_percent"].is_null());
  EXPECT_TRUE(j["process_rss_bytes"].is_null());
  EXPECT_GE(j["cpu_count"].get<int>(), 1);
}

TEST(SystemMonitorTest, BackgroundThreadKeepsSampling) {
  SystemMonitorOptions opt;
  opt.interval = std::chrono::milliseconds(10);
  opt.gpu = false;
  SystemMonitor m(opt);
  const auto first = m.Latest().sampled_at;
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (m.Latest().sampled_at == first && std::chrono::steady_clock::now() < give_up) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_NE(m.Latest().sampled_at, first);
}

}  // namespace
}  // namespace jarvis
