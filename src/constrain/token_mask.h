// Token masks: which vocabulary tokens a grammar state can take next.
//
// TokenTrie holds every token's bytes in a prefix tree laid out in preorder,
// each node knowing where its subtree ends. A mask is computed by walking the
// trie once while advancing a copy of the grammar state byte by byte: a byte
// the grammar refuses skips the node's whole subtree (every token that
// starts with those bytes), so the cost follows the allowed tokens, not the
// vocabulary. Tokens that share a prefix share its work.
//
// The walk itself runs on interned states: each distinct state reached gets an
// id and a 256-entry row of byte transitions filled on first use, so after
// the first visit a byte step is one table lookup. Inside a JSON string most
// bytes lead back to the same state, so the walk over a 128K vocabulary costs
// little more than reading the trie.
//
// GrammarMasks caches the mask of each state it has seen (MatchState::Key):
// in JSON, the state inside a string or after a comma recurs at every
// character, so after the first few tokens nearly every mask is a hash
// lookup. The cache lives as long as the grammar (the scheduler keeps one per
// grammar text), so repeated requests with the same schema start warm.
//
// Thread safety: TokenTrie is immutable after construction. GrammarMasks is
// not synchronized: use it from one thread (the scheduler's loop).
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "constrain/grammar.h"
#include "constrain/grammar_matcher.h"

namespace jarvis::constrain {

class TokenTrie {
 public:
  // pieces[id]: the bytes token `id` adds to the output. Empty pieces
  // (control tokens) and the ids in `excluded` are left out: a grammar never
  // allows them.
  TokenTrie(const std::vector<std::string>& pieces, std::span<const int32_t> excluded);

  int32_t vocab_size() const { return vocab_size_; }
  const std::string& piece(int32_t id) const { return pieces_[static_cast<size_t>(id)]; }

  struct Node {
    uint8_t byte;
    uint32_t depth;       // 1 for a first byte
    int32_t subtree_end;  // index of the first node after this one's subtree
    int32_t tokens_begin, tokens_end;  // range in token_ids of tokens ending here
  };
  const std::vector<Node>& nodes() const { return nodes_; }
  const std::vector<int32_t>& token_ids() const { return token_ids_; }
  uint32_t max_depth() const { return max_depth_; }

 private:
  int32_t vocab_size_;
  std::vector<std::string> pieces_;
  std::vector<Node> nodes_;
  std::vector<int32_t> token_ids_;
  uint32_t max_depth_ = 0;
};

struct TokenMask {
  std::vector<uint64_t> allowed;  // bit per token id
  int32_t n_allowed = 0;
  int32_t only_token = -1;        // the token when n_allowed == 1

  bool Allows(int32_t id) const {
    return id >= 0 && static_cast<size_t>(id) / 64 < allowed.size() &&
           ((allowed[static_cast<size_t>(id) / 64] >> (id % 64)) & 1u) != 0;
  }
};

class GrammarMasks {
 public:
  // `trie` must outlive this object.
  GrammarMasks(std::shared_ptr<const Grammar> grammar, const TokenTrie& trie, size_t max_cached = 4096);
  GrammarMasks(const GrammarMasks&) = delete;
  GrammarMasks& operator=(const GrammarMasks&) = delete;

  const Grammar& grammar() const { return *grammar_; }
  const TokenTrie& trie() const { return trie_; }
  GrammarMatcher& matcher() { return matcher_; }

  // The mask of `state` (computed on a miss). Valid until the next call.
  const TokenMask& MaskFor(const MatchState& state);

  // Cache statistics (tests, bench).
  size_t hits() const { return hits_; }
  size_t misses() const { return misses_; }

 private:
  static constexpr int32_t kUnknown = -2, kDead = -1;
  static constexpr size_t kMaxInterned = 8192;  // then the table restarts (bounded memory)
  // One walk that interns more states than this (a grammar that counts
  // characters across many partial UTF-8 states) finishes without the table.
  static constexpr size_t kMaxInternedInOneWalk = 65536;
  struct Interned {
    MatchState state;
    std::array<int32_t, 256> next;  // state id after each byte; kUnknown, kDead
  };

  void Compute(const MatchState& state, TokenMask* mask);
  void ComputeDirect(const MatchState& state, TokenMask* mask);
  int32_t Intern(MatchState state);
  int32_t Next(int32_t id, uint8_t byte);

  std::shared_ptr<const Grammar> grammar_;
  const TokenTrie& trie_;
  GrammarMatcher matcher_;
  size_t max_cached_;
  std::unordered_map<std::string, std::unique_ptr<TokenMask>> cache_;
  std::vector<std::unique_ptr<Interned>> interned_;
  std::unordered_map<std::string, int32_t> interned_ids_;
  std::vector<int32_t> level_ids_;  // scratch: the state id at each trie depth
  std::vector<MatchState> levels_;  // scratch for ComputeDirect: the state at each depth
  size_t hits_ = 0, misses_ = 0;
};

}  // namespace jarvis::constrain
