// The entry points every ISA exposes (declared in matmul_isa.h), included by
// each *_avx*.cpp inside its ISA namespace after the kernel bodies.
// (No #pragma once: included once per ISA.)

// The types come from the registry (quant/quant_types.h); MatMulRows below
// must have a case for each (kernel_types_test.cpp runs them all).
bool HasKernel(GgmlType type) { return IsMatMulType(type); }

bool WantsInt8(GgmlType type) { return Int8ActsOf(type) != Int8Acts::kNone; }

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
    case GgmlType::kQ3_K:
      RunInt8Rows<KernelQ3_K>(a, r_begin, r_end);
      break;
    case GgmlType::kQ2_K:
      RunInt8Rows<KernelQ2_K>(a, r_begin, r_end);
      break;
    case GgmlType::kIQ4_NL:
      RunInt8Rows<KernelIQ4_NL>(a, r_begin, r_end);
      break;
    case GgmlType::kIQ4_XS:
      RunInt8Rows<KernelIQ4_XS>(a, r_begin, r_end);
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
      // A registry matmul type without a kernel here: fail loudly rather
      // than leave y unwritten.
      std::abort();
  }
}
