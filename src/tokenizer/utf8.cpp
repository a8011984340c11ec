#include "tokenizer/utf8.h"

namespace jarvis::utf8 {

namespace {

bool InRange(uint8_t b, uint8_t lo, uint8_t hi) { return b >= lo && b <= hi; }

}  // namespace

Decoded DecodeAt(std::string_view s, size_t pos) {
  const auto byte = [&](size_t i) { return static_cast<uint8_t>(s[pos + i]); };
  const uint8_t b0 = byte(0);
  if (b0 < 0x80) return {Decoded::kValid, b0, 1};

  // Allowed range of the second byte and total length, per Table 3-7.
  size_t len = 0;
  uint8_t lo = 0x80, hi = 0xBF;
  if (InRange(b0, 0xC2, 0xDF)) {
    len = 2;
  } else if (b0 == 0xE0) {
    len = 3, lo = 0xA0;
  } else if (InRange(b0, 0xE1, 0xEC) || b0 == 0xEE || b0 == 0xEF) {
    len = 3;
  } else if (b0 == 0xED) {
    len = 3, hi = 0x9F;  // excludes surrogates
  } else if (b0 == 0xF0) {
    len = 4, lo = 0x90;
  } else if (InRange(b0, 0xF1, 0xF3)) {
    len = 4;
  } else if (b0 == 0xF4) {
    len = 4, hi = 0x8F;  // caps at U+10FFFF
  } else {
    return {Decoded::kInvalid, 0, 1};
  }

  const size_t avail = s.size() - pos;
  uint32_t cp = b0 & (0xFF >> (len + 1));
  for (size_t i = 1; i < len; ++i) {
    if (i >= avail) return {Decoded::kIncomplete, 0, avail};
    const uint8_t b = byte(i);
    const bool ok = i == 1 ? InRange(b, lo, hi) : InRange(b, 0x80, 0xBF);
    if (!ok) return {Decoded::kInvalid, 0, 1};
    cp = (cp << 6) | (b & 0x3F);
  }
  return {Decoded::kValid, cp, len};
}

bool IsValid(std::string_view s) {
  size_t pos = 0;
  while (pos < s.size()) {
    // ASCII fast path.
    if (static_cast<uint8_t>(s[pos]) < 0x80) {
      ++pos;
      continue;
    }
    const Decoded d = DecodeAt(s, pos);
    if (d.kind != Decoded::kValid) return false;
    pos += d.length;
  }
  return true;
}

std::string Sanitize(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  size_t pos = 0;
  while (pos < s.size()) {
    const Decoded d = DecodeAt(s, pos);
    if (d.kind == Decoded::kValid) {
      out.append(s.substr(pos, d.length));
      pos += d.length;
    } else {
      AppendCodepoint(kReplacementChar, &out);
      pos += 1;
    }
  }
  return out;
}

void AppendCodepoint(uint32_t cp, std::string* out) {
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

}  // namespace jarvis::utf8
