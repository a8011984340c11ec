// Block layouts of the quantized ggml types the engine computes with. They are
// byte-for-byte the layouts found in GGUF files written by llama.cpp (ggml's
// block_q4_0, block_q4_K, ...): little-endian, no padding, fp16 fields stored as
// raw IEEE half bits (convert with quant/fp16.h).
//
// Notation below: a row of n values is cut into blocks; x[i] is the i-th value
// of a block, q[i] its quantized integer, d a scale, m / dmin an offset.
//
// Legacy formats (32 values per block):
//   Q4_0  x = d * (q - 8),       q in 0..15
//   Q4_1  x = d * q + m,         q in 0..15
//   Q5_0  x = d * (q - 16),      q in 0..31
//   Q5_1  x = d * q + m,         q in 0..31
//   Q8_0  x = d * q,             q in -127..127
//   Q8_1  x = d * q, plus s = d * sum(q) for dot products
//   In the 4/5-bit formats byte j of qs holds value j in its low nibble and
//   value j + 16 in its high nibble; qh bit j is the 5th bit of value j.
//
// K formats (256 values per super-block):
//   Q4_K / Q5_K: 8 sub-blocks of 32, each with a 6-bit scale sc and 6-bit min mn:
//     x = d * sc * q - dmin * mn
//   Q6_K: 16 sub-blocks of 16, each with an int8 scale sc: x = d * sc * (q - 32)
//   Q8_K: x = d * q (FP32 d), used for activations in K dot products.
//   Q3_K: 16 sub-blocks of 16, each with a 6-bit scale sc (stored + 32):
//     x = d * (sc - 32) * (q - 4), q in 0..7 (2 low bits in qs, 1 in hmask)
//   Q2_K: 16 sub-blocks of 16, each with a 4-bit scale sc and 4-bit min mn:
//     x = d * sc * q - dmin * mn, q in 0..3
//   Q2_K and Q3_K share the 2-bit packing: per half h (128 values) 32 bytes;
//   bits 2k..2k+1 of byte l are value 128h + 32k + l (k = 0..3).
//
// Non-linear formats: q indexes the 16-entry table kIq4NlValues (int8):
//   IQ4_NL (32 values per block): x = d * kIq4NlValues[q]
//   IQ4_XS (256 per super-block): 8 sub-blocks of 32, each with a 6-bit scale
//     ls (stored + 32): x = d * (ls - 32) * kIq4NlValues[q]
//   Both pack nibbles as Q4_0 does, per block of 32 values.
//
// Thread safety: plain data.
#pragma once

#include <cstddef>
#include <cstdint>

#include "quant/ggml_type.h"

