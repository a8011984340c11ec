// The registry of the weight types jarvis computes with: one entry per type.
//
// Block size and bytes come from GgmlTypeTraits (quant/ggml_type.h, every
// GGUF id); this table adds what the engine does with a type:
//   - the reference row quantizer / dequantizer (quant/quantize.h), the
//     definition of "correct" every kernel is tested against;
//   - `matmul`: a weight type of the CPU matmul (reference path, and the
//     AVX2 / AVX-512 fast paths of kernels/cpu/matmul_entry_impl.h);
//   - `acts`: the int8 activation block the fast paths quantize the input
//     to (none: the float kernels; 32: legacy blocks; 256: K super-blocks);
//   - `packed`: has a lane-interleaved layout (kernels/cpu/weight_pack.h);
//   - `amx`: has AMX tile kernels (kernels/cpu/matmul_amx.cpp);
//   - `cuda`: has a CUDA matmul (kernels/cuda/matmul.cu);
//   - `file_type`: the llama.cpp file type of a file of only this type (or of
//     the nearest llama.cpp mix: pure q3_k is labelled Q3_K_S); the matmul
//     types with one are the targets of `jarvis synth` (cli/synth_recipe).
// Each of those places derives its type set from here, and static_asserts or
// tests (quant_types_test.cpp, kernels/cpu/kernel_types_test.cpp) check
// that its kernels match (CUDA, compiled as C++17 by nvcc, keeps its own
// switch, checked by gpu/cuda_types_test.cpp). Adding a type = one entry +
// its kernels.
#pragma once

#include <cstdint>

#include "quant/ggml_type.h"
#include "quant/quantize.h"

