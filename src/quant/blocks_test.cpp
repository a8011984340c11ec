// Block layouts: sizes, and dequantization of blocks assembled byte by byte,
// checked against values worked out from the documented formulas.
//
// Expected values are derived per output index (which byte, which bits hold
// value e?), the opposite direction from the dequantizers, which walk the
// bytes. The fp16 constants are exact: 0x3c00 = 1.0, 0x3800 = 0.5,
// 0x3400 = 0.25, 0xb800 = -0.5, 0x4000 = 2.0.
#include "quant/blocks.h"

#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "quant/quantize.h"

namespace jarvis {
namespace {

constexpr uint16_t kHalfOne = 0x3c00;
constexpr uint16_t kHalfHalf = 0x3800;
constexpr uint16_t kHalfQuarter = 0x3400;
constexpr uint16_t kHalfMinusHalf = 0xb800;
constexpr uint16_t kHalfTwo = 0x4000;

template <typename Block>
std::vector<float> Decode(GgmlType type, const Block& block) {
  const int64_t n = TypeTraits(type).block_size;
  std::vector<float> out(static_cast<size_t>(n));
  EXPECT_TRUE(DequantizeRow(type, &block, out.data(), n).ok());
  return out;
}

TEST(BlocksTest, SizesMatchTypeTable) {
  EXPECT_TRUE(BlockSizesMatchTypeTable());
  EXPECT_EQ(TypeTraits(GgmlType::kQ4_K).type_size, sizeof(BlockQ4_K));
  EXPECT_EQ(TypeTraits(GgmlType::kQ6_K).type_size, sizeof(BlockQ6_K));
  EXPECT_EQ(TypeTraits(GgmlType::kQ8_K).type_size, sizeof(BlockQ8_K));
  EXPECT_EQ(TypeTraits(GgmlType::kQ4_0).block_size, kQK);
  EXPECT_EQ(TypeTraits(GgmlType::kQ5_K).block_size, kQKK);
}

TEST(BlocksTest, Q4_0) {
  BlockQ4_0 b;
  b.d = kHalfHalf;
  for (int j = 0; j < 16; ++j) b.qs[j] = static_cast<uint8_t>(j | ((15 - j) << 4));
  const auto y = Decode(GgmlType::kQ4_0, b);
  for (int e = 0; e < 32; ++e) {
    const int q = e < 16 ? e : 15 - (e - 16);  // value e+16 sits in the high nibble of byte e
    EXPECT_EQ(y[e], 0.5f * (q - 8)) << e;
  }
}

TEST(BlocksTest, Q4_1) {
  BlockQ4_1 b;
  b.d = kHalfQuarter;
  b.m = kHalfMinusHalf;
  for (int j = 0; j < 16; ++j) b.qs[j] = static_cast<uint8_t>((j * 7 % 16) | ((j * 3 % 16) << 4));
  const auto y = Decode(GgmlType::kQ4_1, b);
  for (int e = 0; e < 32; ++e) {
    const int q = e < 16 ? e * 7 % 16 : (e - 16) * 3 % 16;
    EXPECT_EQ(y[e], 0.25f * q - 0.5f) << e;
  }
}

TEST(BlocksTest, Q5_0) {
  BlockQ5_0 b;
  b.d = kHalfTwo;
  const uint32_t high_bits = 0xA5C3F00Fu;  // bit e = fifth bit of value e
  std::memcpy(b.qh, &high_bits, 4);        // little-endian host, as the file format
  for (int j = 0; j < 16; ++j) b.qs[j] = static_cast<uint8_t>(((j + 3) % 16) | ((j ^ 5) << 4));
  const auto y = Decode(GgmlType::kQ5_0, b);
  for (int e = 0; e < 32; ++e) {
    const int low = e < 16 ? (e + 3) % 16 : ((e - 16) ^ 5);
    const int q = low + 16 * static_cast<int>((high_bits >> e) & 1);
    EXPECT_EQ(y[e], 2.0f * (q - 16)) << e;
  }
}

TEST(BlocksTest, Q5_1) {
  BlockQ5_1 b;
  b.d = kHalfHalf;
  b.m = kHalfOne;
  const uint32_t high_bits = 0x0F0F3C3Cu;
  std::memcpy(b.qh, &high_bits, 4);
  for (int j = 0; j < 16; ++j) b.qs[j] = static_cast<uint8_t>((15 - j) | (j << 4));
  const auto y = Decode(GgmlType::kQ5_1, b);
  for (int e = 0; e < 32; ++e) {
    const int low = e < 16 ? 15 - e : e - 16;
    const int q = low + 16 * static_cast<int>((high_bits >> e) & 1);
    EXPECT_EQ(y[e], 0.5f * q + 1.0f) << e;
  }
}

TEST(BlocksTest, Q8_0AndQ8_1) {
  BlockQ8_0 b0;
  BlockQ8_1 b1;
  b0.d = b1.d = kHalfQuarter;
  b1.s = 0;
  for (int j = 0; j < 32; ++j) b0.qs[j] = b1.qs[j] = static_cast<int8_t>(j * 8 - 127);
  const auto y0 = Decode(GgmlType::kQ8_0, b0);
  const auto y1 = Decode(GgmlType::kQ8_1, b1);
  for (int e = 0; e < 32; ++e) {
    EXPECT_EQ(y0[e], 0.25f * (e * 8 - 127)) << e;
    EXPECT_EQ(y1[e], y0[e]) << e;
  }
}

// Scales {1,2,3,4,17,33,50,63} and mins {5,6,7,8,20,40,60,31} packed by hand:
//   bytes 0-3:  scale j | (scale j+4 >> 4) << 6   -> 1+64, 2+128, 3+192, 4+192
//   bytes 4-7:  min j   | (min j+4 >> 4) << 6     -> 5+64, 6+128, 7+192, 8+64
//   bytes 8-11: (scale j+4 & 15) | (min j+4 & 15) << 4 -> 1+64, 1+128, 2+192, 15+240
constexpr uint8_t kScales[8] = {1, 2, 3, 4, 17, 33, 50, 63};
constexpr uint8_t kMins[8] = {5, 6, 7, 8, 20, 40, 60, 31};
constexpr uint8_t kPacked[12] = {65, 130, 195, 196, 69, 134, 199, 72, 65, 129, 194, 255};

TEST(BlocksTest, ScaleMinPackingK4) {
  for (int j = 0; j < 8; ++j) {
    uint8_t sc = 0;
    uint8_t mn = 0;
    UnpackScaleMinK4(j, kPacked, &sc, &mn);
    EXPECT_EQ(sc, kScales[j]) << j;
    EXPECT_EQ(mn, kMins[j]) << j;
  }
  uint8_t packed[12];
  PackScalesMinsK4(kScales, kMins, packed);
  for (int i = 0; i < 12; ++i) EXPECT_EQ(packed[i], kPacked[i]) << i;
}

TEST(BlocksTest, Q4_K) {
  BlockQ4_K b;
  b.d = kHalfHalf;
  b.dmin = kHalfQuarter;
  std::memcpy(b.scales, kPacked, 12);
  for (int i = 0; i < 128; ++i) b.qs[i] = static_cast<uint8_t>((i % 16) | (((i / 3) % 16) << 4));
  const auto y = Decode(GgmlType::kQ4_K, b);
  for (int e = 0; e < 256; ++e) {
    const int sub = e / 32;                   // sub-block = scale/min index
    const int byte = 32 * (e / 64) + e % 32;  // 64 values share 32 bytes
    const bool high = (e % 64) >= 32;
    const int q = high ? (byte / 3) % 16 : byte % 16;
    EXPECT_EQ(y[e], 0.5f * kScales[sub] * q - 0.25f * kMins[sub]) << e;
  }
}

TEST(BlocksTest, Q5_K) {
  BlockQ5_K b;
  b.d = kHalfQuarter;
  b.dmin = kHalfOne;
  std::memcpy(b.scales, kPacked, 12);
  for (int i = 0; i < 128; ++i)
    b.qs[i] = static_cast<uint8_t>(((i * 5) % 16) | ((15 - i % 16) << 4));
  for (int i = 0; i < 32; ++i) b.qh[i] = static_cast<uint8_t>(i * 37 + 11);
  const auto y = Decode(GgmlType::kQ5_K, b);
  for (int e = 0; e < 256; ++e) {
    const int sub = e / 32;
    const int l = e % 32;
    const int byte = 32 * (e / 64) + l;
    const bool high = (e % 64) >= 32;
    const int low4 = high ? 15 - byte % 16 : (byte * 5) % 16;
    const int bit5 = (b.qh[l] >> sub) & 1;  // sub-block s uses bit s of qh[l]
    const int q = low4 + 16 * bit5;
    EXPECT_EQ(y[e], 0.25f * kScales[sub] * q - 1.0f * kMins[sub]) << e;
  }
}

TEST(BlocksTest, Q6_K) {
  BlockQ6_K b;
  b.d = kHalfQuarter;
  for (int i = 0; i < 128; ++i) b.ql[i] = static_cast<uint8_t>(i * 29 + 3);
  for (int i = 0; i < 64; ++i) b.qh[i] = static_cast<uint8_t>(i * 53 + 7);
  for (int i = 0; i < 16; ++i) b.scales[i] = static_cast<int8_t>(i * 17 - 128);
  const auto y = Decode(GgmlType::kQ6_K, b);
  for (int e = 0; e < 256; ++e) {
    const int half = e / 128;
    const int k = (e % 128) / 32;  // which quarter of the half
    const int l = e % 32;
    // Quarters 0 and 1 use the low nibbles of bytes l and 32+l, quarters 2
    // and 3 the high nibbles; qh byte l holds 2 bits per quarter.
    const uint8_t ql = b.ql[64 * half + 32 * (k % 2) + l];
    const int low4 = k < 2 ? (ql & 15) : (ql >> 4);
    const int high2 = (b.qh[32 * half + l] >> (2 * k)) & 3;
    const int q = low4 + 16 * high2 - 32;
    EXPECT_EQ(y[e], 0.25f * b.scales[e / 16] * q) << e;
  }
}

TEST(BlocksTest, Q8_K) {
  BlockQ8_K b{};
  b.d = 0.125f;
  for (int i = 0; i < 256; ++i) b.qs[i] = static_cast<int8_t>(i - 128);
  const auto y = Decode(GgmlType::kQ8_K, b);
  for (int e = 0; e < 256; ++e) EXPECT_EQ(y[e], 0.125f * (e - 128)) << e;
}

// Q3_K and Q2_K share the 2-bit packing: value e = 128h + 32k + l is bits
// 2k..2k+1 of qs byte 32h + l.
int TwoBits(const uint8_t* qs, int e) {
  const int h = e / 128, k = (e % 128) / 32, l = e % 32;
  return (qs[32 * h + l] >> (2 * k)) & 3;
}

TEST(BlocksTest, Q3_KScalePacking) {
  // Scale j: low 4 bits in byte j (j < 8) or the high nibble of byte j - 8;
  // high 2 bits in byte 8 + j % 4 at bit 2 * (j / 4).
  uint8_t packed[12];
  for (int i = 0; i < 12; ++i) packed[i] = static_cast<uint8_t>(i * 37 + 11);
  for (int j = 0; j < 16; ++j) {
    const int low = j < 8 ? packed[j] & 15 : packed[j - 8] >> 4;
    const int high = (packed[8 + j % 4] >> (2 * (j / 4))) & 3;
    EXPECT_EQ(UnpackScaleK3(j, packed), low + 16 * high) << j;
  }
  uint8_t scales[16];
  for (int j = 0; j < 16; ++j) scales[j] = static_cast<uint8_t>((j * 23 + 5) % 64);
  uint8_t repacked[12];
  PackScalesK3(scales, repacked);
  for (int j = 0; j < 16; ++j) EXPECT_EQ(UnpackScaleK3(j, repacked), scales[j]) << j;
}

TEST(BlocksTest, Q3_K) {
  BlockQ3_K b;
  b.d = kHalfQuarter;
  for (int i = 0; i < 32; ++i) b.hmask[i] = static_cast<uint8_t>(i * 71 + 13);
  for (int i = 0; i < 64; ++i) b.qs[i] = static_cast<uint8_t>(i * 29 + 3);
  for (int i = 0; i < 12; ++i) b.scales[i] = static_cast<uint8_t>(i * 41 + 7);
  const auto y = Decode(GgmlType::kQ3_K, b);
  for (int e = 0; e < 256; ++e) {
    // hmask byte e % 32, bit e / 32 (= 4h + k): set means q = low2, clear
    // means low2 - 4 (ggml subtracts 4 when the high bit is missing).
    const bool high = (b.hmask[e % 32] >> (e / 32)) & 1;
    const int q = TwoBits(b.qs, e) - (high ? 0 : 4);
    const int sc = UnpackScaleK3(e / 16, b.scales) - 32;
    EXPECT_EQ(y[e], 0.25f * static_cast<float>(sc) * static_cast<float>(q)) << e;
  }
}

TEST(BlocksTest, Q2_K) {
  BlockQ2_K b;
  b.d = kHalfQuarter;
  b.dmin = kHalfHalf;
  for (int i = 0; i < 16; ++i) b.scales[i] = static_cast<uint8_t>(i * 53 + 9);
  for (int i = 0; i < 64; ++i) b.qs[i] = static_cast<uint8_t>(i * 29 + 3);
  const auto y = Decode(GgmlType::kQ2_K, b);
  for (int e = 0; e < 256; ++e) {
    const uint8_t sc = b.scales[e / 16];  // scale low nibble, min high nibble
    EXPECT_EQ(y[e], 0.25f * (sc & 15) * TwoBits(b.qs, e) - 0.5f * (sc >> 4)) << e;
  }
}

TEST(BlocksTest, IQ4_NL) {
  // The grid, independently of blocks.h's copy: ggml's kvalues_iq4nl.
  const int kGrid[16] = {-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113};
  BlockIQ4_NL b;
  b.d = kHalfMinusHalf;
  for (int j = 0; j < 16; ++j) b.qs[j] = static_cast<uint8_t>(j * 37 + 5);
  const auto y = Decode(GgmlType::kIQ4_NL, b);
  for (int e = 0; e < 32; ++e) {
    const int index = e < 16 ? b.qs[e] & 15 : b.qs[e - 16] >> 4;
    EXPECT_EQ(y[e], -0.5f * kGrid[index]) << e;
  }
}

TEST(BlocksTest, IQ4_XS) {
  const int kGrid[16] = {-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113};
  BlockIQ4_XS b;
  b.d = kHalfQuarter;
  b.scales_h = 0xb4e1;
  for (int i = 0; i < 4; ++i) b.scales_l[i] = static_cast<uint8_t>(i * 67 + 19);
  for (int i = 0; i < 128; ++i) b.qs[i] = static_cast<uint8_t>(i * 29 + 3);
  const auto y = Decode(GgmlType::kIQ4_XS, b);
  for (int e = 0; e < 256; ++e) {
    const int j = e / 32;  // sub-block
    const int ls = ((b.scales_l[j / 2] >> (4 * (j % 2))) & 15) | (((b.scales_h >> (2 * j)) & 3) << 4);
    const int l = e % 32;  // packed as Q4_0 within the sub-block's 16 bytes
    const int index = l < 16 ? b.qs[16 * j + l] & 15 : b.qs[16 * j + l - 16] >> 4;
    EXPECT_EQ(y[e], 0.25f * static_cast<float>(ls - 32) * static_cast<float>(kGrid[index])) << e;
  }
}

TEST(BlocksTest, QuantizersWriteTheDocumentedLayout) {
  // Encode values that sit exactly on a Q4_0 grid and check the bytes.
  std::vector<float> x(32);
  for (int e = 0; e < 32; ++e) x[e] = -1.0f + 0.125f * static_cast<float>(e % 16);  // -1 .. 0.875
  BlockQ4_0 b;
  QuantizeQ4_0(x.data(), &b, 32);
  EXPECT_EQ(b.d, 0x3000);  // -1 maps to -8: d = 0.125
  for (int j = 0; j < 16; ++j) EXPECT_EQ(b.qs[j], j | (j << 4)) << j;

  // Q8_K of 0..255 - 128: max magnitude -128 -> -127.
  std::vector<float> v(256);
  for (int e = 0; e < 256; ++e) v[e] = static_cast<float>(e - 128);
  BlockQ8_K k;
  QuantizeQ8_K(v.data(), &k, 256);
  EXPECT_EQ(k.qs[0], -127);
  EXPECT_FLOAT_EQ(k.d, 128.0f / 127.0f);
}

}  // namespace
}  // namespace jarvis
