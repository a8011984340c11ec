#include "tokenizer/pretokenizer.h"

#include <gtest/gtest.h>

#include "tokenizer/byte_unicode.h"

namespace jarvis {
namespace {

using Pieces = std::vector<std::string_view>;

Pieces Split(std::string_view pre, std::string_view text) {
  auto config = PreTokenizerConfigFor(pre);
  EXPECT_TRUE(config.ok());
  auto splitter = RegexSplitter::Create(config->regexes);
  EXPECT_TRUE(splitter.ok()) << splitter.status().ToString();
  Pieces pieces;
  EXPECT_TRUE((*splitter)->Split(text, &pieces).ok());
  return pieces;
}

TEST(PreTokenizerTest, Llama3Pieces) {
  EXPECT_EQ(Split("llama-bpe", "Hello  world\n\n"), (Pieces{"Hello", " ", " world", "\n\n"}));
  EXPECT_EQ(Split("llama-bpe", "1234567"), (Pieces{"123", "456", "7"}));
  EXPECT_EQ(Split("llama-bpe", "I'M here's"), (Pieces{"I", "'M", " here", "'s"}));
  EXPECT_EQ(Split("llama-bpe", "a...!\n\nb"), (Pieces{"a", "...!\n\n", "b"}));
  EXPECT_EQ(Split("llama-bpe", "x  \n  y"), (Pieces{"x", "  \n", " ", " y"}));
}

TEST(PreTokenizerTest, Qwen2SplitsDigitsOneByOne) {
  EXPECT_EQ(Split("qwen2", "abc 123"), (Pieces{"abc", " ", "1", "2", "3"}));
}

TEST(PreTokenizerTest, Gpt2AndDefault) {
  EXPECT_EQ(Split("gpt-2", "Hello world 42!"), (Pieces{"Hello", " world", " 42", "!"}));
  // default: punctuation runs first, then GPT-2's expression, then digits in threes.
  EXPECT_EQ(Split("", "x+1234"), (Pieces{"x", "+", "123", "4"}));
}

TEST(PreTokenizerTest, WhitespaceIsUnicodeWhiteSpace) {
  // U+0085 (NEL) and U+00A0 are White_Space (llama.cpp's \s); U+200B is not.
  EXPECT_EQ(Split("llama-bpe", "a\u0085\u0085b"), (Pieces{"a", "\u0085", "\u0085b"}));
  EXPECT_EQ(Split("llama-bpe", "a\u200B\u200Bb"), (Pieces{"a", "\u200B\u200B", "b"}));
  EXPECT_EQ(Split("llama-bpe", "a\u00A0\u00A0b"), (Pieces{"a", "\u00A0", "\u00A0b"}));
  EXPECT_EQ(Split("llama-bpe", "a\x1C\x1C"), (Pieces{"a", "\x1C\x1C"}));  // not White_Space
}

TEST(PreTokenizerTest, PiecesCoverTheInput) {
  const std::string text = "mixed: \u4E2D\u6587, \u0440\u0443\u0441, 3.14 \U0001F600!!\r\n\t end  ";
  for (const char* pre : {"llama-bpe", "qwen2", "gpt-2", "default", "starcoder"}) {
    std::string joined;
    for (const std::string_view p : Split(pre, text)) {
      EXPECT_FALSE(p.empty());
      joined += p;
    }
    EXPECT_EQ(joined, text) << pre;
  }
}

TEST(PreTokenizerTest, UnknownNameFallsBackToTheDefaultWithAWarning) {
  auto unknown = PreTokenizerConfigFor("no-such-pre");
  ASSERT_TRUE(unknown.ok());
  EXPECT_NE(unknown->warning.find("'no-such-pre'"), std::string::npos) << unknown->warning;
  EXPECT_EQ(unknown->regexes, PreTokenizerConfigFor("default")->regexes);
  EXPECT_EQ(PreTokenizerConfigFor("default")->warning, "");
  EXPECT_EQ(PreTokenizerConfigFor("qwen2")->warning, "");
}

// The names of the files people run map to their families' expressions.
TEST(PreTokenizerTest, ModelFamilyNames) {
  EXPECT_EQ(PreTokenizerConfigFor("deepseek-r1-qwen")->regexes, PreTokenizerConfigFor("qwen2")->regexes);
  EXPECT_EQ(PreTokenizerConfigFor("smollm")->regexes, PreTokenizerConfigFor("starcoder")->regexes);
  EXPECT_EQ(PreTokenizerConfigFor("llama4")->regexes, PreTokenizerConfigFor("gpt-4o")->regexes);
  EXPECT_TRUE(PreTokenizerConfigFor("tekken")->ignore_merges);
  for (const char* pre : {"tekken", "gpt-4o", "deepseek-r1-qwen", "smollm", "llama-bpe"}) {
    EXPECT_EQ(PreTokenizerConfigFor(pre)->warning, "") << pre;
  }
}

// Tekken / GPT-4o split case runs: "HelloWorld" -> "Hello", "World"; digits
// singly (tekken) or in threes (gpt-4o); GPT-4o keeps "'s" on its word.
TEST(PreTokenizerTest, TekkenAndGpt4oSplits) {
  EXPECT_EQ(Split("tekken", "HelloWorld 1234"),
            (Pieces{"Hello", "World", " ", "1", "2", "3", "4"}));
  EXPECT_EQ(Split("gpt-4o", "John's CAT 12345"),
            (Pieces{"John's", " CAT", " ", "123", "45"}));
}

TEST(PreTokenizerTest, ExpandWhitespaceClasses) {
  EXPECT_EQ(*ExpandWhitespaceClasses(R"(a\sb)"),
            std::string(R"(a[\t\n\x0B\f\r \x{85}\x{A0}\x{1680})") +
                R"(\x{2000}-\x{200A}\x{2028}\x{2029}\x{202F}\x{205F}\x{3000}]b)");
  const std::string in_class = *ExpandWhitespaceClasses(R"([^\s\p{L}])");
  EXPECT_EQ(in_class.rfind(R"([^\t\n)", 0), 0u);
  EXPECT_NE(in_class.find(R"(\x{3000}\p{L}])"), std::string::npos);
  EXPECT_EQ(ExpandWhitespaceClasses(R"([\S])").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(*ExpandWhitespaceClasses(R"(\\s)"), R"(\\s)");  // an escaped backslash, then 's'
  EXPECT_EQ(*ExpandWhitespaceClasses(R"([]s])"), R"([]s])");
}

TEST(PreTokenizerTest, BadRegexIsInvalidArgument) {
  EXPECT_EQ(RegexSplitter::Create({"(unclosed"}).status().code(), StatusCode::kInvalidArgument);
}

TEST(ByteUnicodeTest, Gpt2Mapping) {
  EXPECT_EQ(byte_unicode::Encode(' '), "\u0120");   // Ġ
  EXPECT_EQ(byte_unicode::Encode('\n'), "\u010A");  // Ċ
  EXPECT_EQ(byte_unicode::Encode('a'), "a");
  EXPECT_EQ(byte_unicode::Encode(0xAD), "\u0143");  // the last of the 68 remapped bytes
  for (int b = 0; b < 256; ++b) {
    const std::string_view s = byte_unicode::Encode(static_cast<uint8_t>(b));
    uint32_t cp = static_cast<uint8_t>(s[0]);
    if (s.size() == 2) cp = ((cp & 0x1F) << 6) | (static_cast<uint8_t>(s[1]) & 0x3F);
    EXPECT_EQ(byte_unicode::DecodeCodepoint(cp), b);
  }
  EXPECT_EQ(byte_unicode::DecodeCodepoint(0x20), -1);
  EXPECT_EQ(byte_unicode::DecodeCodepoint(0x4E2D), -1);
}

}  // namespace
}  // namespace jarvis
