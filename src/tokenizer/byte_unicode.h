// GPT-2's reversible byte <-> Unicode mapping used by byte-level BPE
// vocabularies (tokenizer.ggml.model = "gpt2"): every byte value is shown as one
// printable code point, so any byte string becomes a string of vocabulary
// "characters". Printable Latin-1 bytes ('!'..'~', U+00A1..U+00AC,
// U+00AE..U+00FF) map to themselves; the other 68 bytes map, in byte order, to
// U+0100, U+0101, ... (so ' ' is 'Ġ' U+0120 and '\n' is 'Ċ' U+010A).
//
// Thread safety: the tables are built once (function-local statics) and then
// read-only.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace jarvis::byte_unicode {

// UTF-8 of the code point that stands for `byte` (1 or 2 bytes long).
std::string_view Encode(uint8_t byte);

// Appends the encoding of every byte of `bytes` to `out`.
void EncodeAppend(std::string_view bytes, std::string* out);

// The byte that code point `cp` stands for, or -1 if it stands for none.
int DecodeCodepoint(uint32_t cp);

}  // namespace jarvis::byte_unicode
