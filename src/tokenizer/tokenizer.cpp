#include "tokenizer/tokenizer.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <unordered_map>

#include "gguf/gguf_reader.h"
#include "tokenizer/bpe_encoder.h"
#include "tokenizer/byte_unicode.h"
#include "tokenizer/pretokenizer.h"
#include "tokenizer/special_partition.h"
#include "tokenizer/spm_encoder.h"
#include "tokenizer/utf8.h"
#include "tokenizer/wordpiece_encoder.h"

namespace jarvis {

namespace {

// Bounds the symbol arrays (SPM escapes ' ' to three bytes; ~16 bytes of state
// per character) well inside 32-bit offsets.
constexpr size_t kMaxInputBytes = size_t{256} << 20;
constexpr std::string_view kSpmSpace = "\xE2\x96\x81";  // U+2581, SentencePiece's space

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// The byte of a "<0xXX>" token, read like llama.cpp (strtol of text[3..5]).
char ByteTokenValue(std::string_view text) {
  int value = 0;
  for (size_t i = 3; i < std::min<size_t>(text.size(), 5); ++i) {
    const int d = HexDigit(text[i]);
    if (d < 0) break;
    value = value * 16 + d;
  }
  return static_cast<char>(value);
}

void AppendSpmUnescaped(std::string_view text, std::string* out) {
  size_t pos = 0;
  while (true) {
    const size_t hit = text.find(kSpmSpace, pos);
    out->append(
        text.substr(pos, hit == std::string_view::npos ? std::string_view::npos : hit - pos));
    if (hit == std::string_view::npos) return;
    out->push_back(' ');
    pos = hit + kSpmSpace.size();
  }
}

// Inverse GPT-2 byte mapping. A code point outside the mapping (no real
// vocabulary has one) is kept as its UTF-8; llama.cpp writes "[UNK_BYTE_...]".
void AppendBpeDecoded(std::string_view text, std::string* out) {
  size_t pos = 0;
  while (pos < text.size()) {
    const utf8::Decoded d = utf8::DecodeAt(text, pos);
    const size_t len = d.kind == utf8::Decoded::kValid ? d.length : 1;
    const int byte =
        d.kind == utf8::Decoded::kValid ? byte_unicode::DecodeCodepoint(d.codepoint) : -1;
    if (byte >= 0) {
      out->push_back(static_cast<char>(byte));
    } else {
      out->append(text.substr(pos, len));
    }
    pos += len;
  }
}

}  // namespace

Tokenizer::Tokenizer() = default;
Tokenizer::~Tokenizer() = default;

Result<std::unique_ptr<Tokenizer>> Tokenizer::FromGguf(const GgufFile& gguf) {
  std::unique_ptr<Tokenizer> t(new Tokenizer());
  JARVIS_ASSIGN_OR_RETURN(t->vocab_, LoadVocab(gguf));
  const Vocab& v = *t->vocab_;
  if (v.kind == VocabKind::kBpe) {
    JARVIS_ASSIGN_OR_RETURN(const PreTokenizerConfig config, PreTokenizerConfigFor(v.pre));
    if (!config.warning.empty()) spdlog::warn("{}: {}", gguf.name(), config.warning);
    JARVIS_ASSIGN_OR_RETURN(t->splitter_, RegexSplitter::Create(config.regexes));
  }

  // Pieces, as llama_token_to_piece computes them.
  const int32_t n = v.size();
  t->piece_offsets_.reserve(n + 1);
  t->piece_offsets_.push_back(0);
  t->render_special_only_.assign(n, false);
  for (int32_t id = 0; id < n; ++id) {
    const uint16_t a = v.attrs(id);
    const std::string_view text = v.text(id);
    if (a & (kAttrUnknown | kAttrControl | kAttrUserDefined)) {
      t->pieces_.append(text);
      t->render_special_only_[id] = (a & (kAttrUnknown | kAttrControl)) != 0;
    } else if (a & kAttrNormal) {
      if (v.kind == VocabKind::kSpm) {
        AppendSpmUnescaped(text, &t->pieces_);
      } else if (v.kind == VocabKind::kWordPiece) {
        t->pieces_.append(WordPieceTokenPiece(v, id));
      } else {
        AppendBpeDecoded(text, &t->pieces_);
      }
    } else if (a & kAttrByte) {
      t->pieces_.push_back(ByteTokenValue(text));
    }  // unused / undefined tokens render as nothing
    if (t->pieces_.size() >= UINT32_MAX) return Status::Corruption("vocabulary pieces too large");
    t->piece_offsets_.push_back(static_cast<uint32_t>(t->pieces_.size()));
  }
  return t;
}

Status Tokenizer::EncodeBpeText(std::string_view text, std::vector<int32_t>* out) const {
  std::string sanitized;
  if (!utf8::IsValid(text)) {
    sanitized = utf8::Sanitize(text);
    text = sanitized;
  }
  std::vector<std::string_view> words;
  JARVIS_RETURN_IF_ERROR(splitter_->Split(text, &words));
  // Words repeat a lot in real text; within one call, reuse the ids of a word
  // seen before (where they sit in `out`) instead of merging it again.
  std::unordered_map<std::string_view, std::pair<size_t, size_t>> seen;
  std::string encoded;
  for (const std::string_view word : words) {
    if (const auto it = seen.find(word); it != seen.end()) {
      const auto [first, count] = it->second;
      for (size_t i = 0; i < count; ++i) {
        const int32_t id = (*out)[first + i];
        out->push_back(id);
      }
      continue;
    }
    const size_t first = out->size();
    encoded.clear();
    byte_unicode::EncodeAppend(word, &encoded);
    EncodeBpeWord(*vocab_, encoded, out);
    seen.emplace(word, std::make_pair(first, out->size() - first));
  }
  return Status::Ok();
}

Result<std::vector<int32_t>> Tokenizer::Encode(std::string_view text,
                                               const EncodeOptions& options) const {
  if (text.size() > kMaxInputBytes) {
    return Status::InvalidArgument("text of " + std::to_string(text.size()) +
                                   " bytes exceeds 256 MiB");
  }
  const Vocab& v = *vocab_;
  const std::vector<Fragment> fragments = PartitionSpecialTokens(v, text, options.parse_special);
  std::vector<int32_t> out;
  out.reserve(text.size() / 3 + 2);
  if (options.add_special && v.add_bos) out.push_back(v.special.bos);

  if (v.kind == VocabKind::kSpm) {
    bool after_special = true;  // the text start counts as "after a special token"
    std::string escaped;
    for (const Fragment& f : fragments) {
      if (f.token >= 0) {
        out.push_back(f.token);
        after_special = true;
        continue;
      }
      escaped.clear();
      if (v.add_space_prefix && after_special) escaped.append(kSpmSpace);
      for (const char c : f.text) {
        if (c == ' ') {
          escaped.append(kSpmSpace);
        } else {
          escaped.push_back(c);
        }
      }
      EncodeSpm(v, escaped, &out);
      after_special = false;
    }
  } else if (v.kind == VocabKind::kWordPiece) {
    for (const Fragment& f : fragments) {
      if (f.token >= 0) {
        out.push_back(f.token);
      } else {
        EncodeWordPiece(v, f.text, &out);
      }
    }
  } else {
    for (const Fragment& f : fragments) {
      if (f.token >= 0) {
        out.push_back(f.token);
      } else {
        JARVIS_RETURN_IF_ERROR(EncodeBpeText(f.text, &out));
      }
    }
  }

  if (options.add_special && v.add_eos) out.push_back(v.special.eos);
  if (options.add_special && v.add_sep) out.push_back(v.special.sep);
  return out;
}

std::string_view Tokenizer::Piece(int32_t id, bool render_special) const {
  if (!vocab_->Contains(id) || (render_special_only_[id] && !render_special)) return {};
  return std::string_view(pieces_).substr(piece_offsets_[id],
                                          piece_offsets_[id + 1] - piece_offsets_[id]);
}

std::string Tokenizer::Decode(std::span<const int32_t> ids, const DecodeOptions& options) const {
  std::string out;
  bool strip = options.strip_space_prefix &&
               (vocab_->add_space_prefix || vocab_->kind == VocabKind::kWordPiece);
  for (const int32_t id : ids) {
    std::string_view piece = Piece(id, options.render_special);
    if (piece.empty()) continue;
    if (strip && piece.front() == ' ') piece.remove_prefix(1);
    strip = false;
    out.append(piece);
  }
  return out;
}

std::string_view Tokenizer::TokenText(int32_t id) const {
  return vocab_->Contains(id) ? vocab_->text(id) : std::string_view();
}

TokenType Tokenizer::type(int32_t id) const {
  return vocab_->Contains(id) ? vocab_->type(id) : TokenType::kUndefined;
}

std::optional<int32_t> Tokenizer::FindToken(std::string_view text) const {
  const int32_t id = vocab_->Find(text);
  return id >= 0 ? std::optional<int32_t>(id) : std::nullopt;
}

VocabKind Tokenizer::kind() const { return vocab_->kind; }
const std::string& Tokenizer::pre_tokenizer() const { return vocab_->pre; }
int32_t Tokenizer::vocab_size() const { return vocab_->size(); }
int32_t Tokenizer::bos_id() const { return vocab_->special.bos; }
int32_t Tokenizer::eos_id() const { return vocab_->special.eos; }
int32_t Tokenizer::eot_id() const { return vocab_->special.eot; }
int32_t Tokenizer::unk_id() const { return vocab_->special.unk; }
int32_t Tokenizer::sep_id() const { return vocab_->special.sep; }
int32_t Tokenizer::pad_id() const { return vocab_->special.pad; }
int32_t Tokenizer::mask_id() const { return vocab_->special.mask; }
bool Tokenizer::add_sep() const { return vocab_->add_sep; }
bool Tokenizer::lowercase() const { return vocab_->wordpiece_lowercase; }
bool Tokenizer::add_bos() const { return vocab_->add_bos; }
bool Tokenizer::add_eos() const { return vocab_->add_eos; }
bool Tokenizer::add_space_prefix() const { return vocab_->add_space_prefix; }
bool Tokenizer::regex_jit() const { return splitter_ != nullptr && splitter_->jit(); }

bool Tokenizer::IsEndOfGeneration(int32_t id) const {
  return std::binary_search(vocab_->eog_ids.begin(), vocab_->eog_ids.end(), id);
}

const std::vector<int32_t>& Tokenizer::end_of_generation_ids() const { return vocab_->eog_ids; }

}  // namespace jarvis
