// Tokenizer: text <-> token ids for a GGUF vocabulary, matching llama.cpp
// (llama_tokenize / llama_token_to_piece) token for token.
//
// Two vocabulary kinds (tokenizer.ggml.model):
//   "llama" -> VocabKind::kSpm: SentencePiece-style score merges with byte
//              fallback; ' ' is written U+2581; a space is put in front of the
//              text (add_space_prefix, default on) and after each special token.
//   "gpt2"  -> VocabKind::kBpe: byte-level BPE with ranked merges after a regex
//              pre-tokenizer chosen by tokenizer.ggml.pre (llama-bpe, qwen2,
//              gpt-2, default, ...; see pretokenizer.h). No normalization.
//   "bert"  -> VocabKind::kWordPiece: BERT's basic tokenizer (cleanup,
//              whitespace / punctuation / CJK splits, lower-casing + accent
//              stripping for uncased vocabularies) then greedy longest-match
//              WordPiece; "##" or phantom-space (U+2581) piece spellings; see
//              wordpiece_encoder.h. add_special gives [CLS] text [SEP] (bos_id()
//              is [CLS]; add_sep / sep_id() the [SEP]). Decoding puts ' ' before
//              word-initial pieces and none before continuations, so
//              Decode(Encode("hello world"), {strip}) == "hello world"; the
//              lost case, accents and spaces around punctuation do not come back.
//
// Special tokens: before either algorithm runs, user-defined tokens (type 4) are
// cut out of the text as whole tokens; control tokens (type 3, such as
// "<|eot_id|>") only when EncodeOptions::parse_special is set, otherwise their
// text is tokenized as ordinary text.
//
// Invalid UTF-8 never fails and never crashes. As in llama.cpp: SPM treats each
// undecodable byte as a character of its own and byte-falls-back on it; BPE
// replaces each byte that does not start a valid sequence by U+FFFD before
// pre-tokenization (llama.cpp additionally lets overlong forms and surrogates
// through; those become U+FFFD here too). Decoding can yield invalid UTF-8 (a
// byte token on its own); StreamingDecoder is the way to get printable text.
//
// Decoding follows llama_token_to_piece: control and unknown tokens render as ""
// unless DecodeOptions::render_special; user-defined tokens as their text; SPM
// pieces with U+2581 -> ' ' and <0xXX> -> the byte; BPE pieces through the
// inverse byte mapping. No "clean up spaces" post-processing is applied.
//
// Leading space (SPM): llama.cpp's streaming path (common_token_to_piece, used by
// llama-cli and llama-server) never strips, so a continuation keeps the space
// its first token carries; llama_detokenize strips one leading space from ids[0]
// when the vocabulary adds a space prefix (and, oddly, not when it removes a
// leading BOS). Here stripping is opt-in (DecodeOptions::strip_space_prefix) and
// removes the one space the encoder inserted: from the first piece that has any
// text, if the vocabulary adds a space prefix. So Decode(Encode(t), {strip}) == t
// for SPM text without special tokens, and the default suits generated text.
//
// Thread safety: immutable after FromGguf; all methods are const and may be
// called concurrently. The Tokenizer copies what it needs: the GgufFile may be
// closed afterwards.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "jarvis/status.h"
#include "tokenizer/vocab.h"

namespace jarvis {

class GgufFile;
class RegexSplitter;

class Tokenizer {
 public:
  struct EncodeOptions {
    bool add_special = true;     // BOS / EOS as the vocabulary's add_bos / add_eos say
    bool parse_special = false;  // match control-token texts as those tokens
  };
  struct DecodeOptions {
    bool render_special = false;      // control / unknown tokens show their text
    bool strip_space_prefix = false;  // see the file comment (SPM, WordPiece)
  };

  // Reads tokenizer.ggml.* (see LoadVocab in vocab.h for the errors).
  static Result<std::unique_ptr<Tokenizer>> FromGguf(const GgufFile& gguf);
  ~Tokenizer();
  Tokenizer(const Tokenizer&) = delete;
  Tokenizer& operator=(const Tokenizer&) = delete;

  // InvalidArgument only for text over 256 MiB; Internal if the regex engine fails.
  Result<std::vector<int32_t>> Encode(std::string_view text, const EncodeOptions& options) const;
  Result<std::vector<int32_t>> Encode(std::string_view text) const {
    return Encode(text, EncodeOptions{});
  }

  // Concatenated pieces. Ids outside the vocabulary contribute nothing.
  std::string Decode(std::span<const int32_t> ids, const DecodeOptions& options) const;
  std::string Decode(std::span<const int32_t> ids) const { return Decode(ids, DecodeOptions{}); }

  // The bytes token `id` contributes to decoded text (llama_token_to_piece,
  // without stripping); "" for ids outside the vocabulary.
  std::string_view Piece(int32_t id, bool render_special = false) const;
  std::string TokenToBytes(int32_t id, bool render_special = false) const {
    return std::string(Piece(id, render_special));
  }
  // The raw vocabulary string ("▁the", "Ġthe", "<|eot_id|>"); "" if out of range.
  std::string_view TokenText(int32_t id) const;
  TokenType type(int32_t id) const;  // kUndefined if out of range
  std::optional<int32_t> FindToken(std::string_view text) const;

  VocabKind kind() const;
  const std::string& pre_tokenizer() const;  // tokenizer.ggml.pre ("" for SPM)
  int32_t vocab_size() const;
  int32_t bos_id() const;  // -1 if none
  int32_t eos_id() const;
  int32_t eot_id() const;
  int32_t unk_id() const;
  int32_t sep_id() const;   // WordPiece [SEP]; -1 if none
  int32_t pad_id() const;
  int32_t mask_id() const;
  bool add_sep() const;     // WordPiece: [SEP] after the text with add_special
  bool lowercase() const;   // WordPiece: uncased vocabulary (lower-case + strip accents)
  bool add_bos() const;
  bool add_eos() const;
  bool add_space_prefix() const;
  // EOS, EOT, EOM and the other end-of-generation tokens llama.cpp recognises
  // by text (<|im_end|>, <|end_of_text|>, <|endoftext|>, FIM pad/repo/sep, ...).
  bool IsEndOfGeneration(int32_t id) const;
  const std::vector<int32_t>& end_of_generation_ids() const;
  bool regex_jit() const;  // whether the BPE pre-tokenizer runs JIT-compiled

 private:
  Tokenizer();
  Status EncodeBpeText(std::string_view text, std::vector<int32_t>* out) const;

  std::unique_ptr<Vocab> vocab_;
  std::unique_ptr<RegexSplitter> splitter_;  // BPE only
  // Decoded piece of every token (text for control/unknown tokens too), in one
  // arena; render_special_only_ marks pieces shown only with render_special.
  std::string pieces_;
  std::vector<uint32_t> piece_offsets_;
  std::vector<bool> render_special_only_;
};

}  // namespace jarvis
