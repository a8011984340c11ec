// Deterministic corruption of real and writer-made GGUF bytes: every parse must
// end in an error or a valid file, never a crash or a read outside the input
// (run under the asan preset to make the latter visible). Hand-crafted files
// check that absurd counts and lengths are refused with a located Corruption.
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "gguf/gguf_reader.h"
#include "gguf/gguf_sample.h"
#include "support/test_paths.h"

namespace jarvis {
namespace {

namespace fs = std::filesystem;
using Bytes = std::vector<uint8_t>;

Bytes ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  Bytes out(static_cast<size_t>(fs::file_size(path)));
  in.read(reinterpret_cast<char*>(out.data()), static_cast<std::streamsize>(out.size()));
  return out;
}

Bytes SampleBytes() {
  const fs::path path =
      fs::temp_directory_path() / ("jarvis_gguf_corruption_" + std::to_string(::getpid()) + ".gguf");
  EXPECT_TRUE(sample::WriteSample(path.string(), 64).ok());
  Bytes b = ReadAll(path.string());
  fs::remove(path);
  return b;
}

// Parses `bytes`; when it succeeds, checks the invariants a caller relies on.
// Returns whether it parsed.
bool ParseAndCheck(std::span<const uint8_t> bytes) {
  auto r = GgufFile::FromBuffer(bytes, "x.gguf");
  if (!r.ok()) {
    const Status& s = r.status();
    EXPECT_TRUE(s.code() == StatusCode::kCorruption || s.code() == StatusCode::kUnsupported)
        << s.ToString();
    EXPECT_EQ(s.message().rfind("x.gguf: offset ", 0), 0u) << s.message();
    return false;
  }
  const GgufFile& f = **r;
  EXPECT_LE(f.data_offset(), bytes.size());
  for (const auto& t : f.tensors()) {
    EXPECT_GE(t.data, bytes.data() + f.data_offset());
    EXPECT_LE(t.data + t.n_bytes, bytes.data() + bytes.size());
    EXPECT_EQ(t.offset % f.alignment(), 0u);
  }
  return true;
}

struct Case {
  const char* what;
  Bytes bytes;
  uint64_t data_end;  // data_offset + end of the last tensor
};

std::vector<Case> Inputs() {
  std::vector<Case> cases;
  for (auto& [what, bytes] : {std::pair<const char*, Bytes>{"stories", ReadAll(test::StoriesModelPath())},
                              std::pair<const char*, Bytes>{"sample", SampleBytes()}}) {
    auto f = GgufFile::FromBuffer(bytes);
    EXPECT_TRUE(f.ok());
    uint64_t end = 0;
    for (const auto& t : (*f)->tensors()) end = std::max(end, (*f)->data_offset() + t.offset + t.n_bytes);
    cases.push_back({what, bytes, end});
  }
  return cases;
}

TEST(GgufCorruptionTest, TruncationIsAlwaysAnError) {
  for (const Case& c : Inputs()) {
    SCOPED_TRACE(c.what);
    // Every cut before the end of the tensor data must fail: the header region
    // exhaustively, the data with a stride. Each prefix is copied into its own
    // exact-size allocation so that ASan sees any over-read.
    const uint64_t header_end = std::min<uint64_t>(c.data_end, 20'000);
    size_t failures = 0, tried = 0;
    for (uint64_t n = 0; n < c.data_end; n += (n < header_end ? 1 : 997)) {
      Bytes prefix(c.bytes.begin(), c.bytes.begin() + static_cast<std::ptrdiff_t>(n));
      ++tried;
      failures += ParseAndCheck(prefix) ? 0 : 1;
    }
    EXPECT_EQ(failures, tried);
    EXPECT_TRUE(ParseAndCheck(c.bytes));
  }
}

TEST(GgufCorruptionTest, ByteFlipsNeverCrash) {
  for (Case& c : Inputs()) {
    SCOPED_TRACE(c.what);
    auto f = GgufFile::FromBuffer(c.bytes);
    ASSERT_TRUE(f.ok());
    const uint64_t header = (*f)->data_offset();
    size_t rejected = 0;
    for (uint64_t p = 0; p < header; ++p) {
      for (uint8_t mask : {uint8_t{0xff}, static_cast<uint8_t>(1u << (p % 8))}) {
        c.bytes[p] ^= mask;
        rejected += ParseAndCheck(c.bytes) ? 0 : 1;
        c.bytes[p] ^= mask;
      }
    }
    // Flips in lengths, counts, types and dims are caught; flips inside
    // string bytes or float values are not (and need not be).
    EXPECT_GT(rejected, 0u);
  }
}

// Little builder for hand-crafted files.
struct Builder {
  Bytes b;
  Builder& U32(uint32_t v) { return Raw(&v, 4); }
  Builder& U64(uint64_t v) { return Raw(&v, 8); }
  Builder& U8(uint8_t v) { return Raw(&v, 1); }
  Builder& Str(std::string_view s) {
    U64(s.size());
    return Raw(s.data(), s.size());
  }
  Builder& Raw(const void* p, size_t n) {
    const auto* c = static_cast<const uint8_t*>(p);
    b.insert(b.end(), c, c + n);
    return *this;
  }
  Builder& Header(uint64_t tensors, uint64_t kvs, uint32_t version = 3) {
    Raw("GGUF", 4);
    U32(version);
    U64(tensors);
    return U64(kvs);
  }
  Builder& Tensor(std::string_view name, std::vector<uint64_t> dims, uint32_t type, uint64_t offset) {
    Str(name);
    U32(static_cast<uint32_t>(dims.size()));
    for (uint64_t d : dims) U64(d);
    U32(type);
    return U64(offset);
  }
  Builder& PadAndData(size_t data_bytes, size_t alignment = 32) {
    while (b.size() % alignment != 0) b.push_back(0);
    b.resize(b.size() + data_bytes, 0x5a);
    return *this;
  }
};

Status Parse(const Bytes& b) {
  auto r = GgufFile::FromBuffer(b, "h.gguf");
  return r.ok() ? Status::Ok() : r.status();
}

void ExpectCorrupt(const Bytes& b, const std::string& needle) {
  Status s = Parse(b);
  EXPECT_EQ(s.code(), StatusCode::kCorruption) << needle << " / " << s.ToString();
  EXPECT_EQ(s.message().rfind("h.gguf: offset ", 0), 0u) << s.message();
  EXPECT_NE(s.message().find(needle), std::string::npos) << s.message();
}

constexpr uint32_t kF32 = 0, kQ4_0 = 2, kU8 = 0, kU32 = 4, kBool = 7, kStr = 8, kArr = 9;

TEST(GgufCorruptionTest, ValidHandMadeFileParses) {
  Builder ok;
  ok.Header(2, 1).Str("k").U32(kU32).U32(7);
  ok.Tensor("a", {8, 2}, kF32, 0).Tensor("b", {32}, kQ4_0, 64).PadAndData(64 + 18);
  auto r = GgufFile::FromBuffer(ok.b, "h.gguf");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ((*r)->tensors()[1].n_bytes, 18u);
  EXPECT_EQ((*r)->data_offset(), 128u);
}

TEST(GgufCorruptionTest, AbsurdCountsAndLengths) {
  ExpectCorrupt(Builder().Header(uint64_t{1} << 62, 0).b, "tensor count");
  ExpectCorrupt(Builder().Header(0, ~uint64_t{0}).b, "metadata count");
  ExpectCorrupt(Builder().Header(0, 1).U64(uint64_t{1} << 63).Raw("abcdefgh", 8).b, "key length");
  ExpectCorrupt(Builder().Header(0, 1).Str("k").U32(kStr).U64(~uint64_t{0} - 3).b, "string value length");
  ExpectCorrupt(Builder().Header(0, 1).Str("k").U32(kArr).U32(kU8).U64(uint64_t{1} << 60).U8(1).b,
                "array count");
  ExpectCorrupt(Builder().Header(0, 1).Str("k").U32(kArr).U32(kArr).U64(uint64_t{1} << 40).U64(0).b,
                "array count");
  ExpectCorrupt(Builder().Header(0, 1).Str("k").U32(kArr).U32(99).U64(0).b, "element type 99");
  ExpectCorrupt(Builder().Header(0, 1).Str("k").U32(13).U32(0).b, "unknown value type 13");
  ExpectCorrupt(Builder().Header(0, 1).Str("k").U32(kBool).U8(2).b, "bool");
  ExpectCorrupt(Builder().Header(0, 1).Str("").U32(kU32).U32(0).b, "empty metadata key");
  ExpectCorrupt(Builder().Header(0, 2).Str("k").U32(kU32).U32(0).Str("k").U32(kU8).U8(0).b,
                "duplicate metadata key 'k'");
  Builder deep;
  deep.Header(0, 1).Str("k").U32(kArr);
  for (int i = 0; i < 100; ++i) deep.U32(kArr).U64(1);
  deep.U32(kU8).U64(0);
  ExpectCorrupt(deep.b, "nested deeper");
}

TEST(GgufCorruptionTest, BadAlignment) {
  for (uint32_t a : {0u, 3u, 48u}) {
    ExpectCorrupt(Builder().Header(0, 1).Str("general.alignment").U32(kU32).U32(a).b, "power of two");
  }
  ExpectCorrupt(Builder().Header(0, 1).Str("general.alignment").U32(kStr).Str("32").b, "power of two");
  Builder a64;
  a64.Header(1, 1).Str("general.alignment").U32(kU32).U32(64).Tensor("t", {16}, kF32, 0).PadAndData(64, 64);
  auto r = GgufFile::FromBuffer(a64.b);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ((*r)->alignment(), 64u);
  EXPECT_EQ((*r)->data_offset() % 64, 0u);
}

TEST(GgufCorruptionTest, BadTensorInfos) {
  auto one = [](std::vector<uint64_t> dims, uint32_t type, uint64_t offset, size_t data = 4096) {
    Builder x;
    x.Header(1, 0).Tensor("t", std::move(dims), type, offset).PadAndData(data);
    return x.b;
  };
  ExpectCorrupt(one({}, kF32, 0), "n_dims 0");
  ExpectCorrupt(Builder().Header(1, 0).Str("t").U32(99).PadAndData(4096).b, "n_dims 99");
  ExpectCorrupt(one({4, 0}, kF32, 0), "dimension 1 is 0");
  ExpectCorrupt(one({~uint64_t{0}}, kF32, 0), "dimension 0");
  ExpectCorrupt(one({uint64_t{1} << 32, uint64_t{1} << 32, uint64_t{1} << 32}, kF32, 0), "overflows");
  ExpectCorrupt(one({uint64_t{1} << 62}, 28 /* f64 */, 0), "overflows");  // bytes overflow
  ExpectCorrupt(one({8}, 9999, 0), "unknown tensor type 9999");
  ExpectCorrupt(one({8}, 31, 0), "unknown tensor type 31");  // removed Q4_0_4_4
  ExpectCorrupt(one({33}, kQ4_0, 0), "not a multiple");
  // The low-bit types: a row that is not whole blocks, and data cut short
  // (sizes from their block layouts: 84, 110, 18 and 136 bytes).
  constexpr uint32_t kQ2_K = 10, kQ3_K = 11, kIQ4_NL = 20, kIQ4_XS = 23;
  ExpectCorrupt(one({255}, kQ2_K, 0), "not a multiple");
  ExpectCorrupt(one({128}, kQ3_K, 0), "not a multiple");
  ExpectCorrupt(one({48}, kIQ4_NL, 0), "not a multiple");
  ExpectCorrupt(one({320}, kIQ4_XS, 0), "not a multiple");
  ExpectCorrupt(one({256, 49}, kQ2_K, 0), "beyond the end");   // 49 * 84 = 4116 > 4096
  ExpectCorrupt(one({256, 38}, kQ3_K, 0), "beyond the end");   // 38 * 110 = 4180
  ExpectCorrupt(one({32, 228}, kIQ4_NL, 0), "beyond the end");  // 228 * 18 = 4104
  ExpectCorrupt(one({256, 31}, kIQ4_XS, 0), "beyond the end");  // 31 * 136 = 4216
  ExpectCorrupt(one({8}, kF32, 4), "not a multiple of the alignment");
  ExpectCorrupt(one({8}, kF32, 1 << 20), "beyond the end");
  ExpectCorrupt(one({8}, kF32, ~uint64_t{0} - 31), "beyond the end");  // offset + size wraps
  ExpectCorrupt(one({8}, kF32, 0, 16), "beyond the end");
  ExpectCorrupt(Builder().Header(1, 0).Str("").U32(1).U64(8).U32(kF32).U64(0).PadAndData(64).b,
                "empty tensor name");

  Builder overlap;
  overlap.Header(2, 0).Tensor("a", {64}, kF32, 0).Tensor("b", {8}, kF32, 128).PadAndData(512);
  ExpectCorrupt(overlap.b, "tensor 'b' overlaps tensor 'a'");
  Builder dup;
  dup.Header(2, 0).Tensor("a", {8}, kF32, 0).Tensor("a", {8}, kF32, 32).PadAndData(64);
  ExpectCorrupt(dup.b, "duplicate tensor name 'a'");
  Builder no_data;  // header claims a tensor but the file ends before the data section
  no_data.Header(1, 0).Tensor("t", {8}, kF32, 0);
  ExpectCorrupt(no_data.b, "beyond the end");
}

TEST(GgufCorruptionTest, HeaderAndVersion) {
  EXPECT_EQ(Parse({}).code(), StatusCode::kCorruption);
  EXPECT_EQ(Parse({'G', 'G', 'U'}).code(), StatusCode::kCorruption);
  EXPECT_EQ(Parse(Builder().Header(0, 0, 1).b).code(), StatusCode::kUnsupported);
  EXPECT_EQ(Parse(Builder().Header(0, 0, 4).b).code(), StatusCode::kUnsupported);
  EXPECT_EQ(Parse(Builder().Header(0, 0, 0x03000000).b).code(), StatusCode::kUnsupported);
  EXPECT_TRUE(Parse(Builder().Header(0, 0, 2).b).ok());
  EXPECT_TRUE(Parse(Builder().Header(0, 0, 3).b).ok());
  ExpectCorrupt(Bytes{'G', 'G', 'U', 'F', 3, 0, 0, 0, 0}, "truncated tensor count");
}

}  // namespace
}  // namespace jarvis
