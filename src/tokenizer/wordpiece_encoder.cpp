#include "tokenizer/wordpiece_encoder.h"

#include <utf8proc.h>

#include <algorithm>
#include <cstdlib>

#include "tokenizer/utf8.h"

namespace jarvis {

namespace {

constexpr std::string_view kPhantom = "\xE2\x96\x81";  // U+2581
constexpr std::string_view kContinuation = "##";
constexpr size_t kMaxWordChars = 100;  // BERT's max_input_chars_per_word

utf8proc_category_t Category(uint32_t cp) {
  return static_cast<utf8proc_category_t>(utf8proc_category(static_cast<utf8proc_int32_t>(cp)));
}

bool IsWhitespace(uint32_t cp) {
  return cp == ' ' || cp == '\t' || cp == '\n' || cp == '\r' ||
         Category(cp) == UTF8PROC_CATEGORY_ZS;
}

// BERT's _is_control: any "C*" category except the three whitespace controls.
bool IsControl(uint32_t cp) {
  if (cp == '\t' || cp == '\n' || cp == '\r') return false;
  switch (Category(cp)) {
    case UTF8PROC_CATEGORY_CC:
    case UTF8PROC_CATEGORY_CF:
    case UTF8PROC_CATEGORY_CS:
    case UTF8PROC_CATEGORY_CO:
    case UTF8PROC_CATEGORY_CN: return true;
    default: return false;
  }
}

bool IsPunctuation(uint32_t cp) {
  if ((cp >= 33 && cp <= 47) || (cp >= 58 && cp <= 64) || (cp >= 91 && cp <= 96) ||
      (cp >= 123 && cp <= 126)) {
    return true;
  }
  const utf8proc_category_t c = Category(cp);
  return c >= UTF8PROC_CATEGORY_PC && c <= UTF8PROC_CATEGORY_PO;
}

// BERT's _is_chinese_char ranges.
bool IsCjk(uint32_t cp) {
  return (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0x3400 && cp <= 0x4DBF) ||
         (cp >= 0x20000 && cp <= 0x2A6DF) || (cp >= 0x2A700 && cp <= 0x2B73F) ||
         (cp >= 0x2B740 && cp <= 0x2B81F) || (cp >= 0x2B820 && cp <= 0x2CEAF) ||
         (cp >= 0xF900 && cp <= 0xFAFF) || (cp >= 0x2F800 && cp <= 0x2FA1F);
}

// Valid UTF-8 (invalid bytes -> U+FFFD) decoded to code points.
std::vector<uint32_t> CodePoints(std::string_view text) {
  std::vector<uint32_t> cps;
  cps.reserve(text.size());
  size_t pos = 0;
  while (pos < text.size()) {
    const utf8::Decoded d = utf8::DecodeAt(text, pos);
    if (d.kind == utf8::Decoded::kValid) {
      cps.push_back(d.codepoint);
      pos += d.length;
    } else {
      cps.push_back(utf8::kReplacementChar);
      pos += 1;
    }
  }
  return cps;
}

// NFC of valid UTF-8 (HF's BasicTokenizer composes first); the input on failure.
std::string Nfc(const std::string& text) {
  utf8proc_uint8_t* dst = nullptr;
  const utf8proc_ssize_t n =
      utf8proc_map(reinterpret_cast<const utf8proc_uint8_t*>(text.data()),
                   static_cast<utf8proc_ssize_t>(text.size()), &dst,
                   static_cast<utf8proc_option_t>(UTF8PROC_STABLE | UTF8PROC_COMPOSE));
  if (n < 0 || dst == nullptr) return text;
  std::string out(reinterpret_cast<const char*>(dst), static_cast<size_t>(n));
  std::free(dst);
  return out;
}

class WordBuilder {
 public:
  explicit WordBuilder(std::vector<std::string>* words) : words_(words) {}
  void Flush() {
    if (!current_.empty()) words_->push_back(std::move(current_));
    current_.clear();
  }
  void Append(uint32_t cp) { utf8::AppendCodepoint(cp, &current_); }
  void Alone(uint32_t cp) {
    Flush();
    Append(cp);
    Flush();
  }

