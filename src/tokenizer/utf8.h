// UTF-8 helpers shared by the tokenizers and the streaming decoder.
//
// "Valid" here is strict UTF-8 (Unicode Table 3-7): no overlong forms, no
// surrogates, nothing above U+10FFFF. Invalid input is never rejected: each byte
// that does not start a valid sequence is replaced by U+FFFD on its own, which is
// what llama.cpp's tokenizer does for malformed text (it advances one byte per
// error), so valid text and most malformed text tokenize identically.
//
// Thread safety: stateless functions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace jarvis::utf8 {

inline constexpr uint32_t kReplacementChar = 0xFFFD;

// Length of the sequence that `lead` announces, as llama.cpp reads it: 1 for
// ASCII and for stray continuation bytes, 2/3/4 from the high bits otherwise.
// Used only where llama.cpp splits text into "characters" without validating.
inline size_t SequenceLength(char lead) {
  static constexpr uint8_t kLookup[16] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 3, 4};
  return kLookup[static_cast<uint8_t>(lead) >> 4];
}

// Outcome of decoding one sequence at a position.
struct Decoded {
  enum Kind { kValid, kIncomplete, kInvalid };
  Kind kind;
  uint32_t codepoint;  // valid only for kValid
  size_t length;       // bytes consumed for kValid; bytes seen for kIncomplete
};

// Decodes the sequence starting at s[pos] (REQUIRES: pos < s.size()).
// kIncomplete: the bytes up to the end of `s` are a valid prefix of a sequence.
// kInvalid: s[pos] cannot start a valid sequence here (replace one byte).
Decoded DecodeAt(std::string_view s, size_t pos);

bool IsValid(std::string_view s);

// `s` with every invalid byte replaced by U+FFFD (see the file comment).
std::string Sanitize(std::string_view s);

void AppendCodepoint(uint32_t cp, std::string* out);

}  // namespace jarvis::utf8
