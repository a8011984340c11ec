// WordPiece encoding of one text fragment (tokenizer.ggml.model = "bert"), as
// BERT's reference tokenizer does it:
//   1. basic tokenizer: drop NUL, U+FFFD and control characters (Cc/Cf other
//      than \t \n \r); split at whitespace (those three, ' ' and Zs); every
//      CJK ideograph (the CJK Unified Ideographs blocks, their extensions and
//      the compatibility ideographs) and every punctuation character (ASCII
//      33-47, 58-64, 91-96, 123-126 and the Unicode P* categories) becomes a
//      word of its own; with lower-casing on, each character is lower-cased,
//      NFD-decomposed and its combining marks (Mn) dropped ("Héllo" -> "hello");
//   2. per word, greedy longest-match-first: the longest vocabulary piece that
//      starts the word, then the longest continuation piece at each following
//      position; a word with a position no piece covers, or of more than 100
//      characters, becomes the unknown token (nothing if the vocabulary has none).
//
// Two spellings of the same vocabulary (Vocab::wordpiece_phantom):
//   "##" form: word-initial "un", continuation "##aff" (vocab.txt as released);
//   phantom form: word-initial "\u2581un", continuation "aff" (what llama.cpp's
//   convert_hf_to_gguf.py writes: it prefixes U+2581 to every piece except
//   control tokens and strips "##" from continuations).
// Only normal (and user-defined) tokens take part; control and unknown tokens
// ([CLS], [UNK], ...) are never matched as text.
//
// Invalid UTF-8 never fails: each byte that does not start a valid sequence
// becomes U+FFFD, which step 1 drops.
//
// Thread safety: stateless; the Vocab is only read.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "tokenizer/vocab.h"

namespace jarvis {

// Step 1 alone: the words of `text` (UTF-8, normalized as described above).
std::vector<std::string> WordPieceBasicSplit(std::string_view text, bool lowercase);

// Steps 1 and 2, appending ids to `out`.
void EncodeWordPiece(const Vocab& vocab, std::string_view text, std::vector<int32_t>* out);

// Whether the vocabulary is uncased: no normal token (other than bracketed
// names such as "[unused0]") contains a character that lower-casing changes.
bool WordPieceVocabIsUncased(const Vocab& vocab);

// Whether the vocabulary uses the phantom-space form: more normal tokens start
// with U+2581 than with "##".
bool WordPieceVocabIsPhantom(const Vocab& vocab);

// The text a token contributes to decoded output: word-initial pieces get a
// leading ' ', continuation pieces none.
std::string WordPieceTokenPiece(const Vocab& vocab, int32_t id);

}  // namespace jarvis