 private:
  std::vector<std::string>* words_;
  std::string current_;
};

// Lower-cased, NFD-decomposed `cp` without its nonspacing marks.
void LowerStrip(uint32_t cp, std::vector<uint32_t>* out) {
  out->clear();
  const utf8proc_int32_t lower = utf8proc_tolower(static_cast<utf8proc_int32_t>(cp));
  utf8proc_int32_t buf[32];
  int boundclass = UTF8PROC_BOUNDCLASS_START;
  const utf8proc_ssize_t n =
      utf8proc_decompose_char(lower, buf, 32, UTF8PROC_DECOMPOSE, &boundclass);
  if (n <= 0 || n > 32) {
    out->push_back(static_cast<uint32_t>(lower));
    return;
  }
  for (utf8proc_ssize_t i = 0; i < n; ++i) {
    const uint32_t d = static_cast<uint32_t>(buf[i]);
    if (Category(d) != UTF8PROC_CATEGORY_MN) out->push_back(d);
  }
}

bool Matchable(const Vocab& vocab, int32_t id) {
  return id >= 0 && (vocab.attrs(id) & (kAttrControl | kAttrUnknown)) == 0;
}

}  // namespace

std::vector<std::string> WordPieceBasicSplit(std::string_view text, bool lowercase) {
  std::string sanitized = utf8::IsValid(text) ? std::string(text) : utf8::Sanitize(text);
  if (!lowercase) sanitized = Nfc(sanitized);
  const std::vector<uint32_t> cps = CodePoints(sanitized);

  std::vector<std::string> words;
  WordBuilder word(&words);
  std::vector<uint32_t> parts;
  for (const uint32_t cp : cps) {
    if (cp == 0 || cp == utf8::kReplacementChar || IsControl(cp)) continue;
    if (IsWhitespace(cp)) {
      word.Flush();
      continue;
    }
    if (lowercase) {
      LowerStrip(cp, &parts);
    } else {
      parts.assign(1, cp);
    }
    if (IsCjk(cp)) {
      word.Flush();
      for (const uint32_t p : parts) word.Append(p);
      word.Flush();
      continue;
    }
    for (const uint32_t p : parts) {
      if (IsPunctuation(p)) {
        word.Alone(p);
      } else {
        word.Append(p);
      }
    }
  }
  word.Flush();
  return words;
}

void EncodeWordPiece(const Vocab& vocab, std::string_view text, std::vector<int32_t>* out) {
  const std::string_view initial_prefix = vocab.wordpiece_phantom ? kPhantom : std::string_view();
  const std::string_view continuation_prefix =
      vocab.wordpiece_phantom ? std::string_view() : kContinuation;
  std::vector<size_t> offsets;  // byte offset of each character, plus the end
  std::string key;
  for (const std::string& word : WordPieceBasicSplit(text, vocab.wordpiece_lowercase)) {
    offsets.clear();
    for (size_t pos = 0; pos < word.size(); pos += utf8::SequenceLength(word[pos])) {
      offsets.push_back(pos);
    }
    const size_t n_chars = offsets.size();
    offsets.push_back(word.size());

    const size_t first = out->size();
    bool ok = n_chars <= kMaxWordChars;
    for (size_t start = 0; ok && start < n_chars;) {
      const std::string_view prefix = start == 0 ? initial_prefix : continuation_prefix;
      int32_t found = -1;
      size_t end = n_chars;
      for (; end > start; --end) {
        const size_t bytes = offsets[end] - offsets[start];
        if (prefix.size() + bytes > vocab.wordpiece_max_piece_bytes) continue;
        key.assign(prefix);
        key.append(word, offsets[start], bytes);
        const int32_t id = vocab.Find(key);
        if (Matchable(vocab, id)) {
          found = id;
          break;
        }
      }
      if (found < 0) {
        ok = false;
        break;
      }
      out->push_back(found);
      start = end;
    }
    if (!ok) {
      out->resize(first);
      if (vocab.special.unk >= 0) out->push_back(vocab.special.unk);
    }
  }
}

bool WordPieceVocabIsUncased(const Vocab& vocab) {
  for (int32_t id = 0; id < vocab.size(); ++id) {
    if ((vocab.attrs(id) & kAttrNormal) == 0) continue;
    std::string_view text = vocab.text(id);
    if (text.starts_with(kPhantom)) text.remove_prefix(kPhantom.size());
    if (text.size() >= 2 && text.front() == '[' && text.back() == ']') continue;
    size_t pos = 0;
    while (pos < text.size()) {
      const utf8::Decoded d = utf8::DecodeAt(text, pos);
      if (d.kind != utf8::Decoded::kValid) {
        ++pos;
        continue;
      }
      const auto cp = static_cast<utf8proc_int32_t>(d.codepoint);
      if (utf8proc_tolower(cp) != cp) return false;
      pos += d.length;
    }
  }
  return true;
}

bool WordPieceVocabIsPhantom(const Vocab& vocab) {
  int64_t phantom = 0, hashes = 0;
  for (int32_t id = 0; id < vocab.size(); ++id) {
    const std::string_view text = vocab.text(id);
    if (text.starts_with(kPhantom)) ++phantom;
    if (text.size() > kContinuation.size() && text.starts_with(kContinuation)) ++hashes;
  }
  return phantom > hashes;
}

std::string WordPieceTokenPiece(const Vocab& vocab, int32_t id) {
  std::string_view text = vocab.text(id);
  std::string out;
  if (vocab.wordpiece_phantom) {
    if (text.starts_with(kPhantom)) {
      out.push_back(' ');
      text.remove_prefix(kPhantom.size());
    }
  } else if (text.size() > kContinuation.size() && text.starts_with(kContinuation)) {
    text.remove_prefix(kContinuation.size());
  } else {
    out.push_back(' ');
  }
  out.append(text);
  return out;
}

}  // namespace jarvis
