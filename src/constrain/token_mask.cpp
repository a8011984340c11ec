#include "constrain/token_mask.h"

#include <algorithm>
#include <numeric>
#include <unordered_set>

namespace jarvis::constrain {

TokenTrie::TokenTrie(const std::vector<std::string>& pieces, std::span<const int32_t> excluded)
    : vocab_size_(static_cast<int32_t>(pieces.size())), pieces_(pieces) {
  const std::unordered_set<int32_t> skip(excluded.begin(), excluded.end());
  std::vector<int32_t> order;
  for (int32_t id = 0; id < vocab_size_; ++id) {
    if (!pieces_[static_cast<size_t>(id)].empty() && skip.count(id) == 0) order.push_back(id);
  }
  std::sort(order.begin(), order.end(), [&](int32_t a, int32_t b) {
    const std::string& pa = pieces_[static_cast<size_t>(a)];
    const std::string& pb = pieces_[static_cast<size_t>(b)];
    return pa != pb ? pa < pb : a < b;
  });
  // Sorted order is preorder: each token shares a prefix with the previous
  // one, closes the nodes beyond it and opens new ones for the rest.
  std::vector<int32_t> open;  // node index at each depth - 1 of the current path
  const std::string* prev = nullptr;
  token_ids_.reserve(order.size());
  for (int32_t id : order) {
    const std::string& p = pieces_[static_cast<size_t>(id)];
    size_t common = 0;
    if (prev != nullptr) {
      const size_t limit = std::min(prev->size(), p.size());
      while (common < limit && (*prev)[common] == p[common]) ++common;
    }
    while (open.size() > common) {
      nodes_[static_cast<size_t>(open.back())].subtree_end = static_cast<int32_t>(nodes_.size());
      open.pop_back();
    }
    for (size_t d = common; d < p.size(); ++d) {
      open.push_back(static_cast<int32_t>(nodes_.size()));
      const int32_t t = static_cast<int32_t>(token_ids_.size());
      nodes_.push_back(Node{static_cast<uint8_t>(p[d]), static_cast<uint32_t>(d + 1), 0, t, t});
    }
    max_depth_ = std::max<uint32_t>(max_depth_, static_cast<uint32_t>(p.size()));
    Node& leaf = nodes_[static_cast<size_t>(open.back())];
    if (leaf.tokens_end != static_cast<int32_t>(token_ids_.size())) {
      leaf.tokens_begin = leaf.tokens_end = static_cast<int32_t>(token_ids_.size());
    }
    token_ids_.push_back(id);
    leaf.tokens_end = static_cast<int32_t>(token_ids_.size());
    prev = &p;
  }
  while (!open.empty()) {
    nodes_[static_cast<size_t>(open.back())].subtree_end = static_cast<int32_t>(nodes_.size());
    open.pop_back();
  }
}

GrammarMasks::GrammarMasks(std::shared_ptr<const Grammar> grammar, const TokenTrie& trie, size_t max_cached)
    : grammar_(std::move(grammar)), trie_(trie), matcher_(*grammar_), max_cached_(max_cached) {}

const TokenMask& GrammarMasks::MaskFor(const MatchState& state) {
  std::string key = state.Key();
  auto it = cache_.find(key);
  if (it != cache_.end()) {
    ++hits_;
    return *it->second;
  }
  ++misses_;
  if (cache_.size() >= max_cached_) cache_.clear();  // bounded memory; states recompute on demand
  auto mask = std::make_unique<TokenMask>();
  Compute(state, mask.get());
  return *cache_.emplace(std::move(key), std::move(mask)).first->second;
}

int32_t GrammarMasks::Intern(MatchState state) {
  std::string key = state.Key();
  auto it = interned_ids_.find(key);
  if (it != interned_ids_.end()) return it->second;
  const int32_t id = static_cast<int32_t>(interned_.size());
  auto entry = std::make_unique<Interned>();
  entry->state = std::move(state);
  entry->next.fill(kUnknown);
  interned_.push_back(std::move(entry));
  interned_ids_.emplace(std::move(key), id);
  return id;
}

int32_t GrammarMasks::Next(int32_t id, uint8_t byte) {
  const int32_t known = interned_[static_cast<size_t>(id)]->next[byte];
  if (known != kUnknown) return known;
  MatchState to;
  const int32_t next = matcher_.AdvanceByte(interned_[static_cast<size_t>(id)]->state, byte, &to)
                           ? Intern(std::move(to))
                           : kDead;
  interned_[static_cast<size_t>(id)]->next[byte] = next;
  return next;
}

void GrammarMasks::Compute(const MatchState& state, TokenMask* mask) {
  mask->allowed.assign((static_cast<size_t>(trie_.vocab_size()) + 63) / 64, 0);
  mask->n_allowed = 0;
  mask->only_token = -1;
  if (interned_.size() > kMaxInterned) {
    interned_.clear();
    interned_ids_.clear();
  }
  level_ids_.resize(trie_.max_depth() + 1);
  level_ids_[0] = Intern(state);
  const auto& nodes = trie_.nodes();
  const auto& ids = trie_.token_ids();
  const int32_t n = static_cast<int32_t>(nodes.size());
  for (int32_t i = 0; i < n;) {
    const TokenTrie::Node& node = nodes[static_cast<size_t>(i)];
    const int32_t next = Next(level_ids_[node.depth - 1], node.byte);
    if (interned_.size() > kMaxInternedInOneWalk) {
      interned_.clear();
      interned_ids_.clear();
      return ComputeDirect(state, mask);
    }
    if (next == kDead) {
      i = node.subtree_end;  // no token starting with these bytes fits
      continue;
    }
    level_ids_[node.depth] = next;
    for (int32_t t = node.tokens_begin; t < node.tokens_end; ++t) {
      const int32_t id = ids[static_cast<size_t>(t)];
      mask->allowed[static_cast<size_t>(id) / 64] |= uint64_t{1} << (id % 64);
      ++mask->n_allowed;
      mask->only_token = id;
    }
    ++i;
  }
  if (mask->n_allowed != 1) mask->only_token = -1;
}

void GrammarMasks::ComputeDirect(const MatchState& state, TokenMask* mask) {
  mask->allowed.assign((static_cast<size_t>(trie_.vocab_size()) + 63) / 64, 0);
  mask->n_allowed = 0;
  mask->only_token = -1;
  if (levels_.size() < trie_.max_depth() + 1) levels_.resize(trie_.max_depth() + 1);
  levels_[0] = state;
  const auto& nodes = trie_.nodes();
  const auto& ids = trie_.token_ids();
  const int32_t n = static_cast<int32_t>(nodes.size());
  for (int32_t i = 0; i < n;) {
    const TokenTrie::Node& node = nodes[static_cast<size_t>(i)];
    if (!matcher_.AdvanceByte(levels_[node.depth - 1], node.byte, &levels_[node.depth])) {
      i = node.subtree_end;
      continue;
    }
    for (int32_t t = node.tokens_begin; t < node.tokens_end; ++t) {
      const int32_t id = ids[static_cast<size_t>(t)];
      mask->allowed[static_cast<size_t>(id) / 64] |= uint64_t{1} << (id % 64);
      ++mask->n_allowed;
      mask->only_token = id;
    }
    ++i;
  }
  if (mask->n_allowed != 1) mask->only_token = -1;
}

}  // namespace jarvis::constrain
