#include "tokenizer/spm_encoder.h"

#include <queue>

#include "tokenizer/utf8.h"

namespace jarvis {

namespace {

struct Symbol {
  int32_t prev;
  int32_t next;
  uint32_t start;  // byte offset in the text
  uint32_t len;    // 0 once merged into its left neighbour
};

struct Bigram {
  int32_t left;
  int32_t right;
  float score;
  uint32_t len;  // combined length when queued; a mismatch later means stale
};

// Highest score first, then leftmost.
struct BigramOrder {
  bool operator()(const Bigram& a, const Bigram& b) const {
    return a.score < b.score || (a.score == b.score && a.left > b.left);
  }
};

class SpmSession {
 public:
  SpmSession(const Vocab& vocab, std::string_view text) : vocab_(vocab), text_(text) {}

  void Run(std::vector<int32_t>* out) {
    for (size_t offs = 0; offs < text_.size();) {
      const size_t len = std::min(utf8::SequenceLength(text_[offs]), text_.size() - offs);
      const auto index = static_cast<int32_t>(symbols_.size());
      offs += len;
      symbols_.push_back({index - 1, offs == text_.size() ? -1 : index + 1,
                          static_cast<uint32_t>(offs - len), static_cast<uint32_t>(len)});
    }
    for (int32_t i = 1; i < static_cast<int32_t>(symbols_.size()); ++i) TryAddBigram(i - 1, i);

    while (!queue_.empty()) {
      const Bigram b = queue_.top();
      queue_.pop();
      Symbol& left = symbols_[b.left];
      Symbol& right = symbols_[b.right];
      if (left.len == 0 || right.len == 0 || left.len + right.len != b.len) continue;  // stale
      left.len += right.len;
      right.len = 0;
      left.next = right.next;
      if (right.next >= 0) symbols_[right.next].prev = b.left;
      TryAddBigram(left.prev, b.left);
      TryAddBigram(b.left, left.next);
    }

    for (int32_t i = symbols_.empty() ? -1 : 0; i != -1; i = symbols_[i].next) {
      const Symbol& s = symbols_[i];
      const std::string_view piece = text_.substr(s.start, s.len);
      // Merged symbols are always tokens (only token pairs are queued), so a
      // symbol that is not a token is a single character outside the
      // vocabulary: fall back to its bytes.
      const int32_t id = vocab_.Find(piece);
      if (id >= 0) {
        out->push_back(id);
        continue;
      }
      for (const char c : piece) {
        const int32_t byte_id = SpmByteToken(vocab_, static_cast<uint8_t>(c));
        if (byte_id >= 0) out->push_back(byte_id);
      }
    }
  }

 private:
  void TryAddBigram(int32_t left, int32_t right) {
    if (left < 0 || right < 0) return;
    const uint32_t len = symbols_[left].len + symbols_[right].len;
    const int32_t id = vocab_.Find(text_.substr(symbols_[left].start, len));
    if (id < 0) return;
    queue_.push({left, right, vocab_.score(id), len});
  }

  const Vocab& vocab_;
  std::string_view text_;
  std::vector<Symbol> symbols_;
  std::priority_queue<Bigram, std::vector<Bigram>, BigramOrder> queue_;
};

}  // namespace

int32_t SpmByteToken(const Vocab& vocab, uint8_t byte) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  const char name[6] = {'<', '0', 'x', kHex[byte >> 4], kHex[byte & 15], '>'};
  int32_t id = vocab.Find(std::string_view(name, sizeof(name)));
  if (id < 0) id = vocab.Find(std::string_view(reinterpret_cast<const char*>(&byte), 1));
  if (id < 0) id = vocab.special.unk;
  return id;
}

void EncodeSpm(const Vocab& vocab, std::string_view text, std::vector<int32_t>* out) {
  SpmSession(vocab, text).Run(out);
}

}  // namespace jarvis
