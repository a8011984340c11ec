#include "gguf/gguf_writer.h"

#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <stdexcept>

#include <unistd.h>

#include "gguf/gguf_reader.h"
#include "gguf/gguf_sample.h"
#include "support/test_paths.h"

namespace jarvis {
namespace {

namespace fs = std::filesystem;

class GgufWriterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = fs::temp_directory_path() /
           ("jarvis_gguf_writer_" + std::to_string(::getpid()) + "_" + info->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string Path(const std::string& name) const { return (dir_ / name).string(); }
  std::vector<std::string> DirEntries() const {
    std::vector<std::string> names;
    for (const auto& e : fs::directory_iterator(dir_)) names.push_back(e.path().filename().string());
    return names;
  }
  fs::path dir_;
};

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::string out(static_cast<size_t>(fs::file_size(path)), '\0');
  in.read(out.data(), static_cast<std::streamsize>(out.size()));
  return out;
}

std::unique_ptr<GgufFile> OpenOk(const std::string& path) {
  auto r = GgufFile::Open(path);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? std::move(r).value() : nullptr;
}

TEST_F(GgufWriterTest, EveryValueTypeRoundTrips) {
  ASSERT_TRUE(sample::WriteSample(Path("s.gguf")).ok());
  auto f = OpenOk(Path("s.gguf"));
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->version(), 3u);
  auto type_of = [&](const char* k) { return f->Find(k)->type(); };
  EXPECT_EQ(type_of("t.u8"), GgufValueType::kUint8);
  EXPECT_EQ(*f->Find("t.u8")->as_uint(), 200u);
  EXPECT_EQ(type_of("t.i8"), GgufValueType::kInt8);
  EXPECT_EQ(*f->Find("t.i8")->as_int(), -100);
  EXPECT_EQ(type_of("t.u16"), GgufValueType::kUint16);
  EXPECT_EQ(*f->Find("t.u16")->as_uint(), 60000u);
  EXPECT_EQ(type_of("t.i16"), GgufValueType::kInt16);
  EXPECT_EQ(*f->Find("t.i16")->as_int(), -30000);
  EXPECT_EQ(type_of("t.u32"), GgufValueType::kUint32);
  EXPECT_EQ(*f->Find("t.u32")->as_uint(), 4000000000u);
  EXPECT_EQ(type_of("t.i32"), GgufValueType::kInt32);
  EXPECT_EQ(*f->Find("t.i32")->as_int(), -2000000000);
  EXPECT_EQ(type_of("t.u64"), GgufValueType::kUint64);
  EXPECT_EQ(*f->GetUint("t.u64"), std::numeric_limits<uint64_t>::max());
  EXPECT_EQ(type_of("t.i64"), GgufValueType::kInt64);
  EXPECT_EQ(*f->Find("t.i64")->as_int(), std::numeric_limits<int64_t>::min());
  EXPECT_EQ(type_of("t.f32"), GgufValueType::kFloat32);
  EXPECT_EQ(*f->GetFloat("t.f32"), static_cast<double>(1e-5f));
  EXPECT_EQ(type_of("t.f64"), GgufValueType::kFloat64);
  EXPECT_EQ(*f->GetFloat("t.f64"), -2.5e300);
  EXPECT_EQ(*f->GetBool("t.bool"), true);
  EXPECT_EQ(*f->GetString("t.string"), "h\xc3\xa9llo\n\"world\"");
  EXPECT_EQ(*f->GetString("t.empty_string"), "");

  const GgufArray* strings = f->GetArray("t.strings");
  ASSERT_NE(strings, nullptr);
  EXPECT_EQ(strings->element_type, GgufValueType::kString);
  ASSERT_EQ(strings->items.size(), 4u);
  EXPECT_EQ(*strings->items[1].as_string(), "");
  EXPECT_EQ(*strings->items[3].as_string(), "\xe2\x96\x81the");
  const GgufArray* floats = f->GetArray("t.floats");
  ASSERT_NE(floats, nullptr);
  EXPECT_EQ(floats->element_type, GgufValueType::kFloat32);
  EXPECT_EQ(*floats->items[2].as_float(), 3.25);
  const GgufArray* ints = f->GetArray("t.ints");
  ASSERT_NE(ints, nullptr);
  EXPECT_EQ(*ints->items[1].as_int(), -2);
  EXPECT_EQ(*ints->items[3].as_int(), 2147483647);
  EXPECT_TRUE(f->GetArray("t.empty_array")->items.empty());