namespace jarvis {

inline constexpr int kQK = 32;           // values per block of the legacy formats
inline constexpr int kQKK = 256;         // values per super-block of the K formats
inline constexpr int kKScaleBytes = 12;  // packed 6-bit scales + mins of Q4_K / Q5_K

struct BlockQ4_0 {
  uint16_t d;           // fp16 scale
  uint8_t qs[kQK / 2];  // 4-bit quants: byte j = value j (low) | value j+16 (high)
};

struct BlockQ4_1 {
  uint16_t d;           // fp16 scale
  uint16_t m;           // fp16 offset (the block minimum)
  uint8_t qs[kQK / 2];  // 4-bit quants, same packing as Q4_0
};

struct BlockQ5_0 {
  uint16_t d;           // fp16 scale
  uint8_t qh[4];        // 32 fifth bits, little-endian u32: bit j belongs to value j
  uint8_t qs[kQK / 2];  // low 4 bits, same packing as Q4_0
};

struct BlockQ5_1 {
  uint16_t d;           // fp16 scale
  uint16_t m;           // fp16 offset (the block minimum)
  uint8_t qh[4];        // fifth bits, as in Q5_0
  uint8_t qs[kQK / 2];  // low 4 bits, as in Q4_0
};

struct BlockQ8_0 {
  uint16_t d;      // fp16 scale
  int8_t qs[kQK];  // quants, value j in byte j
};

struct BlockQ8_1 {
  uint16_t d;      // fp16 scale
  uint16_t s;      // fp16 of d * sum(qs), lets Q4_1/Q5_1 dots fold in the offset
  int8_t qs[kQK];  // quants
};

struct BlockQ4_K {
  uint16_t d;                    // fp16 super-scale of the sub-block scales
  uint16_t dmin;                 // fp16 super-scale of the sub-block mins
  uint8_t scales[kKScaleBytes];  // 8 scales + 8 mins, 6 bits each (see UnpackScaleMinK4)
  uint8_t qs[kQKK / 2];          // 4-bit quants: 4 chunks of 32 bytes; in chunk c byte l
                                 // holds value 64c+l (low nibble) and 64c+32+l (high)
};

struct BlockQ5_K {
  uint16_t d;                    // fp16 super-scale of the sub-block scales
  uint16_t dmin;                 // fp16 super-scale of the sub-block mins
  uint8_t scales[kKScaleBytes];  // as in Q4_K
  uint8_t qh[kQKK / 8];          // fifth bits: bit 2c of qh[l] -> value 64c+l,
                                 //             bit 2c+1     -> value 64c+32+l
  uint8_t qs[kQKK / 2];          // low 4 bits, packed as Q4_K's qs
};

struct BlockQ6_K {
  uint8_t ql[kQKK / 2];      // low 4 bits; per half h (128 values) 64 bytes: byte l (l<32)
                             // holds value 128h+l (low) and 128h+64+l (high), byte 32+l
                             // holds 128h+32+l (low) and 128h+96+l (high)
  uint8_t qh[kQKK / 4];      // high 2 bits; per half 32 bytes: bits 0-1, 2-3, 4-5, 6-7 of
                             // byte l are values 128h+l, +32, +64, +96
  int8_t scales[kQKK / 16];  // one signed 8-bit scale per 16 values
  uint16_t d;                // fp16 super-scale
};

struct BlockQ8_K {
  float d;                   // FP32 scale
  int8_t qs[kQKK];           // quants
  int16_t bsums[kQKK / 16];  // sum of each group of 16 quants
};

struct BlockQ3_K {
  uint8_t hmask[kQKK / 8];   // third bits: bit 4h+k of byte l -> value 128h + 32k + l
  uint8_t qs[kQKK / 4];      // low 2 bits, the 2-bit packing above
  uint8_t scales[kKScaleBytes];  // 16 scales of 6 bits (see UnpackScaleK3)
  uint16_t d;                // fp16 super-scale
};

struct BlockQ2_K {
  uint8_t scales[kQKK / 16];  // sub-block j: scale in the low nibble, min in the high
  uint8_t qs[kQKK / 4];       // 2-bit quants, the 2-bit packing above
  uint16_t d;                 // fp16 super-scale of the scales
  uint16_t dmin;              // fp16 super-scale of the mins
};

inline constexpr int kQK4NL = 32;  // values per IQ4_NL block

struct BlockIQ4_NL {
  uint16_t d;              // fp16 scale
  uint8_t qs[kQK4NL / 2];  // 4-bit table indices, packed as Q4_0
};

struct BlockIQ4_XS {
  uint16_t d;                // fp16 super-scale
  uint16_t scales_h;         // bits 2j..2j+1: the high 2 bits of sub-block j's scale
  uint8_t scales_l[kQKK / 64];  // nibble j (low nibble of byte j/2 first): its low 4 bits
  uint8_t qs[kQKK / 2];      // per sub-block j of 32 values, 16 bytes packed as Q4_0
};

// The non-linear 4-bit grid of IQ4_NL / IQ4_XS (ggml's kvalues_iq4nl):
// denser near 0, as the values of a weight row are.
inline constexpr int8_t kIq4NlValues[16] = {-127, -104, -83, -65, -49, -35, -22, -10,
                                            1,    13,   25,  38,  53,  69,  89,  113};

static_assert(sizeof(BlockQ4_0) == 18);
static_assert(sizeof(BlockQ4_1) == 20);
static_assert(sizeof(BlockQ5_0) == 22);
static_assert(sizeof(BlockQ5_1) == 24);
static_assert(sizeof(BlockQ8_0) == 34);
static_assert(sizeof(BlockQ8_1) == 36);
static_assert(sizeof(BlockQ4_K) == 144);
static_assert(sizeof(BlockQ5_K) == 176);
static_assert(sizeof(BlockQ6_K) == 210);
static_assert(sizeof(BlockQ8_K) == 292);
static_assert(sizeof(BlockQ3_K) == 110);
static_assert(sizeof(BlockQ2_K) == 84);
static_assert(sizeof(BlockIQ4_NL) == 18);
static_assert(sizeof(BlockIQ4_XS) == 136);

// The 12 scale bytes of Q4_K / Q5_K hold 8 six-bit scales and 8 six-bit mins:
//   j < 4:  scale j = low 6 bits of byte j,  min j = low 6 bits of byte j+4
//   j >= 4: scale j = low nibble of byte j+4 | (top 2 bits of byte j-4) << 4
//           min j   = high nibble of byte j+4 | (top 2 bits of byte j) << 4
inline void UnpackScaleMinK4(int j, const uint8_t* packed, uint8_t* scale, uint8_t* min) {
  if (j < 4) {
    *scale = packed[j] & 63;
    *min = packed[j + 4] & 63;
  } else {
    *scale = static_cast<uint8_t>((packed[j + 4] & 0x0f) | ((packed[j - 4] >> 6) << 4));
    *min = static_cast<uint8_t>((packed[j + 4] >> 4) | ((packed[j] >> 6) << 4));
  }
}

// Inverse of UnpackScaleMinK4. REQUIRES: every value < 64.
inline void PackScalesMinsK4(const uint8_t scales[8], const uint8_t mins[8],
                             uint8_t packed[kKScaleBytes]) {
  for (int j = 0; j < 4; ++j) {
    packed[j] = static_cast<uint8_t>((scales[j] & 63) | ((scales[j + 4] >> 4) << 6));
    packed[j + 4] = static_cast<uint8_t>((mins[j] & 63) | ((mins[j + 4] >> 4) << 6));
    packed[j + 8] = static_cast<uint8_t>((scales[j + 4] & 0x0f) | ((mins[j + 4] & 0x0f) << 4));
  }
}

// The 12 scale bytes of Q3_K hold 16 six-bit scales (stored + 32): the low
// nibble of scale j is byte j (j < 8, low nibble) or byte j - 8 (high nibble);
// its top 2 bits are bits 2(j/4)..2(j/4)+1 of byte 8 + j%4.
inline uint8_t UnpackScaleK3(int j, const uint8_t* packed) {
  const int low = j < 8 ? packed[j] & 0x0f : packed[j - 8] >> 4;
  const int high = (packed[8 + j % 4] >> (2 * (j / 4))) & 3;
  return static_cast<uint8_t>(low | (high << 4));
}

// Inverse of UnpackScaleK3. REQUIRES: every value < 64.
inline void PackScalesK3(const uint8_t scales[16], uint8_t packed[kKScaleBytes]) {
  for (int i = 0; i < kKScaleBytes; ++i) packed[i] = 0;
  for (int j = 0; j < 16; ++j) {
    const int low = scales[j] & 0x0f;
    packed[j % 8] = static_cast<uint8_t>(packed[j % 8] | (j < 8 ? low : low << 4));
    packed[8 + j % 4] = static_cast<uint8_t>(packed[8 + j % 4] | ((scales[j] >> 4) << (2 * (j / 4))));
  }
}

// Sizes must agree with the type table (ggml_type.cpp), which every layer uses.
inline bool BlockSizesMatchTypeTable() {
  return RowSize(GgmlType::kQ4_0, kQK) == sizeof(BlockQ4_0) &&
         RowSize(GgmlType::kQ4_1, kQK) == sizeof(BlockQ4_1) &&
         RowSize(GgmlType::kQ5_0, kQK) == sizeof(BlockQ5_0) &&
         RowSize(GgmlType::kQ5_1, kQK) == sizeof(BlockQ5_1) &&
         RowSize(GgmlType::kQ8_0, kQK) == sizeof(BlockQ8_0) &&
         RowSize(GgmlType::kQ8_1, kQK) == sizeof(BlockQ8_1) &&
         RowSize(GgmlType::kQ4_K, kQKK) == sizeof(BlockQ4_K) &&
         RowSize(GgmlType::kQ5_K, kQKK) == sizeof(BlockQ5_K) &&
         RowSize(GgmlType::kQ6_K, kQKK) == sizeof(BlockQ6_K) &&
         RowSize(GgmlType::kQ8_K, kQKK) == sizeof(BlockQ8_K) &&
         RowSize(GgmlType::kQ3_K, kQKK) == sizeof(BlockQ3_K) &&
         RowSize(GgmlType::kQ2_K, kQKK) == sizeof(BlockQ2_K) &&
         RowSize(GgmlType::kIQ4_NL, kQK4NL) == sizeof(BlockIQ4_NL) &&
         RowSize(GgmlType::kIQ4_XS, kQKK) == sizeof(BlockIQ4_XS);
}

}  // namespace jarvis
