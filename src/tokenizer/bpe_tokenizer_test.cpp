// Byte-level BPE on the real Llama 3 and Qwen3 vocabularies: special-token
// handling, invalid input, round trips (the exact ids are pinned by
// tokenizer_public_test.cpp).
#include <gtest/gtest.h>

#include <random>
#include <thread>

#include "tokenizer/bpe_encoder.h"
#include "tokenizer/test_vocabs.h"
#include "tokenizer/utf8.h"

namespace jarvis {
namespace {

using Ids = std::vector<int32_t>;

Tokenizer::EncodeOptions Opts(bool add_special, bool parse_special) {
  Tokenizer::EncodeOptions o;
  o.add_special = add_special;
  o.parse_special = parse_special;
  return o;
}

bool AllBelow(const Ids& ids, int32_t limit) {
  for (const int32_t id : ids) {
    if (id >= limit) return false;
  }
  return true;
}

TEST(BpeTokenizerTest, Llama3ControlTokensOnlyWithParseSpecial) {
  const Tokenizer* t = test::Llama3();
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(*t->Encode("<|begin_of_text|>", Opts(false, true)), (Ids{128000}));
  EXPECT_EQ(*t->Encode("<|eot_id|>", Opts(false, true)), (Ids{128009}));
  EXPECT_EQ(*t->Encode("<|begin_of_text|>", Opts(true, true)), (Ids{128000, 128000}));
  EXPECT_EQ(*t->Encode("Hi<|eot_id|>", Opts(true, true)),
            (Ids{128000, *t->FindToken("Hi"), 128009}));

  for (const std::string text : {"<|begin_of_text|>", "<|eot_id|>", "a<|eot_id|>b"}) {
    const Ids plain = *t->Encode(text, Opts(false, false));
    EXPECT_GT(plain.size(), 1u) << text;
    EXPECT_TRUE(AllBelow(plain, 128000)) << text;  // no special token
    EXPECT_EQ(t->Decode(plain), text);
  }
}

TEST(BpeTokenizerTest, ControlTokensRenderOnlyWhenAsked) {
  const Tokenizer* t = test::Llama3();
  ASSERT_NE(t, nullptr);
  const Ids ids = *t->Encode("Hi<|eot_id|>", Opts(true, true));
  EXPECT_EQ(t->Decode(ids), "Hi");
  Tokenizer::DecodeOptions render;
  render.render_special = true;
  EXPECT_EQ(t->Decode(ids, render), "<|begin_of_text|>Hi<|eot_id|>");
  EXPECT_EQ(t->TokenText(128009), "<|eot_id|>");
  EXPECT_EQ(t->Piece(128009), "");
  EXPECT_EQ(t->Piece(128009, true), "<|eot_id|>");
  EXPECT_EQ(t->TokenText(*t->FindToken("\xC4\xA0the")), "\xC4\xA0the");  // "Ġthe"
  EXPECT_EQ(t->Piece(*t->FindToken("\xC4\xA0the")), " the");
  EXPECT_EQ(t->Piece(-1), "");
  EXPECT_EQ(t->Piece(t->vocab_size()), "");
  EXPECT_EQ(t->TokenText(1 << 30), "");
  EXPECT_EQ(t->Decode(Ids{-5, 1 << 30}), "");
}

TEST(BpeTokenizerTest, Qwen3UserDefinedTokensAlwaysMatch) {
  const Tokenizer* t = test::Qwen3();
  ASSERT_NE(t, nullptr);
  const int32_t think = *t->FindToken("<think>"), end_think = *t->FindToken("</think>");
  const Ids ids = *t->Encode("<think>x</think>", Opts(false, false));
  ASSERT_EQ(ids.size(), 3u);
  EXPECT_EQ(ids[0], think);
  EXPECT_EQ(ids[2], end_think);
  EXPECT_EQ(t->Decode(ids), "<think>x</think>");  // user-defined tokens always render

  const int32_t im_start = *t->FindToken("<|im_start|>");
  EXPECT_EQ(*t->Encode("<|im_start|>", Opts(false, true)), (Ids{im_start}));
  const Ids plain = *t->Encode("<|im_start|>", Opts(false, false));
  EXPECT_GT(plain.size(), 1u);
  EXPECT_TRUE(AllBelow(plain, 151643));
}

TEST(BpeTokenizerTest, InvalidUtf8BecomesReplacementCharacters) {
  for (const Tokenizer* t : {test::Llama3(), test::Qwen3()}) {
    ASSERT_NE(t, nullptr);
    for (const std::string& bad :
         {std::string("\xff"), std::string("ab\xc3"), std::string("\xe2\x82 x\xf0\x9f"),
          std::string("\xc0\x80 overlong"), std::string("\xed\xa0\x80 surrogate"),
          std::string("\xf4\x90\x80\x80 too big"), std::string("nul\0byte", 8)}) {
      const auto ids = t->Encode(bad, Opts(false, false));
      ASSERT_TRUE(ids.ok());
      EXPECT_EQ(t->Decode(*ids), utf8::Sanitize(bad));
    }
  }
}

std::string RandomText(std::mt19937& rng) {
  static const char32_t kExtra[] = {U'\u00e9', U'\u00fc',     U'\u4e2d', U'\u6587', U'\u0416',
                                    U'\u20ac', U'\U0001F600', U'\u3042', U'\u00a0', U'\u0085',
                                    U'\u2028', U'\u0301',     U'\u0663', U'\n',     U'\r',
                                    U'\t',     U' '};
  std::uniform_int_distribution<int> len_dist(0, 60), ascii(0x20, 0x7E), pick(0, 9),
      extra(0, std::size(kExtra) - 1);
  std::string s;
  const int len = len_dist(rng);
  for (int i = 0; i < len; ++i) {
    if (pick(rng) < 3) {
      utf8::AppendCodepoint(kExtra[extra(rng)], &s);
    } else {
      s.push_back(static_cast<char>(ascii(rng)));
    }
  }
  return s;
}

TEST(BpeTokenizerTest, RandomRoundTrips) {
  for (const Tokenizer* t : {test::Llama3(), test::Qwen3()}) {
    ASSERT_NE(t, nullptr);
    std::mt19937 rng(42);
    for (int i = 0; i < 400; ++i) {
      const std::string s = RandomText(rng);
      const auto ids = t->Encode(s, Opts(i % 2 == 0, false));
      ASSERT_TRUE(ids.ok());
      EXPECT_EQ(t->Decode(*ids), s) << t->pre_tokenizer() << " case " << i;
    }
  }
}

TEST(BpeTokenizerTest, RandomBytesNeverFail) {
  std::mt19937 rng(7);
  std::uniform_int_distribution<int> byte(0, 255), len(0, 50);
  for (const Tokenizer* t : {test::Llama3(), test::Qwen3(), test::Stories()}) {
    ASSERT_NE(t, nullptr);
    for (int i = 0; i < 300; ++i) {
      std::string s(len(rng), '\0');
      for (char& c : s) c = static_cast<char>(byte(rng));
      const auto ids = t->Encode(s, Opts(true, i % 2 == 0));
      ASSERT_TRUE(ids.ok());
      if (t->kind() == VocabKind::kBpe) {
        EXPECT_EQ(t->Decode(*ids), utf8::Sanitize(s));
      }
    }
  }
}

TEST(BpeTokenizerTest, ConcurrentEncodesAgree) {
  const Tokenizer* t = test::Llama3();
  ASSERT_NE(t, nullptr);
  const std::string text = "The quick brown fox 12345 \u4F60\u597D <|eot_id|> jumps.\n";
  const Ids expected = *t->Encode(text, Opts(true, true));
  std::vector<Ids> results(4);
  std::vector<std::thread> threads;
  for (size_t k = 0; k < results.size(); ++k) {
    threads.emplace_back([&, k] {
      for (int i = 0; i < 50; ++i) results[k] = *t->Encode(text, Opts(true, true));
    });
  }
  for (std::thread& th : threads) th.join();
  for (const Ids& r : results) EXPECT_EQ(r, expected);
}

TEST(BpeTokenizerTest, RepeatedWordsEncodeLikeSingleOnes) {
  // Within one call repeated words reuse earlier results; the ids must not
  // depend on that.
  const Tokenizer* t = test::Qwen3();
  ASSERT_NE(t, nullptr);
  const Ids one = *t->Encode(" tokenization", Opts(false, false));
  Ids expected;
  for (int i = 0; i < 5; ++i) expected.insert(expected.end(), one.begin(), one.end());
  EXPECT_EQ(*t->Encode(" tokenization tokenization tokenization tokenization tokenization",
                       Opts(false, false)),
            expected);
}

TEST(BpeTokenizerTest, RegexRunsJitCompiled) {
  const Tokenizer* t = test::Llama3();
  ASSERT_NE(t, nullptr);
  // Not required for correctness; recorded so a slow build is visible.
  RecordProperty("regex_jit", t->regex_jit() ? "yes" : "no");
  EXPECT_EQ(t->pre_tokenizer(), "llama-bpe");
}

// Merge order and ignore_merges on a hand-made vocabulary.
class BpeMergeTest : public ::testing::Test {
 protected:
  void Build(const std::vector<std::string>& tokens, const std::vector<std::string>& merges) {
    const std::vector<std::string_view> texts(tokens.begin(), tokens.end());
    ASSERT_TRUE(vocab_
                    .SetTokens(texts, std::vector<float>(texts.size()),
                               std::vector<uint16_t>(texts.size(), kAttrNormal))
                    .ok());
    vocab_.ReserveMerges(merges.size());
    for (size_t i = 0; i < merges.size(); ++i) vocab_.AddMerge(merges[i], static_cast<int32_t>(i));
    vocab_.kind = VocabKind::kBpe;
  }
  Ids Encode(std::string_view word) {
    Ids out;
    EncodeBpeWord(vocab_, word, &out);
    return out;
  }
  Vocab vocab_;
};

TEST_F(BpeMergeTest, LowestRankFirst) {
  Build({"a", "b", "c", "ab", "bc", "abc"}, {"b c", "a b", "ab c"});
  EXPECT_EQ(Encode("abc"), (Ids{0, 4}));  // "b c" (rank 0) first; "a bc" is no merge
  vocab_.ignore_merges = true;            // Llama 3: a word that is a token stays whole
  EXPECT_EQ(Encode("abc"), (Ids{5}));
  EXPECT_EQ(Encode("cab"), (Ids{2, 3}));  // not a token: merges as usual
}

TEST_F(BpeMergeTest, LeftmostFirstOnEqualRank) {
  Build({"a", "aa"}, {"a a"});
  EXPECT_EQ(Encode("aaa"), (Ids{1, 0}));
  EXPECT_EQ(Encode("aaaa"), (Ids{1, 1}));
}

TEST_F(BpeMergeTest, FirstDuplicateMergeKeepsItsRank) {
  Build({"a", "b", "c", "ab", "bc"}, {"a b", "b c", "a b"});
  EXPECT_EQ(Encode("abc"), (Ids{3, 2}));  // "a b" keeps rank 0 despite its repeat at 2
}

TEST_F(BpeMergeTest, SymbolsOutsideTheVocabularyFallBackToSingleBytes) {
  // "xy" is a merge result but not a token: emitted as its single-byte tokens.
  Build({"x", "y"}, {"x y"});
  EXPECT_EQ(Encode("xy"), (Ids{0, 1}));
}

}  // namespace
}  // namespace jarvis
