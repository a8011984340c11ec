// Scalar reference matmul: dequantize one weight row to F32, then take plain
// dot products with every token of the batch. Each weight row is read once
// per batch. Fast paths (kernels/cpu/*_avx*.cpp) are tested against this.
#include <vector>

#include "kernels/cpu/matmul.h"
#include "quant/quant_types.h"
#include "quant/quantize.h"

namespace jarvis {
namespace {

float Dot(const float* a, const float* b, int64_t n) {
  float sum = 0.0f;
  for (int64_t i = 0; i < n; ++i) sum += a[i] * b[i];
  return sum;
}

}  // namespace

// The weight types come from the registry (quant/quant_types.h): every type
// marked `matmul` has a reference dequantizer, which is all this path needs.
bool IsComputeWeightType(GgmlType type) { return IsMatMulType(type); }

std::string ComputeWeightTypeList() {
  std::string s;
  for (const QuantType& q : kQuantTypes) {
    if (!q.matmul) continue;
    if (!s.empty()) s += ", ";
    s += TypeName(q.type);
  }
  return s;
}

void DequantizeWeightRow(const WeightMatrix& w, int64_t r, float* dst) {
  // The type was checked when the model was bound, so this cannot fail.
  (void)DequantizeRow(w.type, w.row(r), dst, w.cols);
}

void MatMulReference(const WeightMatrix& w, const float* x, int64_t n_tokens, float* y, ThreadPool& pool) {
  pool.ParallelFor(w.rows, 4, [&](int64_t begin, int64_t end) {
    thread_local std::vector<float> row;
    if (row.size() < static_cast<size_t>(w.cols)) row.resize(static_cast<size_t>(w.cols));
    for (int64_t r = begin; r < end; ++r) {
      const float* wr = row.data();
      if (w.type == GgmlType::kF32) {
        wr = reinterpret_cast<const float*>(w.row(r));
      } else {
        DequantizeWeightRow(w, r, row.data());
      }
      for (int64_t t = 0; t < n_tokens; ++t) {
        y[t * w.rows + r] = Dot(wr, x + t * w.cols, w.cols);
      }
    }
  });
}

}  // namespace jarvis
