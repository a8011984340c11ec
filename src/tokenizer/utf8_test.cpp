#include "tokenizer/utf8.h"

#include <gtest/gtest.h>

namespace jarvis::utf8 {
namespace {

TEST(Utf8Test, DecodesValidSequences) {
  const std::string s = "a\u00E9\u4E2D\U0001F600";
  Decoded d = DecodeAt(s, 0);
  EXPECT_EQ(d.kind, Decoded::kValid);
  EXPECT_EQ(d.codepoint, 'a');
  d = DecodeAt(s, 1);
  EXPECT_EQ(d.codepoint, 0xE9u);
  EXPECT_EQ(d.length, 2u);
  d = DecodeAt(s, 3);
  EXPECT_EQ(d.codepoint, 0x4E2Du);
  EXPECT_EQ(d.length, 3u);
  d = DecodeAt(s, 6);
  EXPECT_EQ(d.codepoint, 0x1F600u);
  EXPECT_EQ(d.length, 4u);
  EXPECT_TRUE(IsValid(s));
  EXPECT_TRUE(IsValid("\xF4\x8F\xBF\xBF"));  // U+10FFFF
}

TEST(Utf8Test, TellsIncompleteFromInvalid) {
  EXPECT_EQ(DecodeAt("\xE4\xB8", 0).kind, Decoded::kIncomplete);
  EXPECT_EQ(DecodeAt("\xF0", 0).kind, Decoded::kIncomplete);
  for (const char* bad : {"\x80", "\xC0\x80", "\xC1\xBF", "\xE0\x80\x80", "\xED\xA0\x80",
                          "\xF4\x90\x80\x80", "\xF5\x80\x80\x80", "\xFF", "\xE4\x41"}) {
    EXPECT_EQ(DecodeAt(bad, 0).kind, Decoded::kInvalid) << bad;
    EXPECT_FALSE(IsValid(bad));
  }
}

TEST(Utf8Test, SanitizeReplacesEachBadByte) {
  EXPECT_EQ(Sanitize("ok"), "ok");
  EXPECT_EQ(Sanitize(std::string("a\xFF") + "b"), "a\uFFFDb");
  EXPECT_EQ(Sanitize(std::string("\xE4\xB8") + "A"),
            "\uFFFD\uFFFDA");  // one per byte, like llama.cpp
  EXPECT_EQ(Sanitize("\xC0\x80"), "\uFFFD\uFFFD");
  EXPECT_EQ(Sanitize(std::string("\0", 1)), std::string("\0", 1));
}

TEST(Utf8Test, AppendCodepointRoundTrips) {
  for (const uint32_t cp : {0x0u, 0x7Fu, 0x80u, 0x7FFu, 0x800u, 0xFFFFu, 0x10000u, 0x10FFFFu}) {
    std::string s;
    AppendCodepoint(cp, &s);
    const Decoded d = DecodeAt(s, 0);
    ASSERT_EQ(d.kind, Decoded::kValid) << cp;
    EXPECT_EQ(d.codepoint, cp);
    EXPECT_EQ(d.length, s.size());
  }
}

TEST(Utf8Test, SequenceLengthFollowsLeadByte) {
  EXPECT_EQ(SequenceLength('a'), 1u);
  EXPECT_EQ(SequenceLength('\x80'), 1u);  // stray continuation: a character of its own
  EXPECT_EQ(SequenceLength('\xC3'), 2u);
  EXPECT_EQ(SequenceLength('\xE4'), 3u);
  EXPECT_EQ(SequenceLength('\xF0'), 4u);
}

}  // namespace
}  // namespace jarvis::utf8
