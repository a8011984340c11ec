#include "quant/kv_type.h"

#include <gtest/gtest.h>

#include "quant/blocks.h"

namespace jarvis {
namespace {

TEST(KvType, NamesRoundTrip) {
  for (const KvTypeTraits& t : kKvTypes) {
    ASSERT_TRUE(ParseKvType(t.name).has_value()) << t.name;
    EXPECT_EQ(*ParseKvType(t.name), t.type);
    EXPECT_STREQ(KvTypeName(t.type), t.name);
  }
  EXPECT_EQ(KvTypeNames(), "f32, f16, q8_0");
}

TEST(KvType, UnknownNamesAreRejected) {
  for (const char* bad : {"", "q8", "F16", "q4_0", "f16 ", "bf16"}) EXPECT_FALSE(ParseKvType(bad).has_value()) << bad;
}

TEST(KvType, RowBytes) {
  EXPECT_EQ(KvRowBytes(KvType::kF32, 64), 256u);
  EXPECT_EQ(KvRowBytes(KvType::kF16, 64), 128u);
  // Two GGUF Q8_0 blocks: 2 x (fp16 scale + 32 int8).
  EXPECT_EQ(KvRowBytes(KvType::kQ8_0, 64), 2 * sizeof(BlockQ8_0));
  EXPECT_EQ(KvRowBytes(KvType::kQ8_0, 64), 68u);
}

}  // namespace
}  // namespace jarvis
