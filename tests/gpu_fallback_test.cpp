// End-to-end: `--gpu-layers` on a machine (or build) without a usable GPU.
// Asking for the GPU must still generate exactly what the CPU generates, with
// one warning on stderr and exit 0; a malformed value is a usage error.
#include <gtest/gtest.h>

#include <cstdlib>
#include <optional>
#include <string>

#include "gpu/gpu_backend.h"
#include "support/run_jarvis.h"
#include "support/test_paths.h"

namespace {

using jarvis::test::JarvisRun;
using jarvis::test::RunJarvis;
using jarvis::test::ShellQuote;

class GpuFallbackTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // The flag is under test, not the environment of whoever runs the tests.
    const char* env = std::getenv("JARVIS_GPU_LAYERS");
    if (env != nullptr) saved_env_ = env;
    ::unsetenv("JARVIS_GPU_LAYERS");
  }
  void TearDown() override {
    if (saved_env_) ::setenv("JARVIS_GPU_LAYERS", saved_env_->c_str(), 1);
  }
  static std::string RunArgs(const std::string& gpu) {
    return "run --model " + ShellQuote(jarvis::test::StoriesModelPath()) + " -n 24 -t 1 --temperature 0 " + gpu;
  }
  static bool HasGpu() { return !jarvis::ProbeGpus().devices.empty(); }

  std::optional<std::string> saved_env_;
};

size_t Count(const std::string& s, const std::string& what) {
  size_t n = 0;
  for (size_t at = s.find(what); at != std::string::npos; at = s.find(what, at + 1)) ++n;
  return n;
}

TEST_F(GpuFallbackTest, RunWithAllLayersRequestedFallsBackToTheCpu) {
  if (HasGpu()) GTEST_SKIP() << "a GPU is present: " << jarvis::DescribeGpuBackend();
  const JarvisRun cpu = RunJarvis(RunArgs("--gpu-layers 0"));
  ASSERT_EQ(cpu.exit_code, 0) << cpu.err;
  EXPECT_EQ(Count(cpu.err, "GPU offload unavailable"), 0u) << cpu.err;
  EXPECT_NE(cpu.err.find("| cpu ("), std::string::npos) << cpu.err;

  const JarvisRun gpu = RunJarvis(RunArgs("--gpu-layers -1"));
  ASSERT_EQ(gpu.exit_code, 0) << gpu.err;
  EXPECT_GT(cpu.out.size(), 20u);
  EXPECT_EQ(gpu.out, cpu.out);  // greedy output, nothing else on stdout
  EXPECT_EQ(Count(gpu.err, "GPU offload unavailable ("), 1u) << gpu.err;
  EXPECT_NE(gpu.err.find("running on the CPU"), std::string::npos) << gpu.err;

  // The environment variable asks the same way.
  ::setenv("JARVIS_GPU_LAYERS", "3", 1);
  const JarvisRun env = RunJarvis(RunArgs(""));
  ::unsetenv("JARVIS_GPU_LAYERS");
  ASSERT_EQ(env.exit_code, 0) << env.err;
  EXPECT_EQ(env.out, cpu.out);
  EXPECT_EQ(Count(env.err, "GPU offload unavailable ("), 1u) << env.err;

  // Default (no flag, no variable): quietly on the CPU.
  const JarvisRun quiet = RunJarvis(RunArgs(""));
  ASSERT_EQ(quiet.exit_code, 0) << quiet.err;
  EXPECT_EQ(quiet.out, cpu.out);
  EXPECT_EQ(Count(quiet.err, "GPU offload"), 0u) << quiet.err;
}

TEST_F(GpuFallbackTest, MalformedGpuLayersIsAUsageError) {
  for (const char* bad : {"abc", "-2", "1.5", "''"}) {
    SCOPED_TRACE(bad);
    const JarvisRun r = RunJarvis(RunArgs(std::string("--gpu-layers ") + bad));
    EXPECT_EQ(r.exit_code, 2) << r.err;
    EXPECT_EQ(r.out, "");
    EXPECT_NE(r.err.find("--gpu-layers"), std::string::npos) << r.err;
  }
  for (const char* cmd : {"bench", "bench-serve", "perplexity -f x", "serve"}) {
    SCOPED_TRACE(cmd);
    const JarvisRun r = RunJarvis(std::string(cmd) + " --model m.gguf --gpu-layers x");
    EXPECT_EQ(r.exit_code, 2) << r.err;
  }
}

TEST_F(GpuFallbackTest, VersionAndBenchSayWhereTheyRun) {
  const JarvisRun v = RunJarvis("--version");
  ASSERT_EQ(v.exit_code, 0);
  EXPECT_NE(v.out.find("backends: cpu (kernels: "), std::string::npos) << v.out;
  EXPECT_NE(v.out.find(jarvis::DescribeGpuBackend()), std::string::npos) << v.out;

  const JarvisRun b = RunJarvis("bench --model " + ShellQuote(jarvis::test::StoriesModelPath()) +
                                " -p 8 -n 4 -b 0 -r 1 -t 1 --no-bandwidth --gpu-layers 0");
  ASSERT_EQ(b.exit_code, 0) << b.err;
  EXPECT_NE(b.out.find("backend: cpu ("), std::string::npos) << b.out;
}

}  // namespace
