#include "constrain/grammar_matcher.h"

#include <algorithm>
#include <cstring>

namespace jarvis::constrain {

bool MatchState::can_end() const {
  if (partial_left != 0) return false;
  uint32_t begin = 0;
  for (uint32_t end : ends) {
    if (end == begin) return true;
    begin = end;
  }
  return false;
}

bool MatchState::complete() const { return partial_left == 0 && !ends.empty() && data.empty(); }

std::string MatchState::Key() const {
  std::string key;
  key.reserve(8 + 4 * (data.size() + ends.size()));
  auto put = [&key](uint32_t v) { key.append(reinterpret_cast<const char*>(&v), sizeof v); };
  put(partial_cp);
  put(static_cast<uint32_t>(partial_left) | (static_cast<uint32_t>(partial_len) << 8));
  put(static_cast<uint32_t>(ends.size()));
  for (uint32_t e : ends) put(e);
  for (int32_t d : data) put(static_cast<uint32_t>(d));
  return key;
}

MatchState GrammarMatcher::Initial() {
  MatchState state;
  expand_budget_ = kMaxExpansions;
  for (int32_t alt : g_.rules[static_cast<size_t>(g_.root)].alternatives) {
    scratch_.clear();
    if (g_.elements[static_cast<size_t>(alt)].kind != GrammarElement::kEnd) scratch_.push_back(alt);
    Expand(&state, 0);
  }
  return state;
}

void GrammarMatcher::AddStack(MatchState* to) {
  // Deduplicate: ambiguous grammars reach the same stack along several paths.
  uint32_t begin = 0;
  for (uint32_t end : to->ends) {
    if (end - begin == scratch_.size() &&
        std::equal(scratch_.begin(), scratch_.end(), to->data.begin() + begin)) {
      return;
    }
    begin = end;
  }
  if (static_cast<int32_t>(to->ends.size()) >= kMaxStacks) {
    overflow_ = true;
    return;
  }
  to->data.insert(to->data.end(), scratch_.begin(), scratch_.end());
  to->ends.push_back(static_cast<uint32_t>(to->data.size()));
}

void GrammarMatcher::Expand(MatchState* to, int depth) {
  if (--expand_budget_ < 0) {
    overflow_ = true;
    return;
  }
  if (scratch_.empty()) {
    AddStack(to);
    return;
  }
  if (depth > kMaxStackDepth || static_cast<int32_t>(scratch_.size()) > kMaxStackDepth) {
    overflow_ = true;
    return;
  }
  const int32_t top = scratch_.back();
  const GrammarElement& e = g_.elements[static_cast<size_t>(top)];
  if (e.kind != GrammarElement::kRule) {
    AddStack(to);
    return;
  }
  scratch_.pop_back();
  const bool has_rest = g_.elements[static_cast<size_t>(top) + 1].kind != GrammarElement::kEnd;
  if (has_rest) scratch_.push_back(top + 1);
  for (int32_t alt : g_.rules[static_cast<size_t>(e.value)].alternatives) {
    const bool empty = g_.elements[static_cast<size_t>(alt)].kind == GrammarElement::kEnd;
    if (!empty) scratch_.push_back(alt);
    Expand(to, depth + 1);
    if (!empty) scratch_.pop_back();
  }
  if (has_rest) scratch_.pop_back();
  scratch_.push_back(top);
}

void GrammarMatcher::AdvanceCodePoint(const MatchState& from, uint32_t cp, MatchState* to) {
  expand_budget_ = kMaxExpansions;
  uint32_t begin = 0;
  for (uint32_t end : from.ends) {
    if (end != begin) {
      const int32_t top = from.data[end - 1];
      const GrammarElement& e = g_.elements[static_cast<size_t>(top)];
      if (g_.classes[static_cast<size_t>(e.value)].Matches(cp)) {
        scratch_.assign(from.data.begin() + begin, from.data.begin() + end - 1);
        if (g_.elements[static_cast<size_t>(top) + 1].kind != GrammarElement::kEnd) scratch_.push_back(top + 1);
        Expand(to, 0);
      }
    }
    begin = end;
  }
}

bool GrammarMatcher::AnyTopMatches(const MatchState& state, uint32_t lo, uint32_t hi) const {
  // Surrogates (U+D800..U+DFFF) are not characters: a prefix that can only
  // become one is a dead end, however permissive the class.
  if (lo >= 0xD800 && hi <= 0xDFFF) return false;
  if (lo < 0xD800 && hi >= 0xD800 && hi <= 0xDFFF) hi = 0xD7FF;
  if (hi > 0xDFFF && lo >= 0xD800 && lo <= 0xDFFF) lo = 0xE000;
  uint32_t begin = 0;
  for (uint32_t end : state.ends) {
    if (end != begin) {
      const GrammarElement& e = g_.elements[static_cast<size_t>(state.data[end - 1])];
      if (g_.classes[static_cast<size_t>(e.value)].MatchesAnyIn(lo, hi)) return true;
    }
    begin = end;
  }
  return false;
}

bool GrammarMatcher::AdvanceByte(const MatchState& from, uint8_t byte, MatchState* to) {
  to->Clear();
  if (from.partial_left == 0) {
    if (byte < 0x80) {
      AdvanceCodePoint(from, byte, to);
      return !to->dead();
    }
    uint8_t len = (byte >> 5) == 0x6 ? 2 : (byte >> 4) == 0xE ? 3 : (byte >> 3) == 0x1E ? 4 : 0;
    if (len == 0 || byte == 0xC0 || byte == 0xC1 || byte > 0xF4) return false;  // not a valid lead byte
    const uint32_t bits = byte & (0x7Fu >> len);
    const uint32_t shift = 6u * (len - 1u);
    // Smallest and largest code points this lead byte can start.
    uint32_t lo = bits << shift, hi = lo | ((1u << shift) - 1u);
    const uint32_t min_for_len = len == 2 ? 0x80 : len == 3 ? 0x800 : 0x10000;
    lo = std::max(lo, min_for_len);
    hi = std::min(hi, 0x10FFFFu);
    if (lo > hi || !AnyTopMatches(from, lo, hi)) return false;
    to->data = from.data;
    to->ends = from.ends;
    to->partial_cp = bits;
    to->partial_left = static_cast<uint8_t>(len - 1);
    to->partial_len = len;
    return true;
  }
  if ((byte & 0xC0) != 0x80) return false;
  const uint32_t cp = (from.partial_cp << 6) | (byte & 0x3Fu);
  const uint8_t left = static_cast<uint8_t>(from.partial_left - 1);
  if (left == 0) {
    const uint32_t min_for_len = from.partial_len == 2 ? 0x80 : from.partial_len == 3 ? 0x800 : 0x10000;
    if (cp < min_for_len || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;  // overlong, surrogate
    AdvanceCodePoint(from, cp, to);
    return !to->dead();
  }
  const uint32_t shift = 6u * left;
  const uint32_t min_for_len = from.partial_len == 3 ? 0x800 : 0x10000;  // (2-byte characters never get here)
  const uint32_t lo = std::max(cp << shift, min_for_len), hi = std::min((cp << shift) | ((1u << shift) - 1u), 0x10FFFFu);
  if (lo > hi || !AnyTopMatches(from, lo, hi)) return false;  // overlong, beyond U+10FFFF, or refused
  to->data = from.data;
  to->ends = from.ends;
  to->partial_cp = cp;
  to->partial_left = left;
  to->partial_len = from.partial_len;
  return true;
}

bool GrammarMatcher::AdvanceBytes(MatchState* state, std::string_view bytes) {
  MatchState next;
  for (char c : bytes) {
    if (!AdvanceByte(*state, static_cast<uint8_t>(c), &next)) {
      state->Clear();
      return false;
    }
    std::swap(*state, next);
  }
  return true;
}

}  // namespace jarvis::constrain
