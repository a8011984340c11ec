#include "tokenizer/byte_unicode.h"

#include <array>

#include "tokenizer/utf8.h"

namespace jarvis::byte_unicode {

namespace {

// Code points 0..kMaxCodepoint-1 cover the whole mapping (the largest is
// U+0100 + 67 = U+0143).
constexpr uint32_t kMaxCodepoint = 0x144;

struct Tables {
  std::array<uint32_t, 256> byte_to_cp{};
  std::array<std::string, 256> byte_to_utf8;
  std::array<int16_t, kMaxCodepoint> cp_to_byte{};

  Tables() {
    const auto printable = [](int b) {
      return (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
    };
    cp_to_byte.fill(-1);
    uint32_t next = 0x100;
    for (int b = 0; b < 256; ++b) {
      const uint32_t cp = printable(b) ? static_cast<uint32_t>(b) : next++;
      byte_to_cp[b] = cp;
      cp_to_byte[cp] = static_cast<int16_t>(b);
      utf8::AppendCodepoint(cp, &byte_to_utf8[b]);
    }
  }
};

const Tables& GetTables() {
  static const Tables tables;
  return tables;
}

}  // namespace

std::string_view Encode(uint8_t byte) { return GetTables().byte_to_utf8[byte]; }

void EncodeAppend(std::string_view bytes, std::string* out) {
  const Tables& t = GetTables();
  for (const char c : bytes) out->append(t.byte_to_utf8[static_cast<uint8_t>(c)]);
}

int DecodeCodepoint(uint32_t cp) { return cp < kMaxCodepoint ? GetTables().cp_to_byte[cp] : -1; }

}  // namespace jarvis::byte_unicode
