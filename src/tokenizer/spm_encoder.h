// SentencePiece-style encoding of one text fragment (tokenizer.ggml.model =
// "llama"), the algorithm of llama.cpp's llm_tokenizer_spm:
//   1. split the text into UTF-8 characters (by lead byte, without validation);
//   2. repeatedly merge the adjacent pair whose concatenation is a vocabulary
//      token with the highest score (leftmost pair on ties);
//   3. emit each final symbol's token, or, for a symbol that is not a token,
//      one byte token <0xXX> per byte (byte fallback).
// Any vocabulary token qualifies in step 2, control and byte tokens included,
// exactly as in llama.cpp.
//
// Thread safety: stateless; the Vocab is only read.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "tokenizer/vocab.h"

namespace jarvis {

// `text` must already have the space prefix and have ' ' replaced by U+2581.
void EncodeSpm(const Vocab& vocab, std::string_view text, std::vector<int32_t>* out);

// The token for one raw byte: "<0xXX>" (upper-case hex), else the one-byte text,
// else the unknown token; -1 if the vocabulary has none of them (llama.cpp
// throws there; the byte is dropped here).
int32_t SpmByteToken(const Vocab& vocab, uint8_t byte);

}  // namespace jarvis
