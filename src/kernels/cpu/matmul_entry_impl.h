// The entry points every ISA exposes (declared in matmul_isa.h), included by
// each *_avx*.cpp inside its ISA namespace after the kernel bodies.
// (No #pragma once: included once per ISA.)

bool HasKernel(GgmlType type) {
  switch (type) {
    case GgmlType::kF32:
    case GgmlType::kF16:
    case GgmlType::kBF16:
    case GgmlType::kQ4_0:
    case GgmlType::kQ8_0:
    case GgmlType::kQ4_K:
    case GgmlType::kQ6_K:
    case GgmlType::kQ4_1:
    case GgmlType::kQ5_0:
    case GgmlType::kQ5_1:
    case GgmlType::kQ5_K:
      return true;
    default:
      return false;
  }
}

bool WantsInt8(GgmlType type) {
  return type != GgmlType::kF32 && type != GgmlType::kF16 && type != GgmlType::kBF16;
}

int64_t RowTile() { return kL; }

void QuantizeActs(GgmlType type, const float* x, int64_t t_begin, int64_t t_end, const QuantActs& out) {
  const int64_t cols = out.cols;
  for (int64_t t = t_begin; t < t_end; ++t) {
    if (out.block == 256) {
      QuantizeKRow(x + t * cols, cols, out.qs + t * cols, out.d + t * (cols / 256), out.sum16 + t * (cols / 16),
                   out.sum32 + t * (cols / 32));
    } else {
      QuantizeLegacyRow(x + t * cols, cols, LegacyZeroPoint(type), out.qs + t * cols, out.d + t * (cols / 32),
                        out.corr + t * (cols / 32));
    }
  }
}

size_t ScratchBytes(const MatMulArgs&) { return 0; }

void MatMulRows(const MatMulArgs& a, int64_t r_begin, int64_t r_end, uint8_t* /*scratch*/) {
  switch (a.type) {
    case GgmlType::kQ4_0:
      RunInt8Rows<KernelQ4_0>(a, r_begin, r_end);
      break;
    case GgmlType::kQ8_0:
      RunInt8Rows<KernelQ8_0>(a, r_begin, r_end);
      break;
    case GgmlType::kQ4_K:
      RunInt8Rows<KernelQ4_K>(a, r_begin, r_end);
      break;
    case GgmlType::kQ6_K:
      RunInt8Rows<KernelQ6_K>(a, r_begin, r_end);
      break;
    case GgmlType::kQ4_1:
      RunInt8Rows<KernelQ4_1>(a, r_begin, r_end);
      break;
    case GgmlType::kQ5_0:
      RunInt8Rows<KernelQ5_0>(a, r_begin, r_end);
      break;
    case GgmlType::kQ5_1:
      RunInt8Rows<KernelQ5_1>(a, r_begin, r_end);
      break;
    case GgmlType::kQ5_K:
      RunInt8Rows<KernelQ5_K>(a, r_begin, r_end);
      break;
    case GgmlType::kF32:
      RunFloatRows<LoadF32W>(a, r_begin, r_end);
      break;
    case GgmlType::kF16:
      RunFloatRows<LoadF16W>(a, r_begin, r_end);
      break;
    case GgmlType::kBF16:
      RunFloatRows<LoadBF16W>(a, r_begin, r_end);
      break;
    default:
      break;
  }
}
