// kernels/cuda/block_decode.h on the CPU: the decode math every CUDA matmul
// uses must reproduce quant/'s reference dequantization bit for bit, for every
// weight type, chunk by chunk (and the f16 conversion for every bit pattern).
#include "kernels/cuda/block_decode.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "quant/fp16.h"
#include "quant/quantize.h"

namespace jarvis {
namespace {

using DecodeFn = void (*)(const uint8_t*, int64_t, int, float*);

DecodeFn DecoderFor(GgmlType type) {
  switch (type) {
    case GgmlType::kF32: return cuda::DecodeChunk<GgmlType::kF32>;
    case GgmlType::kF16: return cuda::DecodeChunk<GgmlType::kF16>;
    case GgmlType::kBF16: return cuda::DecodeChunk<GgmlType::kBF16>;
    case GgmlType::kQ4_0: return cuda::DecodeChunk<GgmlType::kQ4_0>;
    case GgmlType::kQ4_1: return cuda::DecodeChunk<GgmlType::kQ4_1>;
    case GgmlType::kQ5_0: return cuda::DecodeChunk<GgmlType::kQ5_0>;
    case GgmlType::kQ5_1: return cuda::DecodeChunk<GgmlType::kQ5_1>;
    case GgmlType::kQ8_0: return cuda::DecodeChunk<GgmlType::kQ8_0>;
    case GgmlType::kQ4_K: return cuda::DecodeChunk<GgmlType::kQ4_K>;
    case GgmlType::kQ5_K: return cuda::DecodeChunk<GgmlType::kQ5_K>;
    case GgmlType::kQ6_K: return cuda::DecodeChunk<GgmlType::kQ6_K>;
    default: return nullptr;
  }
}

class BlockDecodeTest : public ::testing::TestWithParam<GgmlType> {};

// Random rows (varied magnitudes per 32-value group, so that scales and mins
// differ between sub-blocks) quantized by quant/, then decoded both ways.
TEST_P(BlockDecodeTest, MatchesReferenceDequantization) {
  const GgmlType type = GetParam();
  const DecodeFn decode = DecoderFor(type);
  ASSERT_NE(decode, nullptr);
  constexpr int64_t kCols = 1024;  // 4 super-blocks, 32 chunks
  std::mt19937 rng(static_cast<uint32_t>(type) * 7919u + 1u);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::uniform_real_distribution<float> magnitude(0.01f, 4.0f);
  for (int trial = 0; trial < 8; ++trial) {
    std::vector<float> values(kCols);
    for (int64_t g = 0; g < kCols / 32; ++g) {
      const float m = magnitude(rng);
      const float offset = trial % 2 == 0 ? 0.0f : m * 0.5f;  // asymmetric rows exercise the mins
      for (int i = 0; i < 32; ++i) values[static_cast<size_t>(32 * g + i)] = normal(rng) * m + offset;
    }
    std::vector<uint8_t> row(RowSize(type, kCols));
    ASSERT_TRUE(QuantizeRow(type, values.data(), row.data(), kCols).ok());
    std::vector<float> expected(kCols);
    ASSERT_TRUE(DequantizeRow(type, row.data(), expected.data(), kCols).ok());
    for (int64_t c = 0; c < kCols / 32; ++c) {
      float got[32];
      decode(row.data(), c, 32, got);
      for (int i = 0; i < 32; ++i) {
        const float want = expected[static_cast<size_t>(32 * c + i)];
        ASSERT_EQ(std::memcmp(&got[i], &want, sizeof(float)), 0)
            << TypeName(type) << " trial " << trial << " chunk " << c << " value " << i << ": " << got[i]
            << " vs " << want;
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(AllGpuTypes, BlockDecodeTest,
                         ::testing::Values(GgmlType::kF32, GgmlType::kF16, GgmlType::kBF16, GgmlType::kQ4_0,
                                           GgmlType::kQ4_1, GgmlType::kQ5_0, GgmlType::kQ5_1, GgmlType::kQ8_0,
                                           GgmlType::kQ4_K, GgmlType::kQ5_K, GgmlType::kQ6_K),
                         [](const auto& param_info) { return std::string(TypeName(param_info.param)); });

// A float row whose length is not a multiple of 32 (stories260K's n_ff = 172):
// the last chunk has n_valid values and zeros after them.
TEST(BlockDecodePartialChunkTest, FloatTail) {
  std::vector<float> values(40);
  for (size_t i = 0; i < values.size(); ++i) values[i] = 0.25f * static_cast<float>(i) - 3.0f;
  float got[32];
  cuda::DecodeChunk<GgmlType::kF32>(reinterpret_cast<const uint8_t*>(values.data()), 1, 8, got);
  for (int i = 0; i < 32; ++i) EXPECT_EQ(got[i], i < 8 ? values[static_cast<size_t>(32 + i)] : 0.0f) << i;
  std::vector<uint16_t> halves(values.size());
  for (size_t i = 0; i < values.size(); ++i) halves[i] = Fp32ToFp16(values[i]);
  cuda::DecodeChunk<GgmlType::kF16>(reinterpret_cast<const uint8_t*>(halves.data()), 1, 8, got);
  for (int i = 0; i < 32; ++i) EXPECT_EQ(got[i], i < 8 ? values[static_cast<size_t>(32 + i)] : 0.0f) << i;
}

TEST(BlockDecodeHalfTest, EveryBitPatternMatchesFp16ToFp32) {
  for (uint32_t h = 0; h <= 0xffffu; ++h) {
    const float got = cuda::HalfToFloat(static_cast<uint16_t>(h));
    const float want = Fp16ToFp32(static_cast<uint16_t>(h));
    ASSERT_EQ(std::memcmp(&got, &want, sizeof(float)), 0) << std::hex << h;
    const float bgot = cuda::Bf16ToFloat(static_cast<uint16_t>(h));
    const float bwant = Bf16ToFp32(static_cast<uint16_t>(h));
    ASSERT_EQ(std::memcmp(&bgot, &bwant, sizeof(float)), 0) << std::hex << h;
  }
}

TEST(BlockDecodeScaleTest, ScaleMinK4MatchesUnpackScaleMinK4) {
  std::mt19937 rng(3);
  for (int trial = 0; trial < 100; ++trial) {
    uint8_t packed[kKScaleBytes];
    for (uint8_t& b : packed) b = static_cast<uint8_t>(rng());
    for (int j = 0; j < 8; ++j) {
      uint8_t want_sc = 0;
      uint8_t want_mn = 0;
      UnpackScaleMinK4(j, packed, &want_sc, &want_mn);
      int sc = -1;
      int mn = -1;
      cuda::ScaleMinK4(j, packed, &sc, &mn);
      EXPECT_EQ(sc, want_sc);
      EXPECT_EQ(mn, want_mn);
    }
  }
}

}  // namespace
}  // namespace jarvis