namespace jarvis {

// Int8 activation block of the fast CPU paths.
enum class Int8Acts : uint16_t { kNone = 0, kBlock32 = 32, kBlock256 = 256 };

using QuantizeRowFn = void (*)(const float* src, void* dst, int64_t n);
using DequantizeRowFn = void (*)(const void* src, float* dst, int64_t n);

struct QuantType {
  GgmlType type;
  QuantizeRowFn quantize;      // reference, n a multiple of the block size
  DequantizeRowFn dequantize;  // reference, n a multiple of the block size
  bool matmul;                 // CPU matmul weight type (reference + AVX2 + AVX-512)
  Int8Acts acts;               // int8 activation block of the fast paths (matmul types)
  bool packed;                 // weight_pack.h layout
  bool amx;                    // AMX tile kernels (needs packed)
  bool cuda;                   // CUDA matmul kernel
  int16_t file_type;           // general.file_type of a file of only this type
                               // (llama.cpp's LLAMA_FTYPE; -1: none)
};

namespace quant_types_internal {
template <typename B, void (*F)(const float*, B*, int64_t)>
void Q(const float* src, void* dst, int64_t n) {
  F(src, static_cast<B*>(dst), n);
}
template <typename B, void (*F)(const B*, float*, int64_t)>
void D(const void* src, float* dst, int64_t n) {
  F(static_cast<const B*>(src), dst, n);
}
}  // namespace quant_types_internal

#define JARVIS_QT_BLOCK(B) \
  quant_types_internal::Q<Block##B, Quantize##B>, quant_types_internal::D<Block##B, Dequantize##B>

// Order: that of the lists in messages ("f32, f16, bf16, q8_0, ...").
// clang-format off
inline constexpr QuantType kQuantTypes[] = {
  //  type             quantize / dequantize                    matmul acts               packed amx    cuda   file_type
  {GgmlType::kF32,  QuantizeF32, DequantizeF32,                  true,  Int8Acts::kNone,     false, false, true,  0},
  {GgmlType::kF16,  QuantizeF16, DequantizeF16,                  true,  Int8Acts::kNone,     false, false, true,  1},
  {GgmlType::kBF16, QuantizeBF16, DequantizeBF16,                true,  Int8Acts::kNone,     false, false, true, 32},
  {GgmlType::kQ8_0, JARVIS_QT_BLOCK(Q8_0),                       true,  Int8Acts::kBlock32, true,  true,  true,  7},
  {GgmlType::kQ4_0, JARVIS_QT_BLOCK(Q4_0),                       true,  Int8Acts::kBlock32, true,  true,  true,  2},
  {GgmlType::kQ4_1, JARVIS_QT_BLOCK(Q4_1),                       true,  Int8Acts::kBlock32, true,  false, true,  3},
  {GgmlType::kQ5_0, JARVIS_QT_BLOCK(Q5_0),                       true,  Int8Acts::kBlock32, true,  false, true,  8},
  {GgmlType::kQ5_1, JARVIS_QT_BLOCK(Q5_1),                       true,  Int8Acts::kBlock32, true,  false, true,  9},
  {GgmlType::kQ8_1, JARVIS_QT_BLOCK(Q8_1),                       false, Int8Acts::kNone,     false, false, false, -1},
  {GgmlType::kQ4_K, JARVIS_QT_BLOCK(Q4_K),                       true,  Int8Acts::kBlock256, true,  true,  true, 14},
  {GgmlType::kQ5_K, JARVIS_QT_BLOCK(Q5_K),                       true,  Int8Acts::kBlock256, true,  true,  true, 16},
  {GgmlType::kQ6_K, JARVIS_QT_BLOCK(Q6_K),                       true,  Int8Acts::kBlock256, true,  true,  true, 18},
  {GgmlType::kQ3_K, JARVIS_QT_BLOCK(Q3_K),                       true,  Int8Acts::kBlock256, true,  false, false, 11},
  {GgmlType::kQ2_K, JARVIS_QT_BLOCK(Q2_K),                       true,  Int8Acts::kBlock256, true,  false, false, 10},
  {GgmlType::kIQ4_NL, JARVIS_QT_BLOCK(IQ4_NL),                   true,  Int8Acts::kBlock32,  true,  false, false, 25},
  {GgmlType::kIQ4_XS, JARVIS_QT_BLOCK(IQ4_XS),                   true,  Int8Acts::kBlock256, true,  false, false, 30},
  {GgmlType::kQ8_K, JARVIS_QT_BLOCK(Q8_K),                       false, Int8Acts::kNone,     false, false, false, -1},
};
// clang-format on
#undef JARVIS_QT_BLOCK

// The entry of `type`, or nullptr when jarvis cannot quantize it.
constexpr const QuantType* FindQuantType(GgmlType type) {
  for (const QuantType& q : kQuantTypes) {
    if (q.type == type) return &q;
  }
  return nullptr;
}

constexpr bool IsMatMulType(GgmlType type) {
  const QuantType* q = FindQuantType(type);
  return q != nullptr && q->matmul;
}
// The int8 activation block of a matmul weight type (kNone: float kernels).
constexpr Int8Acts Int8ActsOf(GgmlType type) {
  const QuantType* q = FindQuantType(type);
  return q != nullptr ? q->acts : Int8Acts::kNone;
}
constexpr bool IsPackedType(GgmlType type) {
  const QuantType* q = FindQuantType(type);
  return q != nullptr && q->packed;
}
constexpr bool IsAmxType(GgmlType type) {
  const QuantType* q = FindQuantType(type);
  return q != nullptr && q->amx;
}
constexpr bool IsCudaMatMulType(GgmlType type) {
  const QuantType* q = FindQuantType(type);
  return q != nullptr && q->cuda;
}

// True when `has` accepts exactly the entries whose `flag` is set: used by
// static_asserts that pin a kernel's own switch to the table, e.g.
//   static_assert(TableMatches(&QuantType::amx, AmxImplemented));
template <typename Has>
constexpr bool TableMatches(bool QuantType::*flag, Has has) {
  for (const QuantType& q : kQuantTypes) {
    if (q.*flag != has(q.type)) return false;
  }
  return true;
}

namespace quant_types_internal {
constexpr bool Consistent() {
  for (const QuantType& q : kQuantTypes) {
    if (q.acts != Int8Acts::kNone && !q.matmul) return false;  // int8 acts only feed a matmul
    if (q.packed && q.acts == Int8Acts::kNone) return false;    // packed layouts feed the int8 kernels
    if (q.amx && !q.packed) return false;                       // AMX reads the packed layout
  }
  return true;
}
static_assert(Consistent(), "kQuantTypes: inconsistent entry");
}  // namespace quant_types_internal

}  // namespace jarvis
