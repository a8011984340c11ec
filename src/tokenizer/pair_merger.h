// MergeAdjacentPairs: the merge loop shared by the SentencePiece and BPE
// encoders (spm_encoder.cpp, bpe_encoder.cpp). The text is split into UTF-8
// characters (by lead byte, without validation); then, while some adjacent
// pair of pieces qualifies, the pair with the smallest key merges into one
// piece (leftmost pair on equal keys). The encoders differ only in the key:
// SPM's is minus the score of the concatenation's token, BPE's the merge rank.
//
// A queue of candidate pairs makes it O(n log n): when a piece grows, its
// stale pairs are recognized by their length and skipped.
//
// Thread safety: stateless.
#pragma once

#include <algorithm>
#include <cstdint>
#include <optional>
#include <queue>
#include <string_view>
#include <utility>
#include <vector>

#include "tokenizer/utf8.h"

namespace jarvis {

struct MergedPiece {
  uint32_t start = 0;  // byte offset in the text
  uint32_t len = 0;
  int32_t id = -1;     // id_of(text of the piece): its token, or -1
};

// id_of(std::string_view piece) -> int32_t token id or -1, for every piece
// (characters at first, then each merge's result).
// pair_key(const MergedPiece& left, const MergedPiece& right) ->
// std::optional<Key>: nullopt when the pair may not merge.
// Returns the final pieces in text order.
template <class Key, class IdOf, class PairKey>
std::vector<MergedPiece> MergeAdjacentPairs(std::string_view text, const IdOf& id_of, const PairKey& pair_key) {
  struct Node {
    MergedPiece piece;
    int32_t prev, next;
  };
  struct Candidate {
    Key key;
    int32_t left, right;
    uint32_t len;  // combined length when queued; a mismatch later means stale
  };
  // std::priority_queue pops the largest: "larger" = bigger key, then further right.
  auto later = [](const Candidate& a, const Candidate& b) {
    return b.key < a.key || (!(a.key < b.key) && a.left > b.left);
  };
  std::vector<Node> nodes;
  for (size_t offs = 0; offs < text.size();) {
    const size_t len = std::min(utf8::SequenceLength(text[offs]), text.size() - offs);
    const auto index = static_cast<int32_t>(nodes.size());
    const auto start = static_cast<uint32_t>(offs);
    offs += len;
    nodes.push_back({{start, static_cast<uint32_t>(len), id_of(text.substr(start, len))}, index - 1,
                     offs == text.size() ? -1 : index + 1});
  }
  std::priority_queue<Candidate, std::vector<Candidate>, decltype(later)> queue(later);
  auto consider = [&](int32_t left, int32_t right) {
    if (left < 0 || right < 0) return;
    const MergedPiece& l = nodes[static_cast<size_t>(left)].piece;
    const MergedPiece& r = nodes[static_cast<size_t>(right)].piece;
    if (std::optional<Key> key = pair_key(l, r)) queue.push({*key, left, right, l.len + r.len});
  };
  for (int32_t i = 1; i < static_cast<int32_t>(nodes.size()); ++i) consider(i - 1, i);

  while (!queue.empty()) {
    const Candidate c = queue.top();
    queue.pop();
    Node& left = nodes[static_cast<size_t>(c.left)];
    Node& right = nodes[static_cast<size_t>(c.right)];
    // Pieces only ever absorb their right neighbour, so while both are alive
    // they are still adjacent and the lengths tell if either changed.
    if (left.piece.len == 0 || right.piece.len == 0 || left.piece.len + right.piece.len != c.len) continue;
    left.piece.len += right.piece.len;
    right.piece.len = 0;
    left.piece.id = id_of(text.substr(left.piece.start, left.piece.len));
    left.next = right.next;
    if (right.next >= 0) nodes[static_cast<size_t>(right.next)].prev = c.left;
    consider(left.prev, c.left);
    consider(c.left, left.next);
  }

  std::vector<MergedPiece> out;
  for (int32_t i = nodes.empty() ? -1 : 0; i != -1; i = nodes[static_cast<size_t>(i)].next) {
    out.push_back(nodes[static_cast<size_t>(i)].piece);
  }
  return out;
}

}  // namespace jarvis
