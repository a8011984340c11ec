// ExplainPlacement on fake device descriptions (no GPU needed): which layers
// go where, why, and whether they fit; MeasureFootprint against the tensor
// sizes the GGUF file itself lists.
#include "cli/gpu_placement.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>

#include "support/test_paths.h"

namespace jarvis::cli {
namespace {

constexpr uint64_t kMiB = uint64_t{1} << 20;
constexpr uint64_t kGiB = uint64_t{1} << 30;

GpuProbe H100(uint64_t free_bytes) {
  GpuProbe p;
  p.cuda_built = true;
  p.cuda_build_version = "13.0";
  p.driver_version = 13000;
  GpuDevice d;
  d.index = 0;
  d.name = "NVIDIA H100 80GB HBM3";
  d.compute_major = 9;
  d.memory_total_bytes = 80 * kGiB;
  d.memory_free_bytes = free_bytes;
  p.devices.push_back(d);
  return p;
}

ModelFootprint Llama8B() {
  ModelFootprint m;
  m.n_layer = 32;
  m.layer_bytes = 150 * kMiB;
  m.head_bytes = 300 * kMiB;
  m.kv_context = 4096;
  return m;
}

const GpuLayersRequest kDefault{-1, "default: all layers when a GPU is usable"};

TEST(GpuPlacementTest, NoCudaBuildRunsEverythingOnTheCpu) {
  GpuProbe none;
  const Placement p = ExplainPlacement(none, Llama8B(), kDefault);
  EXPECT_EQ(p.gpu_layers, 0);
  EXPECT_TRUE(p.fits);
  EXPECT_EQ(p.detail, "all 32 layers + output on the CPU: no GPU (built without CUDA)");
}

TEST(GpuPlacementTest, CudaBuildWithoutDeviceSaysWhy) {
  GpuProbe probe;
  probe.cuda_built = true;
  probe.unavailable_reason = "no CUDA device";
  const Placement p = ExplainPlacement(probe, Llama8B(), {16, "--gpu-layers 16"});
  EXPECT_EQ(p.gpu_layers, 0);
  EXPECT_EQ(p.detail, "all 32 layers + output on the CPU: no GPU (no CUDA device)");
}

TEST(GpuPlacementTest, AllLayersFitOnTheDevice) {
  const Placement p = ExplainPlacement(H100(79 * kGiB), Llama8B(), kDefault);
  EXPECT_EQ(p.gpu_layers, 32);
  EXPECT_TRUE(p.fits);
  EXPECT_EQ(p.need_bytes, 300 * kMiB + 32 * 150 * kMiB);
  EXPECT_EQ(p.detail,
            "32/32 layers + output on GPU 0 NVIDIA H100 80GB HBM3 (default: all layers when a GPU is usable; "
            "fits: 5.0 GiB (weights + KV of 4096 positions) of 79.0 GiB free)");
  EXPECT_TRUE(p.advice.empty());
}

TEST(GpuPlacementTest, PartialOffloadNamesTheCpuAndGpuLayers) {
  const Placement p = ExplainPlacement(H100(79 * kGiB), Llama8B(), {16, "--gpu-layers 16"});
  EXPECT_EQ(p.gpu_layers, 16);
  EXPECT_EQ(p.need_bytes, 300 * kMiB + 16 * 150 * kMiB);
  EXPECT_EQ(p.detail.rfind("layers 0-15 on the CPU, layers 16-31 + output on GPU 0 NVIDIA H100 80GB HBM3 "
                           "(--gpu-layers 16; fits: ",
                           0),
            0u)
      << p.detail;
  const Placement one = ExplainPlacement(H100(79 * kGiB), Llama8B(), {31, "JARVIS_GPU_LAYERS=31"});
  EXPECT_EQ(one.detail.rfind("layer 0 on the CPU, layers 1-31 + output on GPU 0", 0), 0u) << one.detail;
  const Placement last = ExplainPlacement(H100(79 * kGiB), Llama8B(), {1, "--gpu-layers 1"});
  EXPECT_EQ(last.detail.rfind("layers 0-30 on the CPU, layer 31 + output on GPU 0", 0), 0u) << last.detail;
}

TEST(GpuPlacementTest, ZeroOrTooManyLayers) {
  const Placement cpu = ExplainPlacement(H100(79 * kGiB), Llama8B(), {0, "--gpu-layers 0"});
  EXPECT_EQ(cpu.gpu_layers, 0);
  EXPECT_EQ(cpu.detail, "all 32 layers + output on the CPU: --gpu-layers 0");
  const Placement clamped = ExplainPlacement(H100(79 * kGiB), Llama8B(), {99, "--gpu-layers 99"});
  EXPECT_EQ(clamped.gpu_layers, 32);
  EXPECT_EQ(clamped.detail.rfind("32/32 layers + output on GPU 0", 0), 0u) << clamped.detail;
}

TEST(GpuPlacementTest, TooLittleFreeMemorySaysWhatFits) {
  // 2 GiB free: (2048 - 300) / 150 = 11 layers fit beside the head.
  const Placement p = ExplainPlacement(H100(2 * kGiB), Llama8B(), kDefault);
  EXPECT_EQ(p.gpu_layers, 32);
  EXPECT_FALSE(p.fits);
  EXPECT_NE(p.detail.find("would not fit: 5.0 GiB"), std::string::npos) << p.detail;
  EXPECT_NE(p.detail.find("of 2.0 GiB free; the load falls back to the CPU"), std::string::npos) << p.detail;
  EXPECT_EQ(p.advice, "offload what fits: --gpu-layers 11 (or JARVIS_GPU_LAYERS), or free GPU memory");
  const Placement none = ExplainPlacement(H100(100 * kMiB), Llama8B(), kDefault);
  EXPECT_FALSE(none.fits);
  EXPECT_EQ(none.advice, "free GPU memory, or run on the CPU (--gpu-layers 0)");
}

// The footprint against the tensor byte counts the GGUF lists (stories260K:
// F32, 5 layers, n_embd 64, 4 KV heads of 8, training context 512).
TEST(GpuPlacementTest, FootprintOfStories260K) {
  auto m = Model::Load(test::StoriesModelPath());
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  const ModelFootprint f = MeasureFootprint(**m);
  const HParams& hp = (*m)->hparams();
  EXPECT_EQ(f.n_layer, hp.n_layer);
  EXPECT_EQ(f.kv_context, std::min(hp.n_ctx_train, 4096));
  uint64_t layer0 = 0;
  uint64_t head = 0;
  for (const GgufTensorInfo& t : (*m)->gguf().tensors()) {
    const std::string name(t.name);
    if (name.rfind("blk.0.", 0) == 0) layer0 += t.n_bytes;
    if (name == "output_norm.weight" || name == "output.weight") head += t.n_bytes;
  }
  // Tied embeddings: the head multiplies by token_embd.
  if ((*m)->gguf().FindTensor("output.weight") == nullptr) head += (*m)->gguf().FindTensor("token_embd.weight")->n_bytes;
  const uint64_t kv = 2 * static_cast<uint64_t>(f.kv_context) * static_cast<uint64_t>(hp.n_embd_kv()) * 2;
  EXPECT_EQ(f.layer_bytes, layer0 + kv);
  EXPECT_EQ(f.head_bytes, head);
}

}  // namespace
}  // namespace jarvis::cli
