// The GPU front door on any machine: probing and offload creation without a
// usable GPU give reasons and errors, never crashes. (The layer-count rules:
// gpu_layer_plan_test.cpp.)
#include "gpu/gpu_backend.h"
#include "gpu/gpu_layer_plan.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>

#include "model/model.h"
#include "support/test_paths.h"

namespace jarvis {
namespace {

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
    EXPECT_EQ(PlanGpuLayers(-1, 8).gpu_layers, 0);
  } else {
    for (const GpuDevice& d : p.devices) {
      EXPECT_FALSE(d.name.empty());
      EXPECT_GE(d.compute_major, 8);
      EXPECT_GT(d.memory_total_bytes, 0u);
    }
    EXPECT_EQ(PlanGpuLayers(-1, 8).gpu_layers, 8);
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
