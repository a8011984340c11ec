// Dispatch from a GgmlType to the per-format row functions through the
// registry (quant/quant_types.h), plus the three float formats.
#include "quant/quantize.h"

#include <cstring>
#include <string>

#include "quant/fp16.h"
#include "quant/quant_types.h"

namespace jarvis {

void QuantizeF32(const float* x, void* y, int64_t n) { std::memcpy(y, x, static_cast<size_t>(n) * sizeof(float)); }
void QuantizeF16(const float* x, void* y, int64_t n) {
  auto* out = static_cast<uint16_t*>(y);
  for (int64_t i = 0; i < n; ++i) out[i] = Fp32ToFp16(x[i]);
}
void QuantizeBF16(const float* x, void* y, int64_t n) {
  auto* out = static_cast<uint16_t*>(y);
  for (int64_t i = 0; i < n; ++i) out[i] = Fp32ToBf16(x[i]);
}
void DequantizeF32(const void* x, float* y, int64_t n) { std::memcpy(y, x, static_cast<size_t>(n) * sizeof(float)); }
void DequantizeF16(const void* x, float* y, int64_t n) {
  const auto* in = static_cast<const uint16_t*>(x);
  for (int64_t i = 0; i < n; ++i) y[i] = Fp16ToFp32(in[i]);
}
void DequantizeBF16(const void* x, float* y, int64_t n) {
  const auto* in = static_cast<const uint16_t*>(x);
  for (int64_t i = 0; i < n; ++i) y[i] = Bf16ToFp32(in[i]);
}

namespace {

Status CheckArgs(GgmlType type, int64_t n, const char* what) {
  if (FindQuantType(type) == nullptr) {
    return Status::Unsupported(std::string(what) + " to/from type " + TypeName(type) +
                               " is not implemented");
  }
  const int64_t block = TypeTraits(type).block_size;
  if (n < 0 || n % block != 0) {
    return Status::InvalidArgument(std::string(what) + " " + TypeName(type) + ": row length " +
                                   std::to_string(n) + " is not a multiple of the block size " +
                                   std::to_string(block));
  }
  return Status::Ok();
}

}  // namespace

bool CanQuantize(GgmlType type) { return FindQuantType(type) != nullptr; }
bool CanDequantize(GgmlType type) { return FindQuantType(type) != nullptr; }

Status QuantizeRow(GgmlType type, const float* src, void* dst, int64_t n) {
  JARVIS_RETURN_IF_ERROR(CheckArgs(type, n, "quantize"));
  if (const QuantType* q = FindQuantType(type)) q->quantize(src, dst, n);
  return Status::Ok();
}

Status DequantizeRow(GgmlType type, const void* src, float* dst, int64_t n) {
  JARVIS_RETURN_IF_ERROR(CheckArgs(type, n, "dequantize"));
  if (const QuantType* q = FindQuantType(type)) q->dequantize(src, dst, n);
  return Status::Ok();
}

}  // namespace jarvis
