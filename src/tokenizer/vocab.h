// Vocab: the token table shared by both tokenizer algorithms: token texts,
// scores, attributes, text -> id lookup, special token ids, and for BPE the
// merge ranks. Built once by LoadVocab (vocab_loader.cpp), then immutable.
//
// Token texts live in one arena string; the lookup map holds views into it, so
// loading a 128k-token vocabulary is a few allocations plus one hash insert per
// token and per merge (flat tables, flat_index.h).
//
// Thread safety: immutable after loading; any number of threads may read it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "jarvis/status.h"
#include "tokenizer/flat_index.h"

namespace jarvis {

class GgufFile;

enum class VocabKind { kSpm, kBpe, kWordPiece };

// GGUF's tokenizer.ggml.token_type values.
enum class TokenType : int32_t {
  kUndefined = 0,
  kNormal = 1,
  kUnknown = 2,
  kControl = 3,
  kUserDefined = 4,
  kUnused = 5,
  kByte = 6,
};

// Attribute bits, as llama.cpp derives them from the token type plus fix-ups by
// token text (a token can gain kAttrControl on top of its type).
enum TokenAttr : uint16_t {
  kAttrUnknown = 1 << 0,
  kAttrUnused = 1 << 1,
  kAttrNormal = 1 << 2,
  kAttrControl = 1 << 3,
  kAttrUserDefined = 1 << 4,
  kAttrByte = 1 << 5,
  kAttrLstrip = 1 << 6,  // swallow whitespace before this special token
  kAttrRstrip = 1 << 7,  // swallow whitespace after it
};

struct SpecialTokenIds {
  int32_t bos = -1, eos = -1, eot = -1, eom = -1, unk = -1, sep = -1, pad = -1;
  int32_t cls = -1, mask = -1;  // WordPiece: [CLS] (also bos) and [MASK]
  int32_t fim_pre = -1, fim_suf = -1, fim_mid = -1, fim_pad = -1, fim_rep = -1, fim_sep = -1;
};

class Vocab {
 public:
  Vocab() = default;
  Vocab(const Vocab&) = delete;
  Vocab& operator=(const Vocab&) = delete;

  VocabKind kind = VocabKind::kSpm;
  SpecialTokenIds special;
  std::vector<int32_t> eog_ids;  // sorted: ids that end generation
  bool add_bos = false;
  bool add_eos = false;
  bool add_space_prefix =
      false;                   // SPM: a ' ' goes before text at the start / after a special token
  bool ignore_merges = false;  // BPE: a word that is a token is emitted whole
  std::string pre;             // tokenizer.ggml.pre (BPE)
  // WordPiece ("bert"): [SEP] after the text (tokenizer.ggml.add_sep_token,
  // default on); lower-case + strip accents (uncased vocabulary); which of the
  // two piece spellings the vocabulary uses (wordpiece_encoder.h); the longest
  // token text, which bounds the match loop.
  bool add_sep = false;
  bool wordpiece_lowercase = false;
  bool wordpiece_phantom = false;
  size_t wordpiece_max_piece_bytes = 0;

  int32_t size() const { return static_cast<int32_t>(scores_.size()); }
  bool Contains(int32_t id) const { return id >= 0 && id < size(); }
  // REQUIRES: Contains(id) for the three accessors below.
  std::string_view text(int32_t id) const {
    return std::string_view(arena_.data() + offsets_[id], offsets_[id + 1] - offsets_[id]);
  }
  float score(int32_t id) const { return scores_[id]; }
  uint16_t attrs(int32_t id) const { return attrs_[id]; }
  TokenType type(int32_t id) const;

  // Id of the token whose text is exactly `text`, or -1.
  int32_t Find(std::string_view text) const {
    return by_text_.Find(text, [this](int32_t id) { return this->text(id); });
  }

  // Merge rank of the pair (left, right) of adjacent symbols; lower merges
  // first; -1 if they never merge. `left_id` / `right_id` are Find() of the
  // texts, passed in because callers keep them per symbol.
  int32_t MergeRank(std::string_view left, int32_t left_id, std::string_view right,
                    int32_t right_id) const;

  // Tokens matched as whole units before pre-tokenization (control, user-defined
  // and unknown), longest text first.
  const std::vector<int32_t>& special_tokens_by_length() const { return special_by_length_; }

  // --- Building (vocab_loader.cpp) -------------------------------------------
  // Texts are copied; a duplicate text is Corruption. Empty texts become
  // "[EMPTY_<id>]" as in llama.cpp.
  Status SetTokens(const std::vector<std::string_view>& texts, std::vector<float> scores,
                   std::vector<uint16_t> attrs);
  void SetAttrs(int32_t id, uint16_t attrs) { attrs_[id] = attrs; }
  // Merges in rank order, each "left right" split at the first space after
  // byte 0; the first occurrence of a pair keeps its rank.
  void AddMerge(std::string_view merge, int32_t rank);
  void ReserveMerges(size_t n) { merge_ranks_.Reset(n); }
  void FinishSpecialTokens();

 private:
  struct PairHash {
    size_t operator()(const std::pair<std::string, std::string>& p) const {
      return std::hash<std::string>()(p.first) * 31 + std::hash<std::string>()(p.second);
    }
  };

  std::vector<char> arena_;        // by_text_ holds views into it
  std::vector<uint32_t> offsets_;  // size() + 1 entries into arena_
  std::vector<float> scores_;
  std::vector<uint16_t> attrs_;
  TextIndex by_text_;
  // Merges whose halves are both tokens (all of them in real vocabularies),
  // keyed by the two ids; the rest by their texts.
  PairRankMap merge_ranks_;
  std::unordered_map<std::pair<std::string, std::string>, int32_t, PairHash> text_merge_ranks_;
  std::vector<int32_t> special_by_length_;
};

// Reads tokenizer.ggml.* from `gguf`. Unsupported for vocabulary kinds other
// than "llama" (SentencePiece), "gpt2" (byte-level BPE) and "bert" (WordPiece) or an unknown
// pre-tokenizer; Corruption for missing or malformed keys.
Result<std::unique_ptr<Vocab>> LoadVocab(const GgufFile& gguf);

}  // namespace jarvis
