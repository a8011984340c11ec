// SentencePiece-style tokenization: the stories260K vocabulary (512 tokens,
// byte fallback) and the merge rules on small hand-made vocabularies.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>

#include "tokenizer/spm_encoder.h"
#include "tokenizer/streaming_decoder.h"
#include "tokenizer/test_vocabs.h"
#include "tokenizer/utf8.h"

namespace jarvis {
namespace {

using Ids = std::vector<int32_t>;

Tokenizer::EncodeOptions NoSpecial() {
  Tokenizer::EncodeOptions o;
  o.add_special = false;
  return o;
}

Tokenizer::DecodeOptions Strip() {
  Tokenizer::DecodeOptions o;
  o.strip_space_prefix = true;
  return o;
}

int32_t Id(const Tokenizer& t, std::string_view text) {
  const auto id = t.FindToken(text);
  EXPECT_TRUE(id.has_value()) << text;
  return id.value_or(-1);
}

TEST(SpmTokenizerTest, StoriesVocabularyFacts) {
  const Tokenizer* t = test::Stories();
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(t->kind(), VocabKind::kSpm);
  EXPECT_EQ(t->vocab_size(), 512);
  EXPECT_EQ(t->bos_id(), 1);
  EXPECT_EQ(t->eos_id(), 2);
  EXPECT_EQ(t->unk_id(), 0);
  EXPECT_TRUE(t->add_bos());
  EXPECT_FALSE(t->add_eos());
  EXPECT_TRUE(t->add_space_prefix());
  EXPECT_TRUE(t->IsEndOfGeneration(2));
  EXPECT_EQ(t->type(0), TokenType::kUnknown);
  EXPECT_EQ(t->type(1), TokenType::kControl);
  EXPECT_EQ(t->type(3), TokenType::kByte);
}

// The README's prompt, tokenized by the independent reference.
TEST(SpmTokenizerTest, KnownPromptIds) {
  const Tokenizer* t = test::Stories();
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(*t->Encode("Once upon a time"), (Ids{1, 403, 407, 261, 378}));
  EXPECT_EQ(*t->Encode("Once upon a time", NoSpecial()), (Ids{403, 407, 261, 378}));
  EXPECT_EQ(t->Decode(Ids{1, 403, 407, 261, 378}, Strip()), "Once upon a time");
  // Without stripping, the first word keeps the space the encoder put in front.
  EXPECT_EQ(t->Decode(Ids{1, 403, 407, 261, 378}), " Once upon a time");
  EXPECT_EQ(*t->Encode("", Tokenizer::EncodeOptions()), (Ids{1}));
  EXPECT_TRUE(t->Encode("", NoSpecial())->empty());
}

// The README's 252 generated ids decode to exactly its text (a JSON string).
TEST(SpmTokenizerTest, ReadmeContinuationDecodes) {
  const Tokenizer* t = test::Stories();
  ASSERT_NE(t, nullptr);
  std::ifstream in(test::SharedPath("models/README.md"));
  ASSERT_TRUE(in.good());
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string readme = ss.str();
  // Fenced blocks: the one starting "432," holds the ids, the one starting
  // with a quote holds the text.
  Ids ids;
  std::string text;
  for (size_t pos = readme.find("```"); pos != std::string::npos;) {
    const size_t body = readme.find('\n', pos) + 1;
    const size_t end = readme.find("```", body);
    if (end == std::string::npos) break;
    const std::string block = readme.substr(body, end - body);
    if (block.rfind("432,", 0) == 0) {
      std::stringstream list(block);
      for (std::string item; std::getline(list, item, ',');) ids.push_back(std::stoi(item));
    } else if (block.rfind("\"", 0) == 0) {
      text = nlohmann::json::parse(block).get<std::string>();
    }
    pos = readme.find("```", end + 3);
  }
  ASSERT_EQ(ids.size(), 252u);
  ASSERT_FALSE(text.empty());
  EXPECT_EQ(t->Decode(ids), text);

  StreamingDecoder stream(*t);
  std::string streamed;
  for (const int32_t id : ids) streamed += stream.Push(id);
  streamed += stream.Flush();
  EXPECT_EQ(streamed, text);
}

TEST(SpmTokenizerTest, ByteFallbackForCharactersOutsideTheVocabulary) {
  const Tokenizer* t = test::Stories();
  ASSERT_NE(t, nullptr);
  ASSERT_FALSE(t->FindToken("\u4E2D").has_value());  // 中 (E4 B8 AD)
  const Ids han = *t->Encode("\u4E2D", NoSpecial());
  // "▁中": the space is a token of its own, the character its three UTF-8 bytes.
  EXPECT_EQ(han, (Ids{Id(*t, "\u2581"), Id(*t, "<0xE4>"), Id(*t, "<0xB8>"), Id(*t, "<0xAD>")}));
  EXPECT_EQ(t->Decode(han, Strip()), "\u4E2D");
  // A character that is in the vocabulary is one token.
  EXPECT_EQ(*t->Encode("\u20AC", NoSpecial()), (Ids{Id(*t, "\u2581"), Id(*t, "\u20AC")}));

  const Ids emoji = *t->Encode("a\U0001F600", NoSpecial());
  ASSERT_GE(emoji.size(), 4u);
  EXPECT_EQ(Ids(emoji.end() - 4, emoji.end()),
            (Ids{Id(*t, "<0xF0>"), Id(*t, "<0x9F>"), Id(*t, "<0x98>"), Id(*t, "<0x80>")}));
  EXPECT_EQ(t->Decode(emoji, Strip()), "a\U0001F600");
  EXPECT_EQ(t->Piece(Id(*t, "<0x41>")), "A");
}

TEST(SpmTokenizerTest, InvalidUtf8IsLosslessThroughByteTokens) {
  const Tokenizer* t = test::Stories();
  ASSERT_NE(t, nullptr);
  for (const std::string& bad :
       {std::string("\xff"), std::string("ab\xc3"), std::string("\xe2\x82x"),
        std::string("\x80\x80\xed\xa0\x80"), std::string("a\0b", 3)}) {
    const auto ids = t->Encode(bad);
    ASSERT_TRUE(ids.ok());
    EXPECT_EQ(t->Decode(*ids, Strip()), bad);
  }
  // llama.cpp's characters come from the lead byte alone, so a truncated
  // sequence swallows the next bytes, here the first two of "▁" (the escaped
  // space), which then come back as raw bytes rather than as a space.
  const Ids ids = *t->Encode("\xe2\x82 x", NoSpecial());
  EXPECT_EQ(ids, (Ids{Id(*t, "\u2581"), Id(*t, "<0xE2>"), Id(*t, "<0x82>"), Id(*t, "<0xE2>"),
                      Id(*t, "<0x96>"), Id(*t, "<0x81>"), Id(*t, "x")}));
}

std::string RandomText(std::mt19937& rng, bool unicode) {
  static const char32_t kExtra[] = {U'\u00e9', U'\u00fc', U'\u4e2d',     U'\u6587',
                                    U'\u0416', U'\u20ac', U'\U0001F600', U'\u3042',
                                    U'\u00a0', U'\n',     U'\t',         U' '};
  std::uniform_int_distribution<int> len_dist(0, 40), ascii(0x20, 0x7E), pick(0, 9),
      extra(0, std::size(kExtra) - 1);
  std::string s;
  const int len = len_dist(rng);
  for (int i = 0; i < len; ++i) {
    if (unicode && pick(rng) < 3) {
      utf8::AppendCodepoint(kExtra[extra(rng)], &s);
    } else {
      s.push_back(static_cast<char>(ascii(rng)));
    }
  }
  return s;
}

TEST(SpmTokenizerTest, RandomRoundTrips) {
  const Tokenizer* t = test::Stories();
  ASSERT_NE(t, nullptr);
  std::mt19937 rng(1234);
  for (int i = 0; i < 400; ++i) {
    const std::string s = RandomText(rng, i % 2 == 1);
    const auto ids = t->Encode(s);
    ASSERT_TRUE(ids.ok());
    EXPECT_EQ(t->Decode(*ids, Strip()), s) << "case " << i;
  }
}

// Merge rules on a hand-made vocabulary: highest score first, leftmost on ties.
class SpmMergeTest : public ::testing::Test {
 protected:
  void Build(const std::vector<std::pair<std::string, float>>& tokens) {
    std::vector<std::string_view> texts;
    std::vector<float> scores;
    for (const auto& [text, score] : tokens) {
      texts.push_back(text);
      scores.push_back(score);
    }
    ASSERT_TRUE(
        vocab_.SetTokens(texts, scores, std::vector<uint16_t>(texts.size(), kAttrNormal)).ok());
    vocab_.FinishSpecialTokens();
  }
  Ids Encode(std::string_view text) {
    Ids out;
    EncodeSpm(vocab_, text, &out);
    return out;
  }
  Vocab vocab_;
};

TEST_F(SpmMergeTest, HigherScoreWins) {
  Build({{"a", 0}, {"b", 0}, {"ab", -2}, {"bb", -1}});
  EXPECT_EQ(Encode("abb"), (Ids{0, 3}));  // "bb" (-1) beats "ab" (-2)
}

TEST_F(SpmMergeTest, LeftmostWinsTies) {
  Build({{"a", 0}, {"b", 0}, {"ab", -1}, {"bb", -1}});
  EXPECT_EQ(Encode("abb"), (Ids{2, 1}));
}

TEST_F(SpmMergeTest, MergesChainThroughIntermediateTokens) {
  Build({{"a", 0}, {"b", 0}, {"c", 0}, {"ab", -1}, {"abc", -3}, {"bc", -2}});
  EXPECT_EQ(Encode("abc"), (Ids{4}));  // ab, then ab+c
  EXPECT_EQ(Encode("cab"), (Ids{2, 3}));
}

TEST_F(SpmMergeTest, UnknownCharacterWithoutByteTokensIsDropped) {
  Build({{"a", 0}});
  EXPECT_EQ(Encode("a\xc3\xa9"), (Ids{0}));  // é: no byte tokens, no unk
}

}  // namespace
}  // namespace jarvis
