// Grammar: the compiled form of a context-free grammar over Unicode code
// points, as produced by ParseGbnf (gbnf_parser.h) and walked by
// GrammarMatcher (grammar_matcher.h).
//
// Layout: every alternative of every rule is a run of elements in one flat
// array, ended by a kEnd element. An element matches one code point from a
// character class (kChars) or a whole rule (kRule). Repetitions (* + ? {m,n})
// were already rewritten into helper rules by the parser, so the matcher only
// knows sequences, alternatives and rule references.
//
// Thread safety: a Grammar is immutable after parsing and may be shared.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace jarvis::constrain {

// Limits for untrusted grammar text (GBNF from requests, schemas from
// requests); exceeding one is an InvalidArgument naming it.
struct GrammarLimits {
  size_t max_text_bytes = 1 << 20;   // GBNF source size
  int32_t max_rules = 20000;         // after expanding repetitions
  int32_t max_elements = 1 << 20;    // flat element array size
  int32_t max_repetition = 10000;    // m and n of x{m,n}
  int32_t max_nesting = 200;         // parentheses nested in one rule
};

// While matching: stacks deeper than this are dropped as an error, and so are
// states with more than max_stacks live parses (a pathologically ambiguous
// grammar). The matcher reports the overflow instead of silently narrowing
// the language.
inline constexpr int32_t kMaxStackDepth = 2048;
inline constexpr int32_t kMaxStacks = 4096;
inline constexpr int64_t kMaxExpansions = 1 << 17;

struct CharClass {
  bool negated = false;
  std::vector<std::pair<uint32_t, uint32_t>> ranges;  // inclusive [lo, hi]

  bool Matches(uint32_t cp) const {
    bool in = false;
    for (const auto& [lo, hi] : ranges) {
      if (cp >= lo && cp <= hi) {
        in = true;
        break;
      }
    }
    return in != negated;
  }
  // Whether some code point in [lo, hi] matches (used to prune partial UTF-8).
  bool MatchesAnyIn(uint32_t lo, uint32_t hi) const;
};

struct GrammarElement {
  enum Kind : uint8_t { kEnd, kChars, kRule };
  Kind kind = kEnd;
  int32_t value = 0;  // kChars: index into classes; kRule: rule index
};

struct GrammarRule {
  std::string name;
  std::vector<int32_t> alternatives;  // start index of each alternative in elements
};

struct Grammar {
  std::vector<GrammarElement> elements;
  std::vector<CharClass> classes;
  std::vector<GrammarRule> rules;
  int32_t root = 0;
};

}  // namespace jarvis::constrain
