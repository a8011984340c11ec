// PlanGpuLayers with stand-in probes: the layer-count rules and which
// requests deserve a warning.
#include "gpu/gpu_layer_plan.h"

#include <gtest/gtest.h>

namespace jarvis {
namespace {

GpuProbe OneDeviceProbe() {
  GpuProbe p;
  p.cuda_built = true;
  p.devices.push_back(GpuDevice{0, "Test GPU", 9, 0, 80ull << 30, 70ull << 30});
  return p;
}

GpuProbe NoDeviceProbe() {
  GpuProbe p;
  p.cuda_built = true;
  p.unavailable_reason = "no CUDA device";
  return p;
}

TEST(PlanGpuLayersTest, ExplicitCounts) {
  const GpuProbe p = OneDeviceProbe();
  EXPECT_EQ(PlanGpuLayers(0, 32, p).gpu_layers, 0);
  EXPECT_EQ(PlanGpuLayers(-1, 32, p).gpu_layers, 32);
  EXPECT_EQ(PlanGpuLayers(5, 32, p).gpu_layers, 5);
  EXPECT_EQ(PlanGpuLayers(32, 32, p).gpu_layers, 32);
  EXPECT_EQ(PlanGpuLayers(-1, 0, p).gpu_layers, 0);
  const GpuLayerPlan five = PlanGpuLayers(5, 32, p);
  EXPECT_EQ(five.n_layer, 32);
  EXPECT_EQ(five.cpu_layers(), 27);  // layers 0-26 on the CPU, 27-31 on the GPU
  EXPECT_EQ(five.reason, "5/32 layers on the GPU");
  EXPECT_FALSE(five.warn);
  const GpuLayerPlan none = PlanGpuLayers(0, 32, p);
  EXPECT_EQ(none.cpu_layers(), 32);
  EXPECT_FALSE(none.warn);
}

// More layers than the model has means "all" (llama.cpp's -ngl 999), not an error.
TEST(PlanGpuLayersTest, TooManyIsClampedQuietly) {
  const GpuLayerPlan plan = PlanGpuLayers(99, 32, OneDeviceProbe());
  EXPECT_EQ(plan.gpu_layers, 32);
  EXPECT_EQ(plan.cpu_layers(), 0);
  EXPECT_FALSE(plan.warn);
  EXPECT_NE(plan.reason.find("clamped"), std::string::npos) << plan.reason;
}

TEST(PlanGpuLayersTest, InvalidCountRunsOnTheCpuWithAWarning) {
  for (int32_t bad : {kGpuLayersAuto - 1, -7, -1000}) {
    SCOPED_TRACE(bad);
    const GpuLayerPlan plan = PlanGpuLayers(bad, 32, OneDeviceProbe());
    EXPECT_EQ(plan.gpu_layers, 0);
    EXPECT_EQ(plan.cpu_layers(), 32);
    EXPECT_TRUE(plan.warn);
    EXPECT_NE(plan.reason.find("not valid"), std::string::npos) << plan.reason;
  }
}

TEST(PlanGpuLayersTest, OptionsCheck) {
  for (int32_t ok : {kGpuLayersAuto, -1, 0, 1, 1000}) EXPECT_TRUE(CheckGpuLayersRequest(ok).ok()) << ok;
  for (int32_t bad : {kGpuLayersAuto - 1, -100}) {
    EXPECT_EQ(CheckGpuLayersRequest(bad).code(), StatusCode::kInvalidArgument) << bad;
  }
}

// The default: every layer when a GPU is usable, quietly none otherwise.
TEST(PlanGpuLayersTest, AutoWithAndWithoutGpu) {
  const GpuLayerPlan gpu = PlanGpuLayers(kGpuLayersAuto, 16, OneDeviceProbe());
  EXPECT_EQ(gpu.gpu_layers, 16);
  EXPECT_FALSE(gpu.warn);
  const GpuLayerPlan cpu = PlanGpuLayers(kGpuLayersAuto, 16, NoDeviceProbe());
  EXPECT_EQ(cpu.gpu_layers, 0);
  EXPECT_EQ(cpu.cpu_layers(), 16);
  EXPECT_FALSE(cpu.warn);
  EXPECT_EQ(cpu.reason, "no GPU: no CUDA device");
}

// Asked for the GPU and there is none (or the build has no CUDA): the CPU, and a warning saying why.
TEST(PlanGpuLayersTest, ExplicitRequestWithoutGpuWarns) {
  for (int32_t asked : {-1, 8}) {
    SCOPED_TRACE(asked);
    const GpuLayerPlan plan = PlanGpuLayers(asked, 32, NoDeviceProbe());
    EXPECT_EQ(plan.gpu_layers, 0);
    EXPECT_TRUE(plan.warn);
    EXPECT_EQ(plan.reason, "no GPU: no CUDA device");
  }
  GpuProbe not_built = OneDeviceProbe();
  not_built.cuda_built = false;
  const GpuLayerPlan plan = PlanGpuLayers(8, 32, not_built);
  EXPECT_EQ(plan.gpu_layers, 0);
  EXPECT_TRUE(plan.warn);
  EXPECT_EQ(plan.reason, "no GPU: built without CUDA");
  EXPECT_FALSE(PlanGpuLayers(0, 32, not_built).warn);  // the CPU was asked for
}

// The load callback plans against the file's layer count and keeps the plan for the engine.
TEST(PlanGpuLayersTest, AtLoadStoresThePlan) {
  GpuLayerPlan plan;
  const auto cpu_layers = PlanGpuLayersAtLoad(0, &plan);
  EXPECT_EQ(cpu_layers(12), 12);
  EXPECT_EQ(plan.n_layer, 12);
  EXPECT_EQ(plan.gpu_layers, 0);
  // On this machine: whatever the probe says, the callback agrees with the plan.
  const auto auto_layers = PlanGpuLayersAtLoad(kGpuLayersAuto, &plan);
  const int32_t on_cpu = auto_layers(6);
  EXPECT_EQ(plan.n_layer, 6);
  EXPECT_EQ(on_cpu, plan.cpu_layers());
  EXPECT_EQ(plan.gpu_layers, ProbeGpus().devices.empty() ? 0 : 6);
}

}  // namespace
}  // namespace jarvis
