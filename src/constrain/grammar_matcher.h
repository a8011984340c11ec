// GrammarMatcher: where a Grammar stands after some bytes of output, and how
// one more byte moves it. The state is the set of live parse stacks (as in a
// pushdown automaton; llama.cpp keeps the same shape) plus the bytes of an
// unfinished UTF-8 character.
//
// A stack lists grammar positions (indices into Grammar::elements) still to
// match, innermost last; its top is always a character-class element, or the
// stack is empty, which means the input so far is a complete sentence. A rule
// reference at the end of an alternative is not kept on the stack (tail call),
// so repetitions (`x*` is `r ::= x r | ""`) do not grow it and the same
// grammar position reached twice gives the same state: that is what lets the
// token masks be cached per state (token_mask.h).
//
// UTF-8: grammars match code points, output arrives as bytes. A lead byte
// starts a pending character; the state is pruned as soon as no class at the
// top of any stack can contain a character with the bytes seen so far, so a
// token that ends mid-character is allowed exactly when the character can
// still be completed validly.
//
// Bounds: stacks deeper than kMaxStackDepth, states with more than kMaxStacks
// stacks, or more than kMaxExpansions expansion steps for one character set
// overflow() instead of growing (or taking time) without limit.
//
// Thread safety: MatchState is a value; GrammarMatcher is stateless apart
// from scratch buffers, so use one per thread.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "constrain/grammar.h"

namespace jarvis::constrain {

struct MatchState {
  std::vector<int32_t> data;   // stacks, concatenated
  std::vector<uint32_t> ends;  // end offset in data of each stack
  uint32_t partial_cp = 0;     // bits of an unfinished UTF-8 character
  uint8_t partial_left = 0;    // continuation bytes it still needs (0: none)
  uint8_t partial_len = 0;     // its total length in bytes

  size_t n_stacks() const { return ends.size(); }
  bool dead() const { return ends.empty(); }
  // Some parse has consumed the whole grammar (and no character is pending).
  bool can_end() const;
  // Nothing but the end can follow: every stack is empty.
  bool complete() const;
  // A byte string identifying the state (key of the mask cache).
  std::string Key() const;
  void Clear() {
    data.clear();
    ends.clear();
    partial_cp = 0;
    partial_left = 0;
    partial_len = 0;
  }
};

class GrammarMatcher {
 public:
  // `grammar` must outlive the matcher.
  explicit GrammarMatcher(const Grammar& grammar) : g_(grammar) {}

  // The state before any output: root expanded.
  MatchState Initial();
  // Moves `from` by one byte into `to` (may not alias). Returns false (and
  // leaves `to` dead) when the byte cannot continue any parse.
  bool AdvanceByte(const MatchState& from, uint8_t byte, MatchState* to);
  // Moves by a whole string; false as soon as one byte fails.
  bool AdvanceBytes(MatchState* state, std::string_view bytes);

  // A stack grew too deep or a state had too many parses; the grammar is
  // refused from then on.
  bool overflow() const { return overflow_; }

 private:
  void AdvanceCodePoint(const MatchState& from, uint32_t cp, MatchState* to);
  // Pushes the expansion of scratch_ (whose top may be a rule) into `to`.
  // Restores scratch_ before returning.
  void Expand(MatchState* to, int depth);
  void AddStack(MatchState* to);
  // Whether some stack of `state` can take a character in [lo, hi].
  bool AnyTopMatches(const MatchState& state, uint32_t lo, uint32_t hi) const;

  const Grammar& g_;
  std::vector<int32_t> scratch_;
  // Expansion steps left for the current advance: an ambiguous grammar such
  // as ("" | ""){0,200} has exponentially many expansion paths that all end
  // in the same few stacks; past the budget the matcher overflows instead.
  int64_t expand_budget_ = 0;
  bool overflow_ = false;
};

}  // namespace jarvis::constrain
