// End-to-end: the built `jarvis doctor` binary on this machine, with and
// without a model, and with environment settings it should flag.
#include <gtest/gtest.h>

#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "gpu/gpu_backend.h"
#include "kernels/cpu/isa.h"
#include "kernels/cpu/matmul.h"
#include "support/run_jarvis.h"
#include "support/test_paths.h"

namespace {

using jarvis::test::JarvisRun;
using jarvis::test::ShellQuote;
using nlohmann::json;

const std::vector<std::string> kMachineChecks = {"build", "kernels",    "threads", "memory",
                                                 "hugepages", "packing", "packed_cache", "gpu", "nvml",
                                                 "demo_model", "port",   "dashboard", "env"};

// Sets an environment variable for the child processes of one test.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) { ::setenv(name, value, 1); }
  ~ScopedEnv() { ::unsetenv(name_); }

 private:
  const char* name_;
};

JarvisRun Jarvis(const std::string& args) { return jarvis::test::RunJarvis(args); }

// The check called `name` in a `doctor --json` report (null if absent).
json FindCheck(const json& report, const std::string& name) {
  for (const json& c : report["checks"]) {
    if (c["name"] == name) return c;
  }
  return nullptr;
}

json DoctorJson(const std::string& extra = "") {
  JarvisRun r = Jarvis("doctor --json" + extra);
  EXPECT_TRUE(r.exit_code == 0 || r.exit_code == 1) << r.err;
  return json::parse(r.out);
}

TEST(DoctorTest, PrintsEveryCheckAndExitsZero) {
  JarvisRun r = Jarvis("doctor");
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  for (const std::string& name : kMachineChecks) EXPECT_NE(r.out.find(name + " "), std::string::npos) << name;
  EXPECT_NE(r.out.find(" 0 fail"), std::string::npos) << r.out;
}

