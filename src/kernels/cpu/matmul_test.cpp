// MatMul on every ISA this CPU has (forced one at a time) against the scalar
// reference, for every weight type; and the determinism contract: a token's
// outputs do not depend on the batch around it or on the thread count.
#include "kernels/cpu/matmul.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "kernels/cpu/isa.h"
#include "kernels/cpu/matmul_test_util.h"
#include "kernels/cpu/weight_pack.h"
#include "quant/quant_types.h"
#include "quant/quantize.h"

namespace jarvis {
namespace {

// A random weight matrix stored as `type`, with its dequantized values.
struct TestWeights {
  std::vector<uint8_t> bytes;
  std::vector<uint8_t> packed;  // weight_pack.h copy, when asked for
  std::vector<float> dequant;   // rows x cols
  WeightMatrix w;
};

TestWeights MakeWeights(GgmlType type, int64_t rows, int64_t cols, uint32_t seed, bool packed = false) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  TestWeights t;
  std::vector<float> row(static_cast<size_t>(cols));
  const size_t row_bytes = RowSize(type, cols);
  t.bytes.resize(row_bytes * static_cast<size_t>(rows));
  t.dequant.resize(static_cast<size_t>(rows * cols));
  for (int64_t r = 0; r < rows; ++r) {
    // Rows of different magnitudes, so blocks have different scales.
    const float scale = 0.02f * static_cast<float>(1 + r % 5);
    for (auto& v : row) v = normal(rng) * scale;
    EXPECT_TRUE(QuantizeRow(type, row.data(), t.bytes.data() + r * row_bytes, cols).ok());
    EXPECT_TRUE(DequantizeRow(type, t.bytes.data() + r * row_bytes, t.dequant.data() + r * cols, cols).ok());
  }
  t.w = {type, t.bytes.data(), rows, cols, row_bytes};
  if (packed && CanPackWeights(type)) {
    t.packed.resize(PackedWeightBytes(rows, row_bytes));
    PackWeightTiles(type, t.bytes.data(), rows, row_bytes, 0, (rows + kPackLanes - 1) / kPackLanes, t.packed.data());
    t.w.packed = t.packed.data();
  }
  return t;
}

std::vector<float> MakeActivations(int64_t n_tokens, int64_t cols, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> x(static_cast<size_t>(n_tokens * cols));
  for (auto& v : x) v = normal(rng);
  // A few outliers, as real activations have.
  for (size_t i = 7; i < x.size(); i += 97) x[i] *= 12.0f;
  return x;
}

bool IsQuantized(GgmlType type) {
  return type != GgmlType::kF32 && type != GgmlType::kF16 && type != GgmlType::kBF16;
}

// Activation block of the int8 kernels for a weight type (the registry's).
int64_t ActBlock(GgmlType type) { return Int8ActsOf(type) == Int8Acts::kBlock256 ? 256 : 32; }

// Bound on |fast - reference| for output (t, r), derived from how the fast
// path computes: each x value is rounded to a multiple of d = amax(block)/127,
// so it moves by at most d/2, and the integer sums are exact; on top, both
// paths round F32 sums of `cols` terms (at most cols * eps * sum |w x| each).
double ErrorBound(const TestWeights& tw, const std::vector<float>& x, int64_t t, int64_t r, bool int8_acts) {
  const int64_t cols = tw.w.cols;
  const float* wr = tw.dequant.data() + r * cols;
  const float* xt = x.data() + t * cols;
  double sum_abs = 0.0;
  for (int64_t c = 0; c < cols; ++c) sum_abs += std::fabs(static_cast<double>(wr[c]) * xt[c]);
  double bound = 2.0 * static_cast<double>(cols) * 6e-8 * sum_abs + 1e-7;
  if (int8_acts) {
    const int64_t block = ActBlock(tw.w.type);
    for (int64_t b = 0; b < cols; b += block) {
      double amax = 0.0;
      double wsum = 0.0;
      for (int64_t c = b; c < b + block; ++c) {
        amax = std::max(amax, std::fabs(static_cast<double>(xt[c])));
        wsum += std::fabs(static_cast<double>(wr[c]));
      }
      bound += wsum * (amax / 127.0) * 0.5 * 1.001;
    }
  }
  return bound;
}

const GgmlType kTypes[] = {GgmlType::kF32,  GgmlType::kF16,  GgmlType::kBF16, GgmlType::kQ8_0,
                           GgmlType::kQ4_0, GgmlType::kQ4_1, GgmlType::kQ5_0, GgmlType::kQ5_1,
                           GgmlType::kQ4_K, GgmlType::kQ5_K, GgmlType::kQ6_K, GgmlType::kQ3_K,
                           GgmlType::kQ2_K, GgmlType::kIQ4_NL, GgmlType::kIQ4_XS};

// Each ISA and type, on GGUF-layout weights and (types with a packed layout)
// on the packed copy (AMX runs only on packed weights).
struct Param {
  KernelIsa isa;
  GgmlType type;
  bool packed;
};

std::vector<Param> Params() {
  std::vector<Param> ps;
  for (KernelIsa isa : {KernelIsa::kScalar, KernelIsa::kAvx2, KernelIsa::kAvx512, KernelIsa::kAmx}) {
    for (GgmlType t : kTypes) {
      ps.push_back({isa, t, false});
      if (CanPackWeights(t)) ps.push_back({isa, t, true});
    }
  }
  return ps;
}

class MatMulTest : public ::testing::TestWithParam<Param> {
 protected:
  void SetUp() override {
    if (!CpuSupportsIsa(GetParam().isa)) GTEST_SKIP() << "CPU lacks " << KernelIsaName(GetParam().isa);
  }
  KernelIsa isa() const { return GetParam().isa; }
  GgmlType type() const { return GetParam().type; }
  bool packed() const { return GetParam().packed; }
  // Columns: K types need multiples of 256; the others get an odd multiple of
  // their block (and the float types a length that leaves a vector tail).
  int64_t Cols() const {
    if (ActBlock(type()) == 256 && IsQuantized(type())) return 512;
    return IsQuantized(type()) ? 32 * 7 : 101;
  }
};

TEST_P(MatMulTest, AgreesWithReference) {
  const int64_t rows = 37;  // not a multiple of any row tile
  const int64_t cols = Cols();
  const TestWeights tw = MakeWeights(type(), rows, cols, 11, packed());
  ThreadPool pool(2);
  const bool int8_acts = isa() != KernelIsa::kScalar && IsQuantized(type()) && HasFastMatMul(type(), isa());
  for (int64_t n : {1, 3, 17, 35}) {
    const std::vector<float> x = MakeActivations(n, cols, static_cast<uint32_t>(100 + n));
    std::vector<float> ref(static_cast<size_t>(n * rows)), got(ref.size(), -1.0f);
    MatMulReference(tw.w, x.data(), n, ref.data(), pool);
    {
      ScopedKernelIsa pin(isa());
      ASSERT_TRUE(pin.ok());
      MatMul(tw.w, x.data(), n, got.data(), pool);
    }
    for (int64_t t = 0; t < n; ++t) {
      for (int64_t r = 0; r < rows; ++r) {
        const size_t i = static_cast<size_t>(t * rows + r);
        if (isa() == KernelIsa::kScalar) {
          ASSERT_EQ(got[i], ref[i]) << "t " << t << " r " << r;
        } else {
          ASSERT_NEAR(got[i], ref[i], ErrorBound(tw, x, t, r, int8_acts)) << "n " << n << " t " << t << " r " << r;
        }
      }
    }
  }
}

// The fast path is also close to the exact product (not only to the
// reference): relative error over the whole output, per type family.
TEST_P(MatMulTest, RelativeErrorIsSmall) {
  const int64_t rows = 64, cols = Cols(), n = 4;
  const TestWeights tw = MakeWeights(type(), rows, cols, 5, packed());
  const std::vector<float> x = MakeActivations(n, cols, 6);
  ThreadPool pool(1);
  std::vector<float> got(static_cast<size_t>(n * rows));
  ScopedKernelIsa pin(isa());
  MatMul(tw.w, x.data(), n, got.data(), pool);
  // int8 activations move each value by up to 1/254 of its block's max: with
  // the outliers above that is ~1.1e-2 relative for blocks of 32 and ~2.3e-2
  // for the K types' blocks of 256 (measured); float paths only round.
  double limit = 1e-5;
  if (IsQuantized(type()) && HasFastMatMul(type(), isa())) limit = ActBlock(type()) == 256 ? 3e-2 : 1.5e-2;
  EXPECT_LT(test::RelativeErrorToExact(tw.dequant, rows, cols, x, n, got), limit);
}

// A token's outputs are bit-identical whether it is computed alone, inside
// batches of 1..16, 20, 33 or 40 at any offset (AMX takes groups of 16, the
// rest runs AVX-512), or on 1 or 2 threads.
TEST_P(MatMulTest, BatchAndThreadInvariant) {
  const int64_t rows = 45, cols = Cols(), n = 40;
  const TestWeights tw = MakeWeights(type(), rows, cols, 21, packed());
  const std::vector<float> x = MakeActivations(n, cols, 22);
  ScopedKernelIsa pin(isa());
  ThreadPool one(1), two(2);
  std::vector<float> alone(static_cast<size_t>(n * rows));
  for (int64_t t = 0; t < n; ++t) MatMul(tw.w, x.data() + t * cols, 1, alone.data() + t * rows, one);

  std::vector<float> got(alone.size());
  std::vector<int64_t> batches;
  for (int64_t b = 1; b <= 16; ++b) batches.push_back(b);
  for (int64_t b : {20, 33, 40}) batches.push_back(b);
  for (ThreadPool* pool : {&one, &two}) {
    for (int64_t batch : batches) {
      std::fill(got.begin(), got.end(), -1.0f);
      for (int64_t t0 = 0; t0 < n; t0 += batch) {
        const int64_t m = std::min(batch, n - t0);
        MatMul(tw.w, x.data() + t0 * cols, m, got.data() + t0 * rows, *pool);
      }
      ASSERT_EQ(got, alone) << "batch " << batch << ", " << pool->size() << " threads";
    }
  }
}

// The packed copy (weight_pack.h) gives the same bits as the GGUF layout,
// for single tokens, small batches and AMX groups of 16 (+ a remainder), on
// row counts that leave partial tiles of 16 and of 8.
class PackedMatMulTest : public MatMulTest {};

TEST_P(PackedMatMulTest, PackedLayoutIsBitIdentical) {
  const int64_t rows = 45, cols = Cols();
  const TestWeights tw = MakeWeights(type(), rows, cols, 31);
  std::vector<uint8_t> packed(PackedWeightBytes(rows, tw.w.row_bytes) + 1, 0xAB);
  const int64_t tiles = (rows + kPackLanes - 1) / kPackLanes;
  PackWeightTiles(type(), tw.w.data, rows, tw.w.row_bytes, 0, 1, packed.data());  // in two calls
  PackWeightTiles(type(), tw.w.data, rows, tw.w.row_bytes, 1, tiles, packed.data());
  EXPECT_EQ(packed.back(), 0xAB) << "wrote past the packed size";
  WeightMatrix pw = tw.w;
  pw.packed = packed.data();
  ScopedKernelIsa pin(isa());
  ThreadPool pool(2);
  for (int64_t n : {1, 2, 5, 16, 37}) {
    const std::vector<float> x = MakeActivations(n, cols, static_cast<uint32_t>(300 + n));
    std::vector<float> plain(static_cast<size_t>(n * rows), -1.0f), got(plain.size(), -2.0f);
    MatMul(tw.w, x.data(), n, plain.data(), pool);
    MatMul(pw, x.data(), n, got.data(), pool);
    ASSERT_EQ(got, plain) << "n " << n;
  }
}

INSTANTIATE_TEST_SUITE_P(AllIsasAndTypes, MatMulTest, ::testing::ValuesIn(Params()),
                         [](const ::testing::TestParamInfo<Param>& p) {
                           return std::string(KernelIsaName(p.param.isa)) + "_" + TypeName(p.param.type) +
                                  (p.param.packed ? "_packed" : "");
                         });

// The int8 kernels promise the same bits on avx2 (8 lanes, vpmaddubsw) and
// avx512 (16 lanes, VNNI): the same float operations per output, exact ints.
TEST(MatMulFastPaths, Avx2AndAvx512GiveIdenticalBitsOnQuantizedTypes) {
  if (!CpuSupportsIsa(KernelIsa::kAvx2) || !CpuSupportsIsa(KernelIsa::kAvx512)) GTEST_SKIP() << "needs both ISAs";
  ThreadPool pool(2);
  for (GgmlType type : kTypes) {
    if (!IsQuantized(type) || !HasFastMatMul(type, KernelIsa::kAvx2)) continue;
    const int64_t rows = 45, cols = ActBlock(type) == 256 ? 512 : 32 * 7, n = 7;
    const TestWeights tw = MakeWeights(type, rows, cols, 41, /*packed=*/true);
    const std::vector<float> x = MakeActivations(n, cols, 42);
    std::vector<float> y2(static_cast<size_t>(n * rows), -1.0f), y512(y2.size(), -2.0f);
    {
      ScopedKernelIsa pin(KernelIsa::kAvx2);
      MatMul(tw.w, x.data(), n, y2.data(), pool);
    }
    {
      ScopedKernelIsa pin(KernelIsa::kAvx512);
      MatMul(tw.w, x.data(), n, y512.data(), pool);
    }
    EXPECT_EQ(y2, y512) << TypeName(type);
  }
}

std::vector<Param> PackedParams() {
  std::vector<Param> ps;
  for (const Param& p : Params()) {
    if (p.packed) ps.push_back(p);
  }
  return ps;
}

INSTANTIATE_TEST_SUITE_P(PackableTypes, PackedMatMulTest, ::testing::ValuesIn(PackedParams()),
                         [](const ::testing::TestParamInfo<Param>& p) {
                           return std::string(KernelIsaName(p.param.isa)) + "_" + TypeName(p.param.type);
                         });

TEST(MatMulFastPaths, CoverTheCommonWeightTypes) {
  for (KernelIsa isa : {KernelIsa::kAvx2, KernelIsa::kAvx512, KernelIsa::kAmx}) {
    if (!CpuSupportsIsa(isa)) continue;
    for (GgmlType t : {GgmlType::kF32, GgmlType::kF16, GgmlType::kBF16, GgmlType::kQ8_0, GgmlType::kQ4_0,
                       GgmlType::kQ4_1, GgmlType::kQ5_0, GgmlType::kQ5_1, GgmlType::kQ4_K, GgmlType::kQ5_K,
                       GgmlType::kQ6_K, GgmlType::kQ3_K, GgmlType::kQ2_K, GgmlType::kIQ4_NL, GgmlType::kIQ4_XS}) {
      EXPECT_TRUE(HasFastMatMul(t, isa)) << KernelIsaName(isa) << " " << TypeName(t);
    }
  }
  EXPECT_FALSE(HasFastMatMul(GgmlType::kQ4_0, KernelIsa::kScalar));
}

}  // namespace
}  // namespace jarvis
