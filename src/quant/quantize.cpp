// Dispatch from a GgmlType to the per-format row functions, plus the three
// float formats (F32 copy, F16, BF16).
#include "quant/quantize.h"

#include <cstring>
#include <string>

#include "quant/fp16.h"

namespace jarvis {
namespace {

bool Supported(GgmlType type) {
  switch (type) {
    case GgmlType::kF32:
    case GgmlType::kF16:
    case GgmlType::kBF16:
    case GgmlType::kQ4_0:
    case GgmlType::kQ4_1:
    case GgmlType::kQ5_0:
    case GgmlType::kQ5_1:
    case GgmlType::kQ8_0:
    case GgmlType::kQ8_1:
    case GgmlType::kQ4_K:
    case GgmlType::kQ5_K:
    case GgmlType::kQ6_K:
    case GgmlType::kQ8_K: return true;
    default: return false;
  }
}

Status CheckArgs(GgmlType type, int64_t n, const char* what) {
  if (!Supported(type)) {
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

bool CanQuantize(GgmlType type) { return Supported(type); }
bool CanDequantize(GgmlType type) { return Supported(type); }

Status QuantizeRow(GgmlType type, const float* src, void* dst, int64_t n) {
  JARVIS_RETURN_IF_ERROR(CheckArgs(type, n, "quantize"));
  switch (type) {
    case GgmlType::kF32: std::memcpy(dst, src, static_cast<size_t>(n) * sizeof(float)); break;
    case GgmlType::kF16: {
      auto* out = static_cast<uint16_t*>(dst);
      for (int64_t i = 0; i < n; ++i) out[i] = Fp32ToFp16(src[i]);
      break;
    }
    case GgmlType::kBF16: {
      auto* out = static_cast<uint16_t*>(dst);
      for (int64_t i = 0; i < n; ++i) out[i] = Fp32ToBf16(src[i]);
      break;
    }
    case GgmlType::kQ4_0: QuantizeQ4_0(src, static_cast<BlockQ4_0*>(dst), n); break;
    case GgmlType::kQ4_1: QuantizeQ4_1(src, static_cast<BlockQ4_1*>(dst), n); break;
    case GgmlType::kQ5_0: QuantizeQ5_0(src, static_cast<BlockQ5_0*>(dst), n); break;
    case GgmlType::kQ5_1: QuantizeQ5_1(src, static_cast<BlockQ5_1*>(dst), n); break;
    case GgmlType::kQ8_0: QuantizeQ8_0(src, static_cast<BlockQ8_0*>(dst), n); break;
    case GgmlType::kQ8_1: QuantizeQ8_1(src, static_cast<BlockQ8_1*>(dst), n); break;
    case GgmlType::kQ4_K: QuantizeQ4_K(src, static_cast<BlockQ4_K*>(dst), n); break;
    case GgmlType::kQ5_K: QuantizeQ5_K(src, static_cast<BlockQ5_K*>(dst), n); break;
    case GgmlType::kQ6_K: QuantizeQ6_K(src, static_cast<BlockQ6_K*>(dst), n); break;
    case GgmlType::kQ8_K: QuantizeQ8_K(src, static_cast<BlockQ8_K*>(dst), n); break;
    default: return Status::Internal("QuantizeRow: unhandled type");
  }
  return Status::Ok();
}

Status DequantizeRow(GgmlType type, const void* src, float* dst, int64_t n) {
  JARVIS_RETURN_IF_ERROR(CheckArgs(type, n, "dequantize"));
  switch (type) {
    case GgmlType::kF32: std::memcpy(dst, src, static_cast<size_t>(n) * sizeof(float)); break;
    case GgmlType::kF16: {
      const auto* in = static_cast<const uint16_t*>(src);
      for (int64_t i = 0; i < n; ++i) dst[i] = Fp16ToFp32(in[i]);
      break;
    }
    case GgmlType::kBF16: {
      const auto* in = static_cast<const uint16_t*>(src);
      for (int64_t i = 0; i < n; ++i) dst[i] = Bf16ToFp32(in[i]);
      break;
    }
    case GgmlType::kQ4_0: DequantizeQ4_0(static_cast<const BlockQ4_0*>(src), dst, n); break;
    case GgmlType::kQ4_1: DequantizeQ4_1(static_cast<const BlockQ4_1*>(src), dst, n); break;
    case GgmlType::kQ5_0: DequantizeQ5_0(static_cast<const BlockQ5_0*>(src), dst, n); break;
    case GgmlType::kQ5_1: DequantizeQ5_1(static_cast<const BlockQ5_1*>(src), dst, n); break;
    case GgmlType::kQ8_0: DequantizeQ8_0(static_cast<const BlockQ8_0*>(src), dst, n); break;
    case GgmlType::kQ8_1: DequantizeQ8_1(static_cast<const BlockQ8_1*>(src), dst, n); break;
    case GgmlType::kQ4_K: DequantizeQ4_K(static_cast<const BlockQ4_K*>(src), dst, n); break;
    case GgmlType::kQ5_K: DequantizeQ5_K(static_cast<const BlockQ5_K*>(src), dst, n); break;
    case GgmlType::kQ6_K: DequantizeQ6_K(static_cast<const BlockQ6_K*>(src), dst, n); break;
    case GgmlType::kQ8_K: DequantizeQ8_K(static_cast<const BlockQ8_K*>(src), dst, n); break;
    default: return Status::Internal("DequantizeRow: unhandled type");
  }
  return Status::Ok();
}

}  // namespace jarvis