  const GgufArray* nested = f->GetArray("t.nested");
  ASSERT_NE(nested, nullptr);
  EXPECT_EQ(nested->element_type, GgufValueType::kArray);
  ASSERT_EQ(nested->items.size(), 3u);
  EXPECT_EQ(nested->items[0].as_array()->items.size(), 2u);
  EXPECT_EQ(*nested->items[0].as_array()->items[1].as_uint(), 2u);
  EXPECT_EQ(nested->items[1].as_array()->items.size(), 0u);
  EXPECT_EQ(nested->items[2].as_array()->element_type, GgufValueType::kUint16);
  const GgufArray* deep = f->GetArray("t.deep");
  ASSERT_NE(deep, nullptr);
  EXPECT_EQ(*deep->items[0].as_array()->items[0].as_array()->items[0].as_string(), "deep");
  EXPECT_EQ(f->Find("general.alignment"), nullptr);  // default alignment is not written
}

TEST_F(GgufWriterTest, TensorsAndAlignment) {
  for (uint32_t alignment : {32u, 64u}) {
    SCOPED_TRACE(alignment);
    const std::string path = Path(alignment == 32 ? "a32.gguf" : "a64.gguf");
    ASSERT_TRUE(sample::WriteSample(path, alignment).ok());
    auto f = OpenOk(path);
    ASSERT_NE(f, nullptr);
    EXPECT_EQ(f->alignment(), alignment);
    if (alignment != 32) {
      EXPECT_EQ(*f->GetUint("general.alignment"), alignment);
    }
    EXPECT_EQ(f->data_offset() % alignment, 0u);
    const auto expected = sample::SampleTensors();
    ASSERT_EQ(f->tensors().size(), expected.size());
    for (size_t i = 0; i < expected.size(); ++i) {
      const GgufTensorInfo& t = f->tensors()[i];
      SCOPED_TRACE(std::string(t.name));
      EXPECT_EQ(t.name, expected[i].name);
      EXPECT_EQ(t.dims, expected[i].dims);
      EXPECT_EQ(t.type, expected[i].type);
      EXPECT_EQ(t.offset % alignment, 0u);
      EXPECT_EQ(t.n_bytes, RowSize(t.type, t.dims[0]) * static_cast<uint64_t>(t.rows()));
      bool same = true;
      for (size_t b = 0; b < t.n_bytes; ++b) same = same && t.data[b] == sample::SampleByte(i, b);
      EXPECT_TRUE(same);
    }
  }
}

TEST_F(GgufWriterTest, RewritingStoriesIsByteIdentical) {
  auto src = OpenOk(test::StoriesModelPath());
  ASSERT_NE(src, nullptr);
  GgufWriter w;
  for (const auto& kv : src->metadata()) w.SetValue(kv.key, kv.value);
  for (const auto& t : src->tensors()) ASSERT_TRUE(w.AddTensor(std::string(t.name), t.dims, t.type).ok());
  size_t calls = 0;
  Status s = w.WriteFile(Path("copy.gguf"), [&](size_t i, const GgufTensorPlan& plan, std::span<uint8_t> out) {
    EXPECT_EQ(i, calls++);
    EXPECT_EQ(out.size(), plan.n_bytes);
    std::memcpy(out.data(), src->tensors()[i].data, out.size());
    return Status::Ok();
  });
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(calls, src->tensors().size());
  const std::string original = ReadFile(test::StoriesModelPath());
  const std::string copy = ReadFile(Path("copy.gguf"));
  EXPECT_EQ(original.size(), copy.size());
  EXPECT_TRUE(original == copy);
}

