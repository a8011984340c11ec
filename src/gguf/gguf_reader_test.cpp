#include "gguf/gguf_reader.h"

#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <vector>

#include "support/test_paths.h"

namespace jarvis {
namespace {

std::vector<uint8_t> ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(in), {});
}

class StoriesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto r = GgufFile::Open(test::StoriesModelPath());
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    f_ = std::move(r).value();
  }
  std::unique_ptr<GgufFile> f_;
};

TEST_F(StoriesTest, Header) {
  EXPECT_EQ(f_->version(), 3u);
  EXPECT_EQ(f_->alignment(), 32u);
  EXPECT_EQ(f_->file_size(), std::filesystem::file_size(test::StoriesModelPath()));
  EXPECT_EQ(f_->data_offset() % f_->alignment(), 0u);
  EXPECT_LT(f_->data_offset(), f_->file_size());
}

TEST_F(StoriesTest, Metadata) {
  auto arch = f_->GetString("general.architecture");
  ASSERT_TRUE(arch.ok()) << arch.status().ToString();
  EXPECT_EQ(*arch, "llama");
  EXPECT_EQ(*f_->GetUint("llama.block_count"), 5u);
  EXPECT_EQ(*f_->GetUint("llama.embedding_length"), 64u);
  EXPECT_EQ(*f_->GetUint("llama.feed_forward_length"), 172u);
  EXPECT_EQ(*f_->GetUint("llama.attention.head_count"), 8u);
  EXPECT_EQ(*f_->GetUint("llama.attention.head_count_kv"), 4u);
  auto eps = f_->GetFloat("llama.attention.layer_norm_rms_epsilon");
  ASSERT_TRUE(eps.ok());
  EXPECT_GT(*eps, 0.0);
  EXPECT_LT(*eps, 1e-3);
  EXPECT_EQ(*f_->GetUint("tokenizer.ggml.bos_token_id"), 1u);
  EXPECT_EQ(*f_->GetUint("tokenizer.ggml.eos_token_id"), 2u);

  const GgufArray* tokens = f_->GetArray("tokenizer.ggml.tokens");
  ASSERT_NE(tokens, nullptr);
  EXPECT_EQ(tokens->element_type, GgufValueType::kString);
  ASSERT_EQ(tokens->items.size(), 512u);
  EXPECT_EQ(*tokens->items[0].as_string(), "<unk>");  // first bytes of the file show it
  const GgufArray* scores = f_->GetArray("tokenizer.ggml.scores");
  ASSERT_NE(scores, nullptr);
  EXPECT_EQ(scores->items.size(), 512u);
  EXPECT_TRUE(scores->items[0].is_float());

  // Views point into the mapping.
  const uint8_t* lo = nullptr;
  for (const auto& t : f_->tensors()) lo = t.data;  // any tensor pointer
  ASSERT_NE(lo, nullptr);
  const uint8_t* base = lo - f_->data_offset() - f_->tensors().back().offset;
  auto s = *tokens->items[5].as_string();
  EXPECT_GE(reinterpret_cast<const uint8_t*>(s.data()), base);
  EXPECT_LT(reinterpret_cast<const uint8_t*>(s.data()), base + f_->data_offset());
}