TEST(DoctorTest, JsonHasEveryCheckAndAConsistentSummary) {
  JarvisRun r = Jarvis("doctor --json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const json j = json::parse(r.out);
  ASSERT_EQ(j["checks"].size(), kMachineChecks.size());
  int counts[3] = {0, 0, 0};
  for (size_t i = 0; i < kMachineChecks.size(); ++i) {
    const json& c = j["checks"][i];
    EXPECT_EQ(c["name"], kMachineChecks[i]);
    const std::string status = c["status"];
    ASSERT_TRUE(status == "ok" || status == "warn" || status == "fail") << status;
    ++counts[status == "ok" ? 0 : status == "warn" ? 1 : 2];
    EXPECT_FALSE(c["detail"].get<std::string>().empty()) << c;
    EXPECT_EQ(c["advice"].is_null(), status == "ok") << c;  // every problem says what to do
  }
  EXPECT_EQ(j["summary"]["ok"], counts[0]);
  EXPECT_EQ(j["summary"]["warn"], counts[1]);
  EXPECT_EQ(j["summary"]["fail"], 0);
  EXPECT_EQ(j["summary"]["status"], counts[1] > 0 ? "warn" : "ok");
}

TEST(DoctorTest, ForcedScalarKernelsWarn) {
  ScopedEnv env("JARVIS_KERNELS", "scalar");
  const json kernels = FindCheck(DoctorJson(), "kernels");
  ASSERT_FALSE(kernels.is_null());
  EXPECT_EQ(kernels["status"], "warn");
  EXPECT_NE(kernels["detail"].get<std::string>().find("scalar kernels"), std::string::npos) << kernels;
}

TEST(DoctorTest, UnknownVariablesAreReportedWithASuggestion) {
  ScopedEnv foo("JARVIS_FOO", "1");
  ScopedEnv typo("JARVIS_THRADS", "2");
  ScopedEnv known("JARVIS_REPACK", "1");
  JarvisRun r = Jarvis("doctor --json");
  ASSERT_EQ(r.exit_code, 0) << r.err;  // a warning, not a failure
  const json env = FindCheck(json::parse(r.out), "env");
  EXPECT_EQ(env["status"], "warn");
  const std::string detail = env["detail"];
  EXPECT_NE(detail.find("unknown: JARVIS_FOO JARVIS_THRADS (did you mean JARVIS_THREADS?)"), std::string::npos)
      << detail;
  // Known names are listed after "set:" (ctest sets some of its own, e.g. JARVIS_PACKED_CACHE).
  const size_t set = detail.find("set: ");
  ASSERT_NE(set, std::string::npos) << detail;
  EXPECT_NE(detail.find("JARVIS_REPACK", set), std::string::npos) << detail;
}

TEST(DoctorTest, MalformedGpuLayersWarn) {
  ScopedEnv env("JARVIS_GPU_LAYERS", "all");
  const json gpu = FindCheck(DoctorJson(), "gpu");
  EXPECT_EQ(gpu["status"], "warn");
  EXPECT_NE(gpu["detail"].get<std::string>().find("JARVIS_GPU_LAYERS=all"), std::string::npos) << gpu;
}

TEST(DoctorTest, StoriesModelLoadsWithItsKernels) {
  JarvisRun r = Jarvis("doctor --json --model " + ShellQuote(jarvis::test::StoriesModelPath()));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const json j = json::parse(r.out);
  EXPECT_EQ(j["checks"].size(), kMachineChecks.size() + 4);
  const json model = FindCheck(j, "model");
  EXPECT_EQ(model["status"], "ok");
  EXPECT_NE(model["detail"].get<std::string>().find("llama, 5 layers"), std::string::npos) << model;

  // stories260K is all F32: fast wherever the active ISA has an F32 kernel.
  const json kernels = FindCheck(j, "model_kernels");
  const std::string detail = kernels["detail"];
  if (jarvis::HasFastMatMul(jarvis::GgmlType::kF32, jarvis::ActiveKernelIsa())) {
    EXPECT_EQ(kernels["status"], "ok");
    EXPECT_NE(detail.find("kernels for f32 (36 matrices)"), std::string::npos) << detail;
  } else {
    EXPECT_EQ(kernels["status"], "warn");
    EXPECT_NE(detail.find("f32 (36 matrices) run on the slow scalar path"), std::string::npos) << detail;
  }
  EXPECT_EQ(FindCheck(j, "model_memory")["status"], "ok");  // 1 MiB
  const json gpu = FindCheck(j, "model_gpu");
  ASSERT_FALSE(gpu.is_null());
  if (jarvis::ProbeGpus().devices.empty()) {
    // No GPU: everything on the CPU, and why.
    EXPECT_EQ(gpu["status"], "ok");
    EXPECT_EQ(gpu["detail"].get<std::string>().rfind("all 5 layers + output on the CPU: no GPU (", 0), 0u) << gpu;
  }
}

// --gpu-layers is explained: where a GPU exists it names the layer split.
TEST(DoctorTest, ModelGpuExplainsGpuLayersFlag) {
  JarvisRun r = Jarvis("doctor --json --gpu-layers 2 --model " + ShellQuote(jarvis::test::StoriesModelPath()));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string detail = FindCheck(json::parse(r.out), "model_gpu")["detail"];
  if (jarvis::ProbeGpus().devices.empty()) {
    EXPECT_EQ(detail.rfind("all 5 layers + output on the CPU: no GPU (", 0), 0u) << detail;
  } else {
    EXPECT_EQ(detail.rfind("layers 0-2 on the CPU, layers 3-4 + output on GPU 0 ", 0), 0u) << detail;
    EXPECT_NE(detail.find("(--gpu-layers 2; "), std::string::npos) << detail;
  }
  EXPECT_EQ(Jarvis("doctor --gpu-layers -5").exit_code, 2);  // a usage error, as in run and bench
}

TEST(DoctorTest, MissingModelFailsWithExitOne) {
  JarvisRun r = Jarvis("doctor --model /nonexistent/model.gguf");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.out.find("fail   model"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("/nonexistent/model.gguf"), std::string::npos) << r.out;
  EXPECT_NE(r.err.find("failed check(s): model"), std::string::npos) << r.err;

  r = Jarvis("doctor --json --model /nonexistent/model.gguf");
  EXPECT_EQ(r.exit_code, 1);
  const json j = json::parse(r.out);
  EXPECT_EQ(FindCheck(j, "model")["status"], "fail");
  EXPECT_EQ(j["summary"]["fail"], 1);
  EXPECT_EQ(j["summary"]["status"], "fail");
}

}  // namespace
