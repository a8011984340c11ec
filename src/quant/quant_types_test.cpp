// The registry (quant/quant_types.h) against itself, the GGUF type traits and
// the reference quantizers: every entry is a known GGUF type, appears once,
// goes through QuantizeRow / DequantizeRow, and round-trips within the known
// error of its format. A new entry without an error bound here fails.
#include "quant/quant_types.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <random>
#include <set>
#include <vector>

#include "quant/ggml_type.h"
#include "quant/quantize.h"

namespace jarvis {
namespace {

// Bound on rms(dequant(quant(x)) - x) / rms(x) for x ~ N(0, 1), about 1.5-2x
// what the format gives (measured: f16 2.1e-4, bf16 1.6e-3, q8_0 5.2e-3,
// q8_k 6.7e-3, q6_k 1.8e-2, q5_k 3.6e-2, q5_1 3.7e-2, q5_0 4.2e-2,
// q4_k 7.1e-2, iq4_nl 7.5e-2, iq4_xs 7.6e-2, q4_1 7.7e-2, q4_0 8.4e-2,
// q3_k 1.5e-1, q2_k 2.7e-1); F32 is exact.
double RoundTripBound(GgmlType type) {
  switch (type) {
    case GgmlType::kF32: return 0.0;
    case GgmlType::kF16: return 4e-4;
    case GgmlType::kBF16: return 3e-3;
    case GgmlType::kQ8_0:
    case GgmlType::kQ8_1:
    case GgmlType::kQ8_K: return 1e-2;
    case GgmlType::kQ6_K: return 2.5e-2;
    case GgmlType::kQ5_0:
    case GgmlType::kQ5_1:
    case GgmlType::kQ5_K: return 6e-2;
    case GgmlType::kQ4_0:
    case GgmlType::kQ4_1:
    case GgmlType::kQ4_K: return 1.2e-1;
    case GgmlType::kIQ4_NL:
    case GgmlType::kIQ4_XS: return 1.2e-1;
    case GgmlType::kQ3_K: return 2.5e-1;
    case GgmlType::kQ2_K: return 4.5e-1;
    default: return -1.0;  // no bound known: the test fails
  }
}

TEST(QuantTypesTest, EntriesAreKnownGgufTypesOnce) {
  std::set<uint32_t> seen;
  for (const QuantType& q : kQuantTypes) {
    const auto id = static_cast<uint32_t>(q.type);
    const GgmlTypeTraits* t = FindTypeTraits(id);
    ASSERT_NE(t, nullptr) << id;
    EXPECT_TRUE(seen.insert(id).second) << t->name << " listed twice";
    EXPECT_EQ(FindQuantType(q.type), &q) << t->name;
    EXPECT_NE(q.quantize, nullptr) << t->name;
    EXPECT_NE(q.dequantize, nullptr) << t->name;
    // The int8 activation block divides the weight block (or is a multiple
    // of it): a K super-block is 256 values, a legacy block 32.
    if (q.acts != Int8Acts::kNone) {
      EXPECT_TRUE(t->quantized) << t->name;
      EXPECT_EQ(static_cast<int64_t>(q.acts), t->block_size) << t->name;
    }
    if (q.packed) {
      EXPECT_TRUE(q.matmul) << t->name;
    }
    if (q.amx) {
      EXPECT_TRUE(q.packed) << t->name;
    }
    if (q.cuda) {
      EXPECT_TRUE(q.matmul) << t->name << ": a CUDA type the CPU cannot run";
    }
  }
}

TEST(QuantTypesTest, QuantizerAcceptsExactlyTheRegistry) {
  for (uint32_t id = 0; id < 64; ++id) {
    const GgmlTypeTraits* t = FindTypeTraits(id);
    if (t == nullptr) continue;
    const bool listed = FindQuantType(t->type) != nullptr;
    EXPECT_EQ(CanQuantize(t->type), listed) << t->name;
    EXPECT_EQ(CanDequantize(t->type), listed) << t->name;
    std::vector<float> x(256, 0.5f);
    std::vector<uint8_t> buf(RowSize(t->type, 256));
    EXPECT_EQ(QuantizeRow(t->type, x.data(), buf.data(), 256).ok(), listed) << t->name;
    EXPECT_EQ(DequantizeRow(t->type, buf.data(), x.data(), 256).ok(), listed) << t->name;
  }
}

TEST(QuantTypesTest, RoundTripWithinKnownError) {
  std::mt19937 rng(7);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  const int64_t n = 4096;
  std::vector<float> x(static_cast<size_t>(n));
  for (auto& v : x) v = normal(rng);
  for (const QuantType& q : kQuantTypes) {
    const char* name = TypeName(q.type);
    const double bound = RoundTripBound(q.type);
    if (bound < 0) {
      ADD_FAILURE() << name << ": no round-trip error bound in quant_types_test.cpp";
      continue;
    }
    std::vector<uint8_t> bytes(RowSize(q.type, n));
    std::vector<float> back(static_cast<size_t>(n), NAN);
    ASSERT_TRUE(QuantizeRow(q.type, x.data(), bytes.data(), n).ok()) << name;
    ASSERT_TRUE(DequantizeRow(q.type, bytes.data(), back.data(), n).ok()) << name;
    double err = 0.0, ref = 0.0;
    for (int64_t i = 0; i < n; ++i) {
      err += (back[i] - x[i]) * static_cast<double>(back[i] - x[i]);
      ref += x[i] * static_cast<double>(x[i]);
    }
    const double rel = std::sqrt(err / ref);
    EXPECT_LE(rel, bound) << name;
    // A format that loses nothing (other than F32) would be a wrong entry,
    // e.g. a copy registered as a quantizer.
    if (q.type != GgmlType::kF32) {
      EXPECT_GT(rel, 0.0) << name;
    }
  }
}

}  // namespace
}  // namespace jarvis
