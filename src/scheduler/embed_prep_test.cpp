// PrepareEmbedInputs: special tokens, truncation, validation, on a hand-made
// WordPiece vocabulary ([CLS] text [SEP]) and on stories260K's (BOS only).
#include "scheduler/embed_prep.h"

#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <string>

#include "gguf/gguf_reader.h"
#include "gguf/gguf_writer.h"
#include "tokenizer/test_vocabs.h"

namespace jarvis {
namespace {

namespace fs = std::filesystem;
using Ids = std::vector<int32_t>;
constexpr int32_t kCls = 1, kSep = 2, kA = 4, kB = 5;

std::unique_ptr<Tokenizer> WordPieceVocab() {
  GgufWriter w;
  w.SetString("general.architecture", "bert");
  w.SetString("tokenizer.ggml.model", "bert");
  w.SetStringArray("tokenizer.ggml.tokens", {"[PAD]", "[CLS]", "[SEP]", "[UNK]", "a", "b"});
  w.SetInt32Array("tokenizer.ggml.token_type", {3, 3, 3, 3, 1, 1});
  w.SetUint32("tokenizer.ggml.cls_token_id", kCls);
  w.SetUint32("tokenizer.ggml.seperator_token_id", kSep);
  w.SetUint32("tokenizer.ggml.unknown_token_id", 3);
  w.SetUint32("tokenizer.ggml.padding_token_id", 0);
  const std::string path =
      (fs::temp_directory_path() / ("jarvis_embed_prep_" + std::to_string(::getpid()) + ".gguf")).string();
  EXPECT_TRUE(w.WriteFile(path, [](size_t, const GgufTensorPlan&, std::span<uint8_t>) { return Status::Ok(); }).ok());
  auto gguf = GgufFile::Open(path);
  EXPECT_TRUE(gguf.ok());
  auto tok = Tokenizer::FromGguf(**gguf);
  fs::remove(path);
  EXPECT_TRUE(tok.ok()) << tok.status().ToString();
  return std::move(tok).value();
}

EmbedRequest Texts(std::vector<std::string> texts, bool truncate = true) {
  EmbedRequest r;
  r.texts = std::move(texts);
  r.truncate = truncate;
  return r;
}

TEST(EmbedPrepTest, WordPieceInputsGetClsAndSep) {
  auto tok = WordPieceVocab();
  auto in = PrepareEmbedInputs(*tok, 6, 16, 8, Texts({"a b", "b"}));
  ASSERT_TRUE(in.ok()) << in.status().ToString();
  EXPECT_EQ((*in)[0], (Ids{kCls, kA, kB, kSep}));
  EXPECT_EQ((*in)[1], (Ids{kCls, kB, kSep}));
}

TEST(EmbedPrepTest, TruncationKeepsTheFinalSeparator) {
  auto tok = WordPieceVocab();
  auto in = PrepareEmbedInputs(*tok, 6, 4, 8, Texts({"a b a b a"}));
  ASSERT_TRUE(in.ok()) << in.status().ToString();
  EXPECT_EQ((*in)[0], (Ids{kCls, kA, kB, kSep}));  // first n_ctx - 1, then [SEP]
  auto refused = PrepareEmbedInputs(*tok, 6, 4, 8, Texts({"a b a b a"}, /*truncate=*/false));
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(refused.status().message().find("has 7 tokens"), std::string::npos) << refused.status().message();
  EXPECT_NE(refused.status().message().find("context holds 4"), std::string::npos) << refused.status().message();
}

// Ollama's options.num_ctx: a smaller context for this request only; a
// larger one than the model's changes nothing.
TEST(EmbedPrepTest, ARequestContextCutsAtTheSmallerContext) {
  auto tok = WordPieceVocab();
  EmbedRequest r = Texts({"a b a b a"});
  r.context = 3;
  auto in = PrepareEmbedInputs(*tok, 6, 16, 8, r);
  ASSERT_TRUE(in.ok()) << in.status().ToString();
  EXPECT_EQ((*in)[0], (Ids{kCls, kA, kSep}));
  r.context = 100;
  in = PrepareEmbedInputs(*tok, 6, 4, 8, r);
  ASSERT_TRUE(in.ok()) << in.status().ToString();
  EXPECT_EQ((*in)[0], (Ids{kCls, kA, kB, kSep}));  // the model's 4
  r.context = 3;
  r.truncate = false;
  auto refused = PrepareEmbedInputs(*tok, 6, 16, 8, r);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("context holds 3"), std::string::npos) << refused.status().message();
  r.context = -1;
  EXPECT_EQ(PrepareEmbedInputs(*tok, 6, 16, 8, r).status().code(), StatusCode::kInvalidArgument);
}

TEST(EmbedPrepTest, DecoderTextsGetBosAndTruncateToTheirFirstTokens) {
  const Tokenizer* tok = test::Stories();
  ASSERT_NE(tok, nullptr);
  auto full = tok->Encode("Once upon a time there was a little girl");
  ASSERT_TRUE(full.ok());
  ASSERT_EQ(full->front(), tok->bos_id());
  ASSERT_GT(full->size(), 5u);
  auto in = PrepareEmbedInputs(*tok, tok->vocab_size(), 5, 8, Texts({"Once upon a time there was a little girl"}));
  ASSERT_TRUE(in.ok()) << in.status().ToString();
  EXPECT_EQ((*in)[0], Ids(full->begin(), full->begin() + 5));  // no trailing special to keep
}

TEST(EmbedPrepTest, TokenInputsAreCheckedAndTruncatedAsGiven) {
  auto tok = WordPieceVocab();
  EmbedRequest r;
  r.token_inputs = {{kA, kB, kA}, {kB}};
  auto in = PrepareEmbedInputs(*tok, 6, 2, 8, r);
  ASSERT_TRUE(in.ok()) << in.status().ToString();
  EXPECT_EQ((*in)[0], (Ids{kA, kB}));
  EXPECT_EQ((*in)[1], (Ids{kB}));
  r.token_inputs = {{kA}, {6}};
  auto bad = PrepareEmbedInputs(*tok, 6, 16, 8, r);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("input 1 has token id 6"), std::string::npos) << bad.status().message();
}

TEST(EmbedPrepTest, RejectsEmptyInputsAndBadDimensions) {
  auto tok = WordPieceVocab();
  EXPECT_EQ(PrepareEmbedInputs(*tok, 6, 16, 8, Texts({})).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(PrepareEmbedInputs(*tok, 6, 16, 8, Texts({"a", ""})).status().code(), StatusCode::kInvalidArgument);
  EmbedRequest empty_tokens;
  empty_tokens.token_inputs = {{}};
  EXPECT_EQ(PrepareEmbedInputs(*tok, 6, 16, 8, empty_tokens).status().code(), StatusCode::kInvalidArgument);
  EmbedRequest wide = Texts({"a"});
  wide.dimensions = 9;
  auto too_wide = PrepareEmbedInputs(*tok, 6, 16, 8, wide);
  ASSERT_FALSE(too_wide.ok());
  EXPECT_NE(too_wide.status().message().find("have 8"), std::string::npos) << too_wide.status().message();
  wide.dimensions = 8;
  EXPECT_TRUE(PrepareEmbedInputs(*tok, 6, 16, 8, wide).ok());
  wide.dimensions = -1;
  EXPECT_FALSE(PrepareEmbedInputs(*tok, 6, 16, 8, wide).ok());
}

}  // namespace
}  // namespace jarvis
