// Scalar conversions between FP32 and the two 16-bit float formats found in GGUF
// files: IEEE 754 binary16 ("half", ggml F16 and every fp16 scale inside the
// quantized blocks) and bfloat16 (ggml BF16, the top half of an FP32).
//
// Narrowing rounds to nearest, ties to even, exactly as IEEE 754 specifies, so
// results do not depend on the CPU (no F16C needed). NaN stays NaN (quiet, with
// the sign and the top payload bits kept); values too large for a half become
// +-inf; values too small become signed zero or a half subnormal.
//
// All functions are pure and thread-safe.
#pragma once

#include <bit>
#include <cstdint>

namespace jarvis {

// ---- IEEE half -----------------------------------------------------------

inline float Fp16ToFp32(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
  const uint32_t exponent = (h >> 10) & 0x1fu;
  const uint32_t mantissa = h & 0x3ffu;
  if (exponent == 0) {
    // Zero or subnormal: mantissa * 2^-24, exact in FP32.
    const float magnitude = static_cast<float>(mantissa) * 0x1p-24f;
    return sign != 0 ? -magnitude : magnitude;
  }
  if (exponent == 0x1f) {  // inf (mantissa 0) or NaN (payload kept)
    return std::bit_cast<float>(sign | 0x7f800000u | (mantissa << 13));
  }
  // Normal: rebias the exponent from 15 to 127.
  return std::bit_cast<float>(sign | ((exponent + 112u) << 23) | (mantissa << 13));
}

inline uint16_t Fp32ToFp16(float f) {
  const uint32_t bits = std::bit_cast<uint32_t>(f);
  const auto sign = static_cast<uint16_t>((bits >> 16) & 0x8000u);
  const uint32_t abs = bits & 0x7fffffffu;

  if (abs >= 0x7f800000u) {  // inf or NaN
    if (abs == 0x7f800000u) return sign | 0x7c00u;
    return static_cast<uint16_t>(sign | 0x7e00u | ((abs >> 13) & 0x3ffu));  // quiet NaN
  }
  // 65520 = 65504 + half an ulp: from there on, round-to-nearest-even gives inf.
  if (abs >= 0x477ff000u) return sign | 0x7c00u;

  if (abs < 0x38800000u) {  // below 2^-14: half subnormal or zero
    // Below 2^-25 everything rounds to zero (2^-25 itself is a tie -> even -> 0).
    if (abs < 0x33000000u) return sign;
    // value = m * 2^(e - 150) with the implicit bit in m; as a half subnormal it
    // is (m >> shift) units of 2^-24, shift = 126 - e (14..24).
    const uint32_t e = abs >> 23;
    const uint32_t m = (abs & 0x7fffffu) | 0x800000u;
    const uint32_t shift = 126u - e;
    uint32_t result = m >> shift;
    const uint32_t rest = m & ((1u << shift) - 1u);
    const uint32_t half = 1u << (shift - 1u);
    if (rest > half || (rest == half && (result & 1u) != 0)) ++result;  // may carry to 0x400: fine
    return static_cast<uint16_t>(sign | result);
  }

  // Normal: rebias 127 -> 15 (subtract 112 << 23), drop 13 mantissa bits, round.
  uint32_t result = (abs - 0x38000000u) >> 13;
  const uint32_t rest = abs & 0x1fffu;
  if (rest > 0x1000u || (rest == 0x1000u && (result & 1u) != 0))
    ++result;  // carry may bump exponent
  return static_cast<uint16_t>(sign | result);
}

// ---- bfloat16 ------------------------------------------------------------

inline float Bf16ToFp32(uint16_t b) { return std::bit_cast<float>(static_cast<uint32_t>(b) << 16); }

inline uint16_t Fp32ToBf16(float f) {
  const uint32_t bits = std::bit_cast<uint32_t>(f);
  if ((bits & 0x7fffffffu) > 0x7f800000u) {
    // NaN: truncating could clear every payload bit left and make it inf, so
    // force the quiet bit.
    return static_cast<uint16_t>((bits >> 16) | 0x0040u);
  }
  // Round to nearest even on the 16 dropped bits; overflow correctly reaches inf.
  const uint32_t rounding = 0x7fffu + ((bits >> 16) & 1u);
  return static_cast<uint16_t>((bits + rounding) >> 16);
}

}  // namespace jarvis