TEST_F(StoriesTest, TypedGetterErrors) {
  auto missing = f_->GetUint("no.such.key");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  auto wrong = f_->GetUint("general.architecture");
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(wrong.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(wrong.status().message().find("general.architecture"), std::string::npos);
  EXPECT_EQ(f_->GetArray("general.architecture"), nullptr);
  EXPECT_EQ(f_->Find("nope"), nullptr);
}

TEST_F(StoriesTest, Tensors) {
  const auto& ts = f_->tensors();
  // token_embd, output_norm, output + 9 per block (attn_norm, q, k, v, o, ffn_norm,
  // gate, up, down) for 5 blocks.
  EXPECT_EQ(ts.size(), 3u + 9u * 5u);
  const uint64_t params = f_->ParameterCount();
  EXPECT_GT(params, 250'000u);
  EXPECT_LT(params, 300'000u);
  // Independent count: 2 * vocab * dim (embd + output) + dim + per layer
  // (2 * dim + dim*dim*2 + 2 * dim*(dim/2) + 3 * dim*ffn).
  const uint64_t dim = 64, ffn = 172, vocab = 512, kv = 32;
  EXPECT_EQ(params, 2 * vocab * dim + dim + 5 * (2 * dim + 2 * dim * dim + 2 * dim * kv + 3 * dim * ffn));

  const uint8_t* base = ts[0].data - f_->data_offset() - ts[0].offset;
  for (const auto& t : ts) {
    SCOPED_TRACE(std::string(t.name));
    EXPECT_EQ(t.type, GgmlType::kF32);
    EXPECT_EQ(t.n_bytes, t.n_elements * 4);
    EXPECT_EQ(t.offset % f_->alignment(), 0u);
    EXPECT_EQ(t.data, base + f_->data_offset() + t.offset);
    EXPECT_EQ(reinterpret_cast<uintptr_t>(t.data) % f_->alignment(), 0u);
    EXPECT_LE(f_->data_offset() + t.offset + t.n_bytes, f_->file_size());
    EXPECT_EQ(static_cast<uint64_t>(t.rows() * t.dims[0]), t.n_elements);
    EXPECT_EQ(f_->FindTensor(t.name), &t);
  }
  const GgufTensorInfo* emb = f_->FindTensor("token_embd.weight");
  ASSERT_NE(emb, nullptr);
  EXPECT_EQ(emb->dims, (std::vector<int64_t>{64, 512}));
  EXPECT_EQ(f_->FindTensor("nope"), nullptr);
}

TEST(GgufReaderTest, FromBufferMatchesOpen) {
  auto bytes = ReadAll(test::StoriesModelPath());
  auto r = GgufFile::FromBuffer(bytes, "stories");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ((*r)->tensors().size(), 48u);
  EXPECT_EQ((*r)->name(), "stories");
  EXPECT_EQ((*r)->tensors()[0].data, bytes.data() + (*r)->data_offset() + (*r)->tensors()[0].offset);
}

TEST(GgufReaderTest, OpenErrors) {
  auto missing = GgufFile::Open("/nonexistent/x.gguf");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  auto dir = GgufFile::Open(std::filesystem::temp_directory_path().string());
  ASSERT_FALSE(dir.ok());
  EXPECT_EQ(dir.status().code(), StatusCode::kInvalidArgument);
}

TEST(GgufReaderTest, RefusesVersion1AndBadMagic) {
  auto bytes = ReadAll(test::StoriesModelPath());
  bytes.resize(4096);
  bytes[4] = 1;
  auto v1 = GgufFile::FromBuffer(bytes, "v1.gguf");
  ASSERT_FALSE(v1.ok());
  EXPECT_EQ(v1.status().code(), StatusCode::kUnsupported);
  bytes[4] = 3;
  bytes[0] = 'X';
  auto magic = GgufFile::FromBuffer(bytes, "m.gguf");
  ASSERT_FALSE(magic.ok());
  EXPECT_EQ(magic.status().code(), StatusCode::kCorruption);
  EXPECT_EQ(magic.status().message().rfind("m.gguf: offset 0: ", 0), 0u) << magic.status().message();
}

TEST(GgufReaderTest, VocabOnlyFiles) {
  for (const char* name : {"tokenizers/llama3-vocab.gguf", "tokenizers/qwen3-vocab.gguf"}) {
    auto r = GgufFile::Open(test::SharedPath(name));
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_TRUE((*r)->tensors().empty());
    const GgufArray* tokens = (*r)->GetArray("tokenizer.ggml.tokens");
    ASSERT_NE(tokens, nullptr);
    EXPECT_GT(tokens->items.size(), 100'000u);
    EXPECT_NE((*r)->GetArray("tokenizer.ggml.merges"), nullptr);
  }
}

TEST(GgufValueTest, ConversionsAndDisplay) {
  GgufValue u(GgufValueType::kUint32, uint64_t{42});
  EXPECT_TRUE(u.is_integer());
  EXPECT_EQ(*u.as_uint(), 42u);
  EXPECT_EQ(*u.as_int(), 42);
  EXPECT_EQ(*u.as_float(), 42.0);
  EXPECT_FALSE(u.as_string());
  EXPECT_EQ(u.ToDisplayString(), "42");
  GgufValue neg(GgufValueType::kInt32, int64_t{-3});
  EXPECT_FALSE(neg.as_uint());
  EXPECT_EQ(*neg.as_int(), -3);
  GgufValue big(GgufValueType::kUint64, ~uint64_t{0});
  EXPECT_FALSE(big.as_int());
  GgufValue f(GgufValueType::kFloat32, static_cast<double>(1e-5f));
  EXPECT_EQ(f.ToDisplayString(), "1e-05");
  EXPECT_FALSE(f.as_uint());
  GgufValue s(GgufValueType::kString, std::string_view("llama"));
  EXPECT_EQ(s.ToDisplayString(), "\"llama\"");
  GgufValue longs(GgufValueType::kString, std::string_view("abcdefghijklmnop\n"));
  EXPECT_EQ(longs.ToDisplayString(5), "\"abcde...\"");
  GgufValue b(GgufValueType::kBool, true);
  EXPECT_EQ(b.ToDisplayString(), "true");
  auto arr = std::make_shared<GgufArray>();
  arr->element_type = GgufValueType::kString;
  arr->items.assign(3, s);
  GgufValue a(GgufValueType::kArray, std::shared_ptr<const GgufArray>(arr));
  EXPECT_EQ(a.ToDisplayString(), "[array of 3 string]");
  EXPECT_EQ(a.as_array()->items.size(), 3u);
}

}  // namespace
}  // namespace jarvis
