// FP16 / BF16 conversions: hand-computed values, IEEE rounding ties, specials,
// and an exhaustive check of every half against an independent decoder.
#include "quant/fp16.h"

#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>

namespace jarvis {
namespace {

// Decodes a half from its fields with ldexp: independent of Fp16ToFp32's bit tricks.
double DecodeHalfReference(uint16_t h) {
  const int sign = (h >> 15) != 0 ? -1 : 1;
  const int exponent = (h >> 10) & 0x1f;
  const int mantissa = h & 0x3ff;
  if (exponent == 0) return sign * std::ldexp(mantissa, -24);
  if (exponent == 31) {
    return mantissa == 0 ? sign * std::numeric_limits<double>::infinity()
                         : std::numeric_limits<double>::quiet_NaN();
  }
  return sign * std::ldexp(1024 + mantissa, exponent - 25);
}

TEST(Fp16Test, KnownValues) {
  EXPECT_EQ(Fp32ToFp16(1.0f), 0x3c00);
  EXPECT_EQ(Fp32ToFp16(-2.5f), 0xc100);     // -1.25 * 2^1: sign, exponent 16, mantissa 0x100
  EXPECT_EQ(Fp32ToFp16(65504.0f), 0x7bff);  // largest finite half
  EXPECT_EQ(Fp32ToFp16(0.0f), 0x0000);
  EXPECT_EQ(Fp32ToFp16(-0.0f), 0x8000);
  EXPECT_EQ(Fp32ToFp16(0.5f), 0x3800);
  EXPECT_EQ(Fp32ToFp16(std::ldexp(1.0f, -14)), 0x0400);  // smallest normal

  EXPECT_EQ(Fp16ToFp32(0x3c00), 1.0f);
  EXPECT_EQ(Fp16ToFp32(0xc100), -2.5f);
  EXPECT_EQ(Fp16ToFp32(0x7bff), 65504.0f);
  EXPECT_EQ(Fp16ToFp32(0xfbff), -65504.0f);
  EXPECT_EQ(Fp16ToFp32(0x3555), 0.333251953125f);  // 1.0101010101b * 2^-2
  EXPECT_TRUE(std::signbit(Fp16ToFp32(0x8000)));
}

TEST(Fp16Test, Subnormals) {
  EXPECT_EQ(Fp32ToFp16(std::ldexp(1.0f, -24)), 0x0001);     // smallest subnormal
  EXPECT_EQ(Fp32ToFp16(std::ldexp(1023.0f, -24)), 0x03ff);  // largest subnormal
  EXPECT_EQ(Fp32ToFp16(std::ldexp(1.0f, -25)), 0x0000);     // tie between 0 and 1 unit -> even (0)
  EXPECT_EQ(Fp32ToFp16(std::ldexp(3.0f, -25)), 0x0002);     // tie between 1 and 2 units -> even (2)
  EXPECT_EQ(Fp32ToFp16(std::ldexp(5.0f, -25)), 0x0002);     // tie between 2 and 3 units -> even (2)
  EXPECT_EQ(Fp32ToFp16(std::nextafter(std::ldexp(1.0f, -25), 1.0f)), 0x0001);
  EXPECT_EQ(Fp32ToFp16(-std::ldexp(1.0f, -24)), 0x8001);
  EXPECT_EQ(Fp32ToFp16(1e-10f), 0x0000);
  EXPECT_EQ(Fp32ToFp16(std::ldexp(2047.0f, -25)), 0x0400);  // rounds up into the normals
  EXPECT_EQ(Fp16ToFp32(0x0001), std::ldexp(1.0f, -24));
  EXPECT_EQ(Fp16ToFp32(0x03ff), std::ldexp(1023.0f, -24));
}

TEST(Fp16Test, RoundingTiesToEven) {
  // Between 1 and 1 + 2^-10 (mantissa 0 and 1): the midpoint goes to 0 (even).
  EXPECT_EQ(Fp32ToFp16(1.0f + std::ldexp(1.0f, -11)), 0x3c00);
  // Between mantissa 1 and 2: the midpoint goes to 2.
  EXPECT_EQ(Fp32ToFp16(1.0f + std::ldexp(3.0f, -11)), 0x3c02);
  // Just above a midpoint rounds up, just below rounds down.
  EXPECT_EQ(Fp32ToFp16(1.0f + std::ldexp(1.0f, -11) + std::ldexp(1.0f, -20)), 0x3c01);
  EXPECT_EQ(Fp32ToFp16(1.0f + std::ldexp(1.0f, -11) - std::ldexp(1.0f, -20)), 0x3c00);
  // 2047.5 is between 2047 (0x67ff, odd) and 2048 (0x6800): goes to 2048.
  EXPECT_EQ(Fp32ToFp16(2047.5f), 0x6800);
}

TEST(Fp16Test, OverflowInfinityAndNan) {
  EXPECT_EQ(Fp32ToFp16(65519.0f), 0x7bff);  // below the midpoint to "65536"
  EXPECT_EQ(Fp32ToFp16(65520.0f), 0x7c00);  // the midpoint: ties to even = inf
  EXPECT_EQ(Fp32ToFp16(1e30f), 0x7c00);
  EXPECT_EQ(Fp32ToFp16(-1e30f), 0xfc00);
  EXPECT_EQ(Fp32ToFp16(std::numeric_limits<float>::infinity()), 0x7c00);
  EXPECT_EQ(Fp32ToFp16(-std::numeric_limits<float>::infinity()), 0xfc00);

  const uint16_t nan = Fp32ToFp16(std::numeric_limits<float>::quiet_NaN());
  EXPECT_EQ(nan & 0x7c00, 0x7c00);
  EXPECT_NE(nan & 0x03ff, 0);
  // A NaN whose payload lives only in the low bits must not become inf.
  const uint16_t low_payload = Fp32ToFp16(std::bit_cast<float>(0x7f800001u));
  EXPECT_NE(low_payload & 0x03ff, 0);
  EXPECT_TRUE(std::isnan(Fp16ToFp32(0x7e00)));
  EXPECT_TRUE(std::isinf(Fp16ToFp32(0x7c00)));
  EXPECT_TRUE(std::isinf(Fp16ToFp32(0xfc00)));
}

TEST(Fp16Test, EveryHalfDecodesAndRoundTrips) {
  for (uint32_t h = 0; h < 0x10000; ++h) {
    const auto half = static_cast<uint16_t>(h);
    const float f = Fp16ToFp32(half);
    const double expected = DecodeHalfReference(half);
    if (std::isnan(expected)) {
      ASSERT_TRUE(std::isnan(f)) << h;
      ASSERT_EQ(Fp32ToFp16(f) & 0x7c00, 0x7c00) << h;
      ASSERT_NE(Fp32ToFp16(f) & 0x03ff, 0) << h;
      continue;
    }
    ASSERT_EQ(static_cast<double>(f), expected) << h;
    ASSERT_EQ(Fp32ToFp16(f), half) << h;
  }
}

TEST(Fp16Test, RandomFloatsRoundToNearestHalf) {
  // Property check: the chosen half is at least as close as both neighbours,
  // and on an exact tie it has an even mantissa.
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> exponent(-26.0f, 16.5f);
  for (int i = 0; i < 200000; ++i) {
    const float f = std::exp2(exponent(rng)) * ((rng() & 1) != 0 ? -1.0f : 1.0f);
    const uint16_t h = Fp32ToFp16(f);
    if ((h & 0x7fff) == 0x7c00) {
      ASSERT_GE(std::fabs(f), 65520.0f) << f;
      continue;
    }
    const double err = std::fabs(DecodeHalfReference(h) - f);
    for (int delta : {-1, 1}) {
      const uint16_t mag = static_cast<uint16_t>((h & 0x7fff) + delta);
      if ((h & 0x7fff) == 0 && delta < 0) continue;
      if (mag >= 0x7c00) continue;
      const double other =
          std::fabs(DecodeHalfReference(static_cast<uint16_t>((h & 0x8000) | mag)) - f);
      ASSERT_LE(err, other) << f;
      if (err == other) {
        ASSERT_EQ(h & 1, 0) << f;
      }
    }
  }
}

TEST(Bf16Test, KnownValuesAndRounding) {
  EXPECT_EQ(Fp32ToBf16(1.0f), 0x3f80);
  EXPECT_EQ(Fp32ToBf16(-2.5f), 0xc020);
  EXPECT_EQ(Fp32ToBf16(0.0f), 0x0000);
  EXPECT_EQ(Fp32ToBf16(-0.0f), 0x8000);
  EXPECT_EQ(Bf16ToFp32(0x3f80), 1.0f);
  EXPECT_EQ(Bf16ToFp32(0xc020), -2.5f);
  // 1 + 2^-8 is the midpoint of 0x3f80 and 0x3f81: ties to even.
  EXPECT_EQ(Fp32ToBf16(1.0f + std::ldexp(1.0f, -8)), 0x3f80);
  EXPECT_EQ(Fp32ToBf16(1.0f + std::ldexp(3.0f, -8)), 0x3f82);
  EXPECT_EQ(Fp32ToBf16(1.0f + std::ldexp(1.0f, -8) + std::ldexp(1.0f, -20)), 0x3f81);
  // Largest float rounds up to inf; inf stays inf.
  EXPECT_EQ(Fp32ToBf16(std::numeric_limits<float>::max()), 0x7f80);
  EXPECT_EQ(Fp32ToBf16(std::numeric_limits<float>::infinity()), 0x7f80);
  EXPECT_EQ(Fp32ToBf16(-std::numeric_limits<float>::infinity()), 0xff80);
  // Subnormals keep their top bits.
  EXPECT_EQ(Fp32ToBf16(std::bit_cast<float>(0x00010000u)), 0x0001);
}

TEST(Bf16Test, NanIsPreserved) {
  for (uint32_t bits : {0x7fc00000u, 0x7f800001u, 0xff800001u, 0x7fffffffu}) {
    const uint16_t b = Fp32ToBf16(std::bit_cast<float>(bits));
    EXPECT_TRUE(std::isnan(Bf16ToFp32(b))) << std::hex << bits;
    EXPECT_EQ(b >> 15, bits >> 31) << "sign kept";
  }
}

TEST(Bf16Test, EveryBf16RoundTrips) {
  for (uint32_t b = 0; b < 0x10000; ++b) {
    const float f = Bf16ToFp32(static_cast<uint16_t>(b));
    ASSERT_EQ(std::bit_cast<uint32_t>(f), b << 16);
    if (!std::isnan(f)) {
      ASSERT_EQ(Fp32ToBf16(f), b);
    }
  }
}

}  // namespace
}  // namespace jarvis
