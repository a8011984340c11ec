#include "tokenizer/bpe_encoder.h"

#include <queue>

#include "tokenizer/utf8.h"

namespace jarvis {

namespace {

struct Symbol {
  int32_t prev;
  int32_t next;
  uint32_t start;  // byte offset in the word
  uint32_t len;    // 0 once merged into its left neighbour
  int32_t id;      // token with this text, or -1
};

struct Bigram {
  int32_t left;
  int32_t right;
  int32_t rank;
  uint32_t len;  // combined length when queued; a mismatch later means stale
};

// Lowest rank first, then leftmost.
struct BigramOrder {
  bool operator()(const Bigram& a, const Bigram& b) const {
    return a.rank > b.rank || (a.rank == b.rank && a.left > b.left);
  }
};

class BpeSession {
 public:
  BpeSession(const Vocab& vocab, std::string_view word) : vocab_(vocab), word_(word) {}

  void Run(std::vector<int32_t>* out) {
    for (size_t offs = 0; offs < word_.size();) {
      const size_t len = std::min(utf8::SequenceLength(word_[offs]), word_.size() - offs);
      const auto index = static_cast<int32_t>(symbols_.size());
      offs += len;
      const auto start = static_cast<uint32_t>(offs - len);
      symbols_.push_back({index - 1, offs == word_.size() ? -1 : index + 1, start,
                          static_cast<uint32_t>(len), vocab_.Find(word_.substr(start, len))});
    }
    for (int32_t i = 1; i < static_cast<int32_t>(symbols_.size()); ++i) TryAddBigram(i - 1, i);

    while (!queue_.empty()) {
      const Bigram b = queue_.top();
      queue_.pop();
      Symbol& left = symbols_[b.left];
      Symbol& right = symbols_[b.right];
      // Symbols only ever absorb their right neighbour, so while both are
      // alive they are still adjacent and the lengths tell if either changed.
      if (left.len == 0 || right.len == 0 || left.len + right.len != b.len) continue;
      left.len += right.len;
      right.len = 0;
      left.id = vocab_.Find(Text(left));
      left.next = right.next;
      if (right.next >= 0) symbols_[right.next].prev = b.left;
      TryAddBigram(left.prev, b.left);
      TryAddBigram(b.left, left.next);
    }

    for (int32_t i = symbols_.empty() ? -1 : 0; i != -1; i = symbols_[i].next) {
      const Symbol& s = symbols_[i];
      if (s.id >= 0) {
        out->push_back(s.id);
        continue;
      }
      for (const char c : Text(s)) {
        const int32_t byte_id = vocab_.Find(std::string_view(&c, 1));
        if (byte_id >= 0) out->push_back(byte_id);
      }
    }
  }

 private:
  std::string_view Text(const Symbol& s) const { return word_.substr(s.start, s.len); }

  void TryAddBigram(int32_t left, int32_t right) {
    if (left < 0 || right < 0) return;
    const Symbol& l = symbols_[left];
    const Symbol& r = symbols_[right];
    const int32_t rank = vocab_.MergeRank(Text(l), l.id, Text(r), r.id);
    if (rank < 0) return;
    queue_.push({left, right, rank, l.len + r.len});
  }

  const Vocab& vocab_;
  std::string_view word_;
  std::vector<Symbol> symbols_;
  std::priority_queue<Bigram, std::vector<Bigram>, BigramOrder> queue_;
};

}  // namespace

void EncodeBpeWord(const Vocab& vocab, std::string_view word, std::vector<int32_t>* out) {
  if (word.empty()) return;
  if (vocab.ignore_merges) {
    const int32_t id = vocab.Find(word);
    if (id >= 0) {
      out->push_back(id);
      return;
    }
  }
  BpeSession(vocab, word).Run(out);
}

}  // namespace jarvis
