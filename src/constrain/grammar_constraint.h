// GrammarConstraint: one sequence's progress through a grammar, as a filter
// on the logits before sampling.
//
//   Apply(logits)  bans (-inf) every token the grammar cannot take next; the
//                  end-of-generation tokens stay allowed only where the
//                  grammar may end. Reports the token when it is the only
//                  possibility, so the caller can skip sampling.
//   Accept(token)  advances the state by the token's bytes.
//   complete()     nothing can follow: the caller finishes with "stop".
//
// Thread safety: one per sequence, used on one thread together with its
// GrammarMasks (shared by the sequences of one grammar on that thread).
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "constrain/grammar_matcher.h"
#include "constrain/token_mask.h"
#include "jarvis/status.h"

namespace jarvis::constrain {

class GrammarConstraint {
 public:
  // `end_tokens`: the vocabulary's end-of-generation ids.
  GrammarConstraint(std::shared_ptr<GrammarMasks> masks, std::vector<int32_t> end_tokens);

  struct Applied {
    int32_t only_token = -1;  // >= 0: the single token allowed (no end token either)
  };
  // REQUIRES: logits.size() >= the trie's vocabulary. Entries past it are banned.
  // Internal error when the grammar overflowed its bounds or no token at all
  // (not even an end token) can continue it with this vocabulary.
  Result<Applied> Apply(std::span<float> logits);
  // InvalidArgument if the grammar does not allow `token` here.
  Status Accept(int32_t token);

  bool can_end() const { return state_.can_end(); }
  bool complete() const { return state_.complete(); }
  const MatchState& state() const { return state_; }

 private:
  std::shared_ptr<GrammarMasks> masks_;
  std::vector<int32_t> end_tokens_;
  MatchState state_;
};

}  // namespace jarvis::constrain
