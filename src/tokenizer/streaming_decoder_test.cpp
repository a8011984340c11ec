#include "tokenizer/streaming_decoder.h"

#include <gtest/gtest.h>

#include "tokenizer/test_vocabs.h"
#include "tokenizer/utf8.h"

namespace jarvis {
namespace {

using Ids = std::vector<int32_t>;

const char* const kTexts[] = {
    "Emoji: \U0001F600\U0001F44D\U0001F3FD\U0001F389 and flag \U0001F1EB\U0001F1F7",
    "\u4F60\u597D\uFF0C\u4E16\u754C\uFF01 caf\u00E9 na\u00EFve \u00C5ngstr\u00F6m",
    "\U0001D518\U0001D52B\U0001D526 \u2211\u222B\u221A\u221E \u2260 \u2264 "
    "\u0645\u0631\u062D\u0628\u0627",
    "plain ascii, with  spaces\nand lines",
};

// Feeds ids one at a time: every piece is valid UTF-8 and the pieces add up
// to Decode() of the same ids.
void ExpectStreamsLikeDecode(const Tokenizer& t, const Ids& ids, Tokenizer::DecodeOptions opts) {
  StreamingDecoder stream(t, opts);
  std::string all;
  for (const int32_t id : ids) {
    const std::string piece = stream.Push(id);
    EXPECT_TRUE(utf8::IsValid(piece)) << "after id " << id;
    all += piece;
  }
  const std::string tail = stream.Flush();
  EXPECT_TRUE(utf8::IsValid(tail));
  all += tail;
  EXPECT_EQ(all, t.Decode(ids, opts));
}

TEST(StreamingDecoderTest, MatchesDecodeOnAllVocabularies) {
  for (const Tokenizer* t : {test::Llama3(), test::Qwen3(), test::Stories()}) {
    ASSERT_NE(t, nullptr);
    for (const char* text : kTexts) {
      const Ids ids = *t->Encode(text);
      ExpectStreamsLikeDecode(*t, ids, {});
      Tokenizer::DecodeOptions strip;
      strip.strip_space_prefix = true;
      ExpectStreamsLikeDecode(*t, ids, strip);
    }
  }
}

TEST(StreamingDecoderTest, HoldsBackSplitCharacters) {
  const Tokenizer* t = test::Stories();
  ASSERT_NE(t, nullptr);
  // "中" is not in the stories vocabulary: it arrives as three byte tokens.
  StreamingDecoder stream(*t);
  EXPECT_EQ(stream.Push(*t->FindToken("<0xE4>")), "");
  EXPECT_EQ(stream.Push(*t->FindToken("<0xB8>")), "");
  EXPECT_EQ(stream.Push(*t->FindToken("<0xAD>")), "\u4E2D");
  EXPECT_EQ(stream.Flush(), "");

  // Llama 3 splits rare characters over several byte-level tokens too.
  const Tokenizer* llama = test::Llama3();
  ASSERT_NE(llama, nullptr);
  const Ids ids = *llama->Encode("\U0001D518", Tokenizer::EncodeOptions{false, false});
  ASSERT_GT(ids.size(), 1u);
  StreamingDecoder s2(*llama);
  for (size_t i = 0; i + 1 < ids.size(); ++i) EXPECT_EQ(s2.Push(ids[i]), "");
  EXPECT_EQ(s2.Push(ids.back()), "\U0001D518");
}

TEST(StreamingDecoderTest, ReplacesBytesThatCannotBecomeText) {
  const Tokenizer* t = test::Stories();
  ASSERT_NE(t, nullptr);
  StreamingDecoder stream(*t);
  EXPECT_EQ(stream.Push(*t->FindToken("<0xFF>")), "\uFFFD");   // never valid
  EXPECT_EQ(stream.Push(*t->FindToken("<0xE4>")), "");         // may still complete
  EXPECT_EQ(stream.Push(*t->FindToken("<0x41>")), "\uFFFDA");  // it did not
  EXPECT_EQ(stream.Push(*t->FindToken("<0xE4>")), "");
  EXPECT_EQ(stream.Flush(), "\uFFFD");  // incomplete at the end
  EXPECT_EQ(stream.Flush(), "");
}

TEST(StreamingDecoderTest, StripsOnlyTheFirstSpace) {
  const Tokenizer* t = test::Stories();
  ASSERT_NE(t, nullptr);
  const Ids ids = *t->Encode("Once upon a time");  // BOS, "▁Once", ...
  Tokenizer::DecodeOptions strip;
  strip.strip_space_prefix = true;
  StreamingDecoder stream(*t, strip);
  std::string out;
  for (const int32_t id : ids) out += stream.Push(id);
  EXPECT_EQ(out, "Once upon a time");
  stream.Reset();
  EXPECT_EQ(stream.Push(ids[1]), "Once");  // a new sequence strips again

  StreamingDecoder keep(*t);
  EXPECT_EQ(keep.Push(ids[0]), "");  // BOS renders as nothing
  EXPECT_EQ(keep.Push(ids[1]), " Once");
}

}  // namespace
}  // namespace jarvis
