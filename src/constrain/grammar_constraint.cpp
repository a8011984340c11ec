#include "constrain/grammar_constraint.h"

#include <algorithm>
#include <limits>

namespace jarvis::constrain {

GrammarConstraint::GrammarConstraint(std::shared_ptr<GrammarMasks> masks, std::vector<int32_t> end_tokens)
    : masks_(std::move(masks)), end_tokens_(std::move(end_tokens)), state_(masks_->matcher().Initial()) {}

Result<GrammarConstraint::Applied> GrammarConstraint::Apply(std::span<float> logits) {
  if (masks_->matcher().overflow()) {
    return Status::Internal("the grammar exceeded its nesting or ambiguity bounds");
  }
  const TokenMask& mask = masks_->MaskFor(state_);
  const bool end_ok = state_.can_end();
  if (mask.n_allowed == 0 && !end_ok) {
    return Status::Internal("the grammar allows no token of this vocabulary here");
  }
  constexpr float kBanned = -std::numeric_limits<float>::infinity();
  // Keep the end tokens' logits aside; the mask bans them (they are not in the trie).
  float end_logits[8];
  const size_t n_end = std::min<size_t>(end_tokens_.size(), 8);
  for (size_t i = 0; i < n_end; ++i) {
    const int32_t id = end_tokens_[i];
    end_logits[i] = id >= 0 && static_cast<size_t>(id) < logits.size() ? logits[static_cast<size_t>(id)] : kBanned;
  }
  const size_t vocab = std::min(logits.size(), static_cast<size_t>(masks_->trie().vocab_size()));
  // Word by word: all-allowed words (common inside strings) cost one compare.
  for (size_t w = 0; w * 64 < vocab; ++w) {
    const uint64_t bits = mask.allowed[w];
    if (bits == ~uint64_t{0}) continue;
    const size_t base = w * 64, end = std::min(vocab, base + 64);
    for (size_t i = base; i < end; ++i) {
      if (((bits >> (i - base)) & 1u) == 0) logits[i] = kBanned;
    }
  }
  std::fill(logits.begin() + static_cast<std::ptrdiff_t>(vocab), logits.end(), kBanned);
  if (end_ok) {
    for (size_t i = 0; i < n_end; ++i) {
      const int32_t id = end_tokens_[i];
      if (id >= 0 && static_cast<size_t>(id) < logits.size()) logits[static_cast<size_t>(id)] = end_logits[i];
    }
  }
  Applied applied;
  if (!end_ok && mask.n_allowed == 1) applied.only_token = mask.only_token;
  return applied;
}

Status GrammarConstraint::Accept(int32_t token) {
  if (token < 0 || token >= masks_->trie().vocab_size()) {
    return Status::InvalidArgument("token " + std::to_string(token) + " is outside the grammar's vocabulary");
  }
  const std::string& piece = masks_->trie().piece(token);
  MatchState next = state_;  // a refused token leaves the state as it was
  if (piece.empty() || !masks_->matcher().AdvanceBytes(&next, piece)) {
    return Status::InvalidArgument("the grammar does not allow token " + std::to_string(token) + " here");
  }
  state_ = std::move(next);
  return Status::Ok();
}

}  // namespace jarvis::constrain
