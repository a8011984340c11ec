#include "tokenizer/bpe_encoder.h"

#include <optional>

#include "tokenizer/pair_merger.h"

namespace jarvis {

void EncodeBpeWord(const Vocab& vocab, std::string_view word, std::vector<int32_t>* out) {
  if (word.empty()) return;
  if (vocab.ignore_merges) {
    const int32_t id = vocab.Find(word);
    if (id >= 0) {
      out->push_back(id);
      return;
    }
  }
  // Lowest merge rank first.
  auto id_of = [&](std::string_view piece) { return vocab.Find(piece); };
  auto pair_key = [&](const MergedPiece& l, const MergedPiece& r) -> std::optional<int32_t> {
    const int32_t rank = vocab.MergeRank(word.substr(l.start, l.len), l.id, word.substr(r.start, r.len), r.id);
    if (rank < 0) return std::nullopt;
    return rank;
  };
  for (const MergedPiece& p : MergeAdjacentPairs<int32_t>(word, id_of, pair_key)) {
    if (p.id >= 0) {
      out->push_back(p.id);
      continue;
    }
    // Not a token (only with inconsistent merges): its single bytes.
    for (const char c : word.substr(p.start, p.len)) {
      const int32_t byte_id = vocab.Find(std::string_view(&c, 1));
      if (byte_id >= 0) out->push_back(byte_id);
    }
  }
}

}  // namespace jarvis
