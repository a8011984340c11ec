// The GPU front door on any machine: layer-count rules (with a stand-in
// probe), and that probing and offload creation without a usable GPU give
// reasons and errors, never crashes.
#include "gpu/gpu_backend.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>

#include "model/model.h"
#include "support/test_paths.h"

namespace jarvis {
namespace {

GpuProbe OneDeviceProbe() {
  GpuProbe p;
  p.cuda_built = true;
  p.devices.push_back(GpuDevice{0, "Test GPU", 9, 0, 80ull << 30, 70ull << 30});
  return p;
}

TEST(ResolveGpuLayersTest, ExplicitRequests) {
  const GpuProbe p = OneDeviceProbe();
  EXPECT_EQ(ResolveGpuLayers(0, 32, p), 0);
  EXPECT_EQ(ResolveGpuLayers(-1, 32, p), 32);
  EXPECT_EQ(ResolveGpuLayers(5, 32, p), 5);
  EXPECT_EQ(ResolveGpuLayers(32, 32, p), 32);
  EXPECT_EQ(ResolveGpuLayers(99, 32, p), 32);  // clamped
  EXPECT_EQ(ResolveGpuLayers(-7, 32, p), 0);   // invalid: nothing offloaded
  EXPECT_EQ(ResolveGpuLayers(-1, 0, p), 0);
}

TEST(ResolveGpuLayersTest, NoDeviceOrNotBuiltMeansZero) {
  GpuProbe none;
  none.cuda_built = true;
  none.unavailable_reason = "no CUDA device";
  EXPECT_EQ(ResolveGpuLayers(-1, 32, none), 0);
  GpuProbe not_built = OneDeviceProbe();
  not_built.cuda_built = false;
  EXPECT_EQ(ResolveGpuLayers(8, 32, not_built), 0);
}

// The default: every layer when a GPU is usable, none otherwise.
TEST(ResolveGpuLayersTest, AutoIsAllWhenUsable) {
  EXPECT_EQ(ResolveGpuLayers(kGpuLayersAuto, 16, OneDeviceProbe()), 16);
  GpuProbe none;
  none.cuda_built = true;
  EXPECT_EQ(ResolveGpuLayers(kGpuLayersAuto, 16, none), 0);
}

TEST(GpuProbeTest, ConsistentOnThisMachine) {
  const GpuProbe& p = ProbeGpus();
  EXPECT_EQ(&p, &ProbeGpus());  // cached
#if defined(JARVIS_HAVE_CUDA)
  EXPECT_TRUE(p.cuda_built);
  EXPECT_FALSE(p.cuda_build_version.empty());
#else
  EXPECT_FALSE(p.cuda_built);
#endif
  if (p.devices.empty()) {
    EXPECT_FALSE(p.unavailable_reason.empty());
    EXPECT_EQ(ResolveGpuLayers(-1, 8), 0);
  } else {
    for (const GpuDevice& d : p.devices) {
      EXPECT_FALSE(d.name.empty());
      EXPECT_GE(d.compute_major, 8);
      EXPECT_GT(d.memory_total_bytes, 0u);
    }
    EXPECT_EQ(ResolveGpuLayers(-1, 8), 8);
  }
  const std::string text = DescribeGpuBackend();
  std::printf("DescribeGpuBackend(): %s\n", text.c_str());
  EXPECT_EQ(text.rfind("cuda (", 0), 0u) << text;
  if (!p.cuda_built) {
    EXPECT_EQ(text, "cuda (not built)");
  } else if (p.devices.empty()) {
    EXPECT_NE(text.find(p.unavailable_reason), std::string::npos) << text;
  }
}

TEST(GpuOffloadTest, CreateFailsCleanlyWithoutDevice) {
  if (!ProbeGpus().devices.empty()) GTEST_SKIP() << "this machine has a GPU; cuda_offload_test covers it";
  auto model = Model::Load(test::StoriesModelPath());
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  const HParams& hp = (*model)->hparams();
  KvLayout layout;
  layout.n_layer = hp.n_layer;
  layout.n_embd_kv = hp.n_embd_kv();
  auto offload = CreateGpuOffload(**model, hp.n_layer, layout, 8, 32);
  ASSERT_FALSE(offload.ok());
  EXPECT_EQ(offload.status().code(), StatusCode::kUnsupported) << offload.status().ToString();
  EXPECT_FALSE(offload.status().message().empty());
}

}  // namespace
}  // namespace jarvis
