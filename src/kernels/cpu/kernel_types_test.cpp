// The CPU kernels against the registry (quant/quant_types.h): the reference
// matmul, the fast paths of every ISA and the packed layouts cover exactly the
// registry's types, and every registered matmul type runs on every ISA this
// CPU has (a type with no kernel case would abort) close to the reference.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "kernels/cpu/isa.h"
#include "kernels/cpu/matmul.h"
#include "kernels/cpu/weight_pack.h"
#include "quant/quant_types.h"
#include "quant/quantize.h"
#include "util/thread_pool.h"

namespace jarvis {
namespace {

constexpr KernelIsa kFastIsas[] = {KernelIsa::kAvx2, KernelIsa::kAvx512, KernelIsa::kAmx};

TEST(KernelTypesTest, KernelsCoverExactlyTheRegistry) {
  for (uint32_t id = 0; id < 64; ++id) {
    const GgmlTypeTraits* t = FindTypeTraits(id);
    if (t == nullptr) continue;
    const QuantType* q = FindQuantType(t->type);
    const bool matmul = q != nullptr && q->matmul;
    EXPECT_EQ(IsComputeWeightType(t->type), matmul) << t->name;
    EXPECT_EQ(CanPackWeights(t->type), q != nullptr && q->packed) << t->name;
    EXPECT_EQ(PackLayoutFor(t->type).valid(), q != nullptr && q->packed) << t->name;
    if (PackLayoutFor(t->type).valid()) {
      EXPECT_EQ(PackLayoutFor(t->type).block_bytes, static_cast<int32_t>(t->type_size));
    }
    for (KernelIsa isa : kFastIsas) {
      if (!CpuSupportsIsa(isa)) continue;
      EXPECT_EQ(HasFastMatMul(t->type, isa), matmul) << t->name << " on " << KernelIsaName(isa);
    }
    EXPECT_FALSE(HasFastMatMul(t->type, KernelIsa::kScalar)) << t->name;
  }
}

TEST(KernelTypesTest, EveryMatMulTypeRunsOnEveryIsa) {
  ThreadPool pool(2);
  const int64_t rows = 19, n_tokens = 17;  // 17: one AMX group of 16 and a tail
  for (const QuantType& q : kQuantTypes) {
    if (!q.matmul) continue;
    const char* name = TypeName(q.type);
    const int64_t cols = TypeTraits(q.type).block_size > 1 ? 2 * 256 : 96;
    std::mt19937 rng(3);
    std::normal_distribution<float> normal(0.0f, 1.0f);
    const size_t row_bytes = RowSize(q.type, cols);
    std::vector<uint8_t> bytes(row_bytes * rows);
    std::vector<float> row(static_cast<size_t>(cols));
    for (int64_t r = 0; r < rows; ++r) {
      for (auto& v : row) v = 0.05f * normal(rng);
      ASSERT_TRUE(QuantizeRow(q.type, row.data(), bytes.data() + r * row_bytes, cols).ok()) << name;
    }
    std::vector<float> x(static_cast<size_t>(n_tokens * cols));
    for (auto& v : x) v = normal(rng);
    WeightMatrix w{q.type, bytes.data(), rows, cols, row_bytes};
    std::vector<float> ref(static_cast<size_t>(rows * n_tokens));
    MatMulReference(w, x.data(), n_tokens, ref.data(), pool);
    std::vector<uint8_t> packed;
    if (CanPackWeights(q.type)) {
      packed.resize(PackedWeightBytes(rows, row_bytes));
      PackWeightTiles(q.type, bytes.data(), rows, row_bytes, 0, (rows + kPackLanes - 1) / kPackLanes, packed.data());
    }
    for (KernelIsa isa : kFastIsas) {
      if (!CpuSupportsIsa(isa)) continue;
      ScopedKernelIsa scoped(isa);
      for (bool use_packed : {false, true}) {
        if (use_packed && packed.empty()) continue;
        WeightMatrix wp = w;
        wp.packed = use_packed ? packed.data() : nullptr;
        std::vector<float> y(ref.size(), NAN);
        MatMul(wp, x.data(), n_tokens, y.data(), pool);
        double err = 0.0, mag = 0.0;
        for (size_t i = 0; i < y.size(); ++i) {
          err = std::fmax(err, std::fabs(static_cast<double>(y[i]) - ref[i]));
          mag = std::fmax(mag, std::fabs(static_cast<double>(ref[i])));
        }
        // Int8 activations cost about 1e-2 of the magnitude; a wrong kernel
        // (another type's decoding) or an unwritten y is far off.
        EXPECT_LE(err, 3e-2 * mag) << name << " on " << KernelIsaName(isa) << (use_packed ? " packed" : "");
      }
    }
  }
}

}  // namespace
}  // namespace jarvis