TEST_F(GgufWriterTest, SetReplacesInPlaceAndRemove) {
  GgufWriter w;
  w.SetUint32("a", 1);
  w.SetString("b", "x");
  w.SetUint32("c", 3);
  w.SetString("a", "again");  // replaced, keeps its position
  w.Remove("c");
  w.Remove("missing");
  ASSERT_TRUE(w.WriteFile(Path("k.gguf"), nullptr).ok());
  auto f = OpenOk(Path("k.gguf"));
  ASSERT_NE(f, nullptr);
  ASSERT_EQ(f->metadata().size(), 2u);
  EXPECT_EQ(f->metadata()[0].key, "a");
  EXPECT_EQ(*f->metadata()[0].value.as_string(), "again");
  EXPECT_EQ(f->metadata()[1].key, "b");
  EXPECT_TRUE(f->tensors().empty());
}

TEST_F(GgufWriterTest, AlignmentKeyFollowsLayout) {
  GgufWriter w;
  w.SetUint64("general.alignment", 16);  // e.g. copied from another file
  w.SetAlignment(64);
  ASSERT_TRUE(w.AddTensor("t", {32}, GgmlType::kF32).ok());
  ASSERT_TRUE(w.AddTensor("u", {8}, GgmlType::kF32).ok());
  EXPECT_EQ(w.tensors()[1].offset, 128u);
  auto zero = [](size_t, const GgufTensorPlan&, std::span<uint8_t>) { return Status::Ok(); };
  ASSERT_TRUE(w.WriteFile(Path("al.gguf"), zero).ok());
  auto f = OpenOk(Path("al.gguf"));
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->alignment(), 64u);
  EXPECT_EQ(f->tensors()[1].offset, 128u);
}

TEST_F(GgufWriterTest, AddTensorRejectsBadShapes) {
  GgufWriter w;
  ASSERT_TRUE(w.AddTensor("x", {32, 2}, GgmlType::kQ8_0).ok());
  EXPECT_EQ(w.AddTensor("x", {32}, GgmlType::kF32).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(w.AddTensor("", {32}, GgmlType::kF32).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(w.AddTensor("y", {}, GgmlType::kF32).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(w.AddTensor("y", {1, 1, 1, 1, 1}, GgmlType::kF32).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(w.AddTensor("y", {0}, GgmlType::kF32).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(w.AddTensor("y", {-4}, GgmlType::kF32).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(w.AddTensor("y", {1LL << 40, 1LL << 40}, GgmlType::kF32).code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(w.AddTensor("y", {100}, GgmlType::kQ4_K).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(w.tensors().size(), 1u);
  EXPECT_EQ(w.tensors()[0].n_bytes, 2u * 34u);
}

TEST_F(GgufWriterTest, UnwritableDirectoryIsIoError) {
  GgufWriter w;
  sample::FillSampleWriter(w);
  auto fill = [](size_t, const GgufTensorPlan&, std::span<uint8_t>) { return Status::Ok(); };
  Status s = w.WriteFile(Path("no_such_dir/x.gguf"), fill);
  EXPECT_EQ(s.code(), StatusCode::kIoError) << s.ToString();
  std::ofstream(Path("file")) << "x";
  s = w.WriteFile(Path("file/x.gguf"), fill);  // parent is a regular file
  EXPECT_EQ(s.code(), StatusCode::kIoError) << s.ToString();
  EXPECT_EQ(DirEntries(), std::vector<std::string>{"file"});
}

TEST_F(GgufWriterTest, FailedFillLeavesNoFileAndKeepsOldTarget) {
  std::ofstream(Path("out.gguf")) << "old";
  GgufWriter w;
  sample::FillSampleWriter(w);
  Status s = w.WriteFile(Path("out.gguf"), [](size_t i, const GgufTensorPlan&, std::span<uint8_t>) {
    return i == 2 ? Status::Cancelled("stop") : Status::Ok();
  });
  EXPECT_EQ(s.code(), StatusCode::kCancelled);
  EXPECT_EQ(DirEntries(), std::vector<std::string>{"out.gguf"});
  EXPECT_EQ(ReadFile(Path("out.gguf")), "old");

  // A throwing callback is turned into a Status, with the same cleanup.
  s = w.WriteFile(Path("out2.gguf"), [](size_t, const GgufTensorPlan&, std::span<uint8_t>) -> Status {
    throw std::runtime_error("boom");
  });
  EXPECT_EQ(s.code(), StatusCode::kInternal);
  EXPECT_EQ(DirEntries(), std::vector<std::string>{"out.gguf"});
}

}  // namespace
}  // namespace jarvis
