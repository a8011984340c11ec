// Deterministic, made-up tokenizer vocabularies for synthetic models, complete
// enough that GGUF readers (jarvis, llama.cpp) load and use them:
//
//  SentencePiece ("llama"): <unk> <s> </s>, the 256 byte-fallback tokens
//  <0x00>..<0xFF> (type 6), single characters, then pieces built by joining
//  two earlier pieces, many starting with "▁"; scores fall with the id so
//  shorter pieces merge first.
//
//  Llama 3 byte-level BPE ("gpt2", pre "llama-bpe"): the 256 GPT-2 byte
//  symbols in the order real Llama 3 has them ('!' is token 0), then tokens
//  each made by one merge of two earlier tokens (the merges list, in rank
//  order), then the 256 special tokens at 128000.. (<|begin_of_text|>,
//  <|end_of_text|>, <|start_header_id|>, <|end_header_id|>, <|eot_id|>,
//  <|reserved_special_token_N|>), and the Llama 3 chat template.
//
//  WordPiece ("bert"), in the phantom-space form llama.cpp's converter writes
//  (word-initial pieces prefixed with U+2581, continuations without "##"):
//  [PAD]=0, [unused0..98], [UNK]=100, [CLS]=101, [SEP]=102, [MASK]=103 as in
//  the real BERT vocabulary, then every printable ASCII character as a word
//  start and every letter and digit as a continuation (so no English word
//  becomes [UNK]), common English words and suffixes, then two- and
//  three-letter pieces up to the size.
//
// The vocabulary depends only on its kind and size, not on the weight seed.
//
// Thread safety: pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "cli/synth_presets.h"
#include "gguf/gguf_writer.h"

namespace jarvis::synth {

// GGUF token types (llama.cpp's llama_token_type).
inline constexpr int32_t kTokenNormal = 1;
inline constexpr int32_t kTokenUnknown = 2;
inline constexpr int32_t kTokenControl = 3;
inline constexpr int32_t kTokenByte = 6;

struct SynthVocab {
  std::string model;  // tokenizer.ggml.model
  std::string pre;    // tokenizer.ggml.pre ("" for SentencePiece)
  std::vector<std::string> tokens;
  std::vector<float> scores;  // SentencePiece only
  std::vector<int32_t> token_types;
  std::vector<std::string> merges;  // BPE only: "left right", rank order
  int32_t bos_id = -1;
  int32_t eos_id = -1;
  int32_t unk_id = -1;        // SentencePiece only
  int32_t eot_id = -1;        // BPE only
  int32_t cls_id = -1;        // WordPiece only: [CLS], [SEP], [PAD], [MASK]
  int32_t sep_id = -1;
  int32_t pad_id = -1;
  int32_t mask_id = -1;
  int32_t token_type_count = 0;  // WordPiece only: tokenizer.ggml.token_type_count
  std::string chat_template;  // BPE only
};

// REQUIRES: n_vocab >= 259 + 68 (SentencePiece), n_vocab >= 256 + 256 + 26 (BPE),
// n_vocab >= 1024 (WordPiece).
SynthVocab BuildVocab(VocabKind kind, int64_t n_vocab);

// Writes the tokenizer.* keys.
void AddVocabMetadata(const SynthVocab& vocab, GgufWriter* writer);

}  // namespace jarvis::synth
