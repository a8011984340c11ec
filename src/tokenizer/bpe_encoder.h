// Byte-level BPE encoding of one pre-tokenized word (tokenizer.ggml.model =
// "gpt2"), the algorithm of llama.cpp's llm_tokenizer_bpe_session:
//   1. the word's bytes are already in GPT-2's byte->Unicode form (byte_unicode.h);
//   2. with ignore_merges (Llama 3), a word that is a token is emitted whole;
//   3. otherwise split into characters and repeatedly merge the adjacent pair
//      with the lowest merge rank (leftmost on ties);
//   4. emit each final symbol's token; a symbol that is not a token (only
//      possible with inconsistent merges) becomes the tokens of its single
//      bytes, skipping bytes that are not tokens.
//
// Thread safety: stateless; the Vocab is only read.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "tokenizer/vocab.h"

namespace jarvis {

void EncodeBpeWord(const Vocab& vocab, std::string_view word, std::vector<int32_t>* out);

}  // namespace jarvis
