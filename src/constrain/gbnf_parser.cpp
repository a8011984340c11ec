#include "constrain/gbnf_parser.h"

#include <algorithm>
#include <string>
#include <unordered_map>
#include <vector>

namespace jarvis::constrain {

bool CharClass::MatchesAnyIn(uint32_t lo, uint32_t hi) const {
  if (!negated) {
    for (const auto& [a, b] : ranges) {
      if (a <= hi && b >= lo) return true;
    }
    return false;
  }
  // Negated: some code point of [lo, hi] lies outside every range. Walk the
  // window upward past ranges that cover its current start.
  uint32_t cursor = lo;
  bool moved = true;
  while (moved) {
    moved = false;
    for (const auto& [a, b] : ranges) {
      if (a <= cursor && b >= cursor) {
        if (b >= hi) return false;
        cursor = b + 1;
        moved = true;
      }
    }
  }
  return true;
}

namespace {

using Sequence = std::vector<GrammarElement>;
using Alternatives = std::vector<Sequence>;

bool IsWordChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
}

class GbnfParser {
 public:
  GbnfParser(std::string_view text, const GrammarLimits& limits) : text_(text), limits_(limits) {}

  Result<Grammar> Parse() {
    if (text_.size() > limits_.max_text_bytes) {
      return Status::InvalidArgument("the grammar is " + std::to_string(text_.size()) + " bytes; the limit is " +
                                     std::to_string(limits_.max_text_bytes));
    }
    SkipSpace(true);
    while (pos_ < text_.size()) {
      JARVIS_RETURN_IF_ERROR(ParseRule());
      SkipSpace(true);
    }
    return Finish();
  }

 private:
  Status Error(const std::string& what) const {
    size_t line = 1, col = 1;
    for (size_t i = 0; i < pos_ && i < text_.size(); ++i) {
      if (text_[i] == '\n') {
        ++line;
        col = 1;
      } else {
        ++col;
      }
    }
    return Status::InvalidArgument("grammar: line " + std::to_string(line) + ", column " + std::to_string(col) + ": " +
                                   what);
  }

  bool AtEnd() const { return pos_ >= text_.size(); }
  char Peek(size_t ahead = 0) const { return pos_ + ahead < text_.size() ? text_[pos_ + ahead] : '\0'; }

  // Skips blanks and comments; newlines too when `newlines`.
  void SkipSpace(bool newlines) {
    while (!AtEnd()) {
      const char c = Peek();
      if (c == ' ' || c == '\t' || (newlines && (c == '\n' || c == '\r'))) {
        ++pos_;
      } else if (c == '#') {
        while (!AtEnd() && Peek() != '\n') ++pos_;
      } else {
        break;
      }
    }
  }

  // At a line end (top level): does the next non-blank line start with '|'?
  bool ContinuesWithBar() {
    size_t p = pos_;
    while (p < text_.size()) {
      const char c = text_[p];
      if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
        ++p;
      } else if (c == '#') {
        while (p < text_.size() && text_[p] != '\n') ++p;
      } else {
        break;
      }
    }
    if (p < text_.size() && text_[p] == '|') {
      pos_ = p;
      return true;
    }
    return false;
  }

  std::string ParseName() {
    const size_t start = pos_;
    while (!AtEnd() && IsWordChar(Peek())) ++pos_;
    return std::string(text_.substr(start, pos_ - start));
  }

  Result<int32_t> RuleId(const std::string& name) {
    auto it = ids_.find(name);
    if (it != ids_.end()) return it->second;
    return NewRule(name);
  }

  Result<int32_t> NewRule(const std::string& name) {
    if (static_cast<int32_t>(rules_.size()) >= limits_.max_rules) {
      return Error("more than " + std::to_string(limits_.max_rules) + " rules (repetitions count)");
    }
    const int32_t id = static_cast<int32_t>(rules_.size());
    rules_.emplace_back();
    names_.push_back(name);
    defined_.push_back(false);
    ids_.emplace(name, id);
    return id;
  }

  Result<int32_t> HelperRule(int32_t parent, Alternatives alts) {
    std::string name;
    do {
      name = names_[static_cast<size_t>(parent)] + "_" + std::to_string(++helper_counter_);
    } while (ids_.count(name) != 0);
    JARVIS_ASSIGN_OR_RETURN(int32_t id, NewRule(name));
    rules_[static_cast<size_t>(id)] = std::move(alts);
    defined_[static_cast<size_t>(id)] = true;
    return id;
  }

  Status ParseRule() {
    if (!IsWordChar(Peek())) return Error("expected a rule name");
    const std::string name = ParseName();
    SkipSpace(false);
    if (text_.substr(pos_, 3) != "::=") return Error("expected ::= after rule name '" + name + "'");
    pos_ += 3;
    SkipSpace(true);
    JARVIS_ASSIGN_OR_RETURN(int32_t id, RuleId(name));
    if (defined_[static_cast<size_t>(id)]) return Error("rule '" + name + "' is defined twice");
    defined_[static_cast<size_t>(id)] = true;  // before the body: helper rules name themselves after it
    JARVIS_ASSIGN_OR_RETURN(Alternatives alts, ParseAlternatives(id, 0));
    rules_[static_cast<size_t>(id)] = std::move(alts);
    if (!AtEnd() && Peek() != '\n' && Peek() != '\r') return Error(std::string("unexpected '") + Peek() + "'");
    return Status::Ok();
  }

  Result<Alternatives> ParseAlternatives(int32_t rule, int32_t depth) {
    const bool nested = depth > 0;
    Alternatives alts;
    while (true) {
      JARVIS_ASSIGN_OR_RETURN(Sequence seq, ParseSequence(rule, depth));
      alts.push_back(std::move(seq));
      if (Peek() == '|' || (!nested && ContinuesWithBar())) {
        ++pos_;
        SkipSpace(true);
        continue;
      }
      return alts;
    }
  }

  Result<Sequence> ParseSequence(int32_t rule, int32_t depth) {
    const bool nested = depth > 0;
    Sequence seq;
    size_t last_item = std::string::npos;  // start of the last item, for postfix operators
    while (true) {
      SkipSpace(nested);
      if (AtEnd()) break;
      const char c = Peek();
      if (c == '"') {
        ++pos_;
        last_item = seq.size();
        while (true) {
          if (AtEnd()) return Error("unterminated literal");
          if (Peek() == '"') {
            ++pos_;
            break;
          }
          JARVIS_ASSIGN_OR_RETURN(uint32_t cp, ParseChar());
          seq.push_back(CharElement(CharClass{false, {{cp, cp}}}));
        }
        if (seq.size() == last_item) last_item = std::string::npos;  // "" is no item
      } else if (c == '[') {
        ++pos_;
        CharClass cls;
        if (Peek() == '^') {
          cls.negated = true;
          ++pos_;
        }
        while (true) {
          if (AtEnd()) return Error("unterminated character class");
          if (Peek() == ']') {
            ++pos_;
            break;
          }
          JARVIS_ASSIGN_OR_RETURN(uint32_t lo, ParseChar());
          uint32_t hi = lo;
          if (Peek() == '-' && Peek(1) != ']' && pos_ + 1 < text_.size()) {
            ++pos_;
            JARVIS_ASSIGN_OR_RETURN(hi, ParseChar());
            if (hi < lo) return Error("character range is reversed");
          }
          cls.ranges.emplace_back(lo, hi);
        }
        last_item = seq.size();
        seq.push_back(CharElement(std::move(cls)));
      } else if (c == '.') {
        ++pos_;
        last_item = seq.size();
        seq.push_back(CharElement(CharClass{true, {}}));
      } else if (IsWordChar(c)) {
        const std::string name = ParseName();
        JARVIS_ASSIGN_OR_RETURN(int32_t id, RuleId(name));
        last_item = seq.size();
        seq.push_back(GrammarElement{GrammarElement::kRule, id});
      } else if (c == '(') {
        if (depth + 1 > limits_.max_nesting) {
          return Error("parentheses nest deeper than " + std::to_string(limits_.max_nesting));
        }
        ++pos_;
        SkipSpace(true);
        JARVIS_ASSIGN_OR_RETURN(Alternatives inner, ParseAlternatives(rule, depth + 1));
        SkipSpace(true);
        if (Peek() != ')') return Error("expected ')'");
        ++pos_;
        JARVIS_ASSIGN_OR_RETURN(int32_t id, HelperRule(rule, std::move(inner)));
        last_item = seq.size();
        seq.push_back(GrammarElement{GrammarElement::kRule, id});
      } else if (c == '*' || c == '+' || c == '?' || c == '{') {
        if (last_item == std::string::npos) return Error(std::string("'") + c + "' follows nothing");
        JARVIS_RETURN_IF_ERROR(ApplyRepetition(rule, &seq, last_item));
        last_item = std::string::npos;  // x** is an error, as in llama.cpp
      } else {
        break;  // '|', ')', a line end, or something the caller reports
      }
    }
    return seq;
  }

  GrammarElement CharElement(CharClass cls) {
    classes_.push_back(std::move(cls));
    return GrammarElement{GrammarElement::kChars, static_cast<int32_t>(classes_.size() - 1)};
  }

  Result<int32_t> ParseCount() {
    const size_t start = pos_;
    int64_t v = 0;
    while (!AtEnd() && Peek() >= '0' && Peek() <= '9') {
      v = v * 10 + (Peek() - '0');
      if (v > limits_.max_repetition) return Error("repetition count exceeds " + std::to_string(limits_.max_repetition));
      ++pos_;
    }
    if (pos_ == start) return Error("expected a number in {m,n}");
    return static_cast<int32_t>(v);
  }

  // Rewrites seq[last_item, end) with the postfix operator at pos_.
  Status ApplyRepetition(int32_t rule, Sequence* seq, size_t last_item) {
    // The item as one element (a literal of several chars becomes a rule).
    GrammarElement item;
    if (seq->size() - last_item == 1) {
      item = seq->back();
    } else {
      Sequence body(seq->begin() + static_cast<std::ptrdiff_t>(last_item), seq->end());
      JARVIS_ASSIGN_OR_RETURN(int32_t id, HelperRule(rule, Alternatives{std::move(body)}));
      item = GrammarElement{GrammarElement::kRule, id};
    }
    seq->resize(last_item);
    int32_t min = 0, max = -1;  // max < 0: unbounded
    const char op = Peek();
    ++pos_;
    if (op == '*') {
      min = 0;
    } else if (op == '+') {
      min = 1;
    } else if (op == '?') {
      max = 1;
    } else {
      SkipSpace(false);
      JARVIS_ASSIGN_OR_RETURN(min, ParseCount());
      SkipSpace(false);
      if (Peek() == ',') {
        ++pos_;
        SkipSpace(false);
        if (Peek() != '}') {
          JARVIS_ASSIGN_OR_RETURN(max, ParseCount());
          if (max < min) return Error("repetition {m,n} has n < m");
        }
      } else {
        max = min;
      }
      SkipSpace(false);
      if (Peek() != '}') return Error("expected '}'");
      ++pos_;
    }
    for (int32_t i = 0; i < min; ++i) seq->push_back(item);
    if (max < 0) {
      // star ::= item star | ""   (right recursion: the matcher's stacks stay flat)
      JARVIS_ASSIGN_OR_RETURN(int32_t star, HelperRule(rule, Alternatives{}));
      rules_[static_cast<size_t>(star)] = Alternatives{{item, GrammarElement{GrammarElement::kRule, star}}, {}};
      seq->push_back(GrammarElement{GrammarElement::kRule, star});
    } else if (max > min) {
      // opt_k ::= item opt_{k-1} | ""  with opt_1 ::= item | ""
      int32_t inner = -1;
      for (int32_t k = 1; k <= max - min; ++k) {
        Sequence first{item};
        if (inner >= 0) first.push_back(GrammarElement{GrammarElement::kRule, inner});
        JARVIS_ASSIGN_OR_RETURN(inner, HelperRule(rule, Alternatives{std::move(first), {}}));
      }
      seq->push_back(GrammarElement{GrammarElement::kRule, inner});
    }
    return Status::Ok();
  }

  Result<uint32_t> ParseHex(int digits) {
    uint32_t v = 0;
    for (int i = 0; i < digits; ++i) {
      const char c = Peek();
      uint32_t d;
      if (c >= '0' && c <= '9') {
        d = static_cast<uint32_t>(c - '0');
      } else if (c >= 'a' && c <= 'f') {
        d = static_cast<uint32_t>(c - 'a' + 10);
      } else if (c >= 'A' && c <= 'F') {
        d = static_cast<uint32_t>(c - 'A' + 10);
      } else {
        return Error("expected " + std::to_string(digits) + " hex digits");
      }
      v = v * 16 + d;
      ++pos_;
    }
    if (v > 0x10FFFF) return Error("escape is beyond U+10FFFF");
    return v;
  }

  // One (possibly escaped) character of a literal or class, as a code point.
  Result<uint32_t> ParseChar() {
    if (AtEnd()) return Error("unexpected end of grammar");
    const unsigned char c = static_cast<unsigned char>(Peek());
    if (c == '\\') {
      ++pos_;
      const char e = Peek();
      ++pos_;
      switch (e) {
        case 'n': return uint32_t{'\n'};
        case 'r': return uint32_t{'\r'};
        case 't': return uint32_t{'\t'};
        case '\\': case '"': case '[': case ']': case '-': case '^': case '/': case '\'':
          return static_cast<uint32_t>(static_cast<unsigned char>(e));
        case 'x': return ParseHex(2);
        case 'u': return ParseHex(4);
        case 'U': return ParseHex(8);
        default: --pos_; return Error(std::string("unknown escape '\\") + e + "'");
      }
    }
    // Decode one UTF-8 character of the grammar text.
    int len = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
    if (len == 0 || pos_ + static_cast<size_t>(len) > text_.size()) return Error("invalid UTF-8 in grammar");
    uint32_t cp = len == 1 ? c : (c & (0x7F >> len));
    for (int i = 1; i < len; ++i) {
      const unsigned char cc = static_cast<unsigned char>(text_[pos_ + static_cast<size_t>(i)]);
      if ((cc & 0xC0) != 0x80) return Error("invalid UTF-8 in grammar");
      cp = (cp << 6) | (cc & 0x3F);
    }
    pos_ += static_cast<size_t>(len);
    return cp;
  }

  Result<Grammar> Finish() {
    for (size_t i = 0; i < rules_.size(); ++i) {
      if (!defined_[i]) return Status::InvalidArgument("grammar: rule '" + names_[i] + "' is used but not defined");
    }
    auto root = ids_.find("root");
    if (root == ids_.end()) return Status::InvalidArgument("grammar: there is no rule named 'root'");
    JARVIS_RETURN_IF_ERROR(CheckLeftRecursion());

    Grammar g;
    g.root = root->second;
    g.classes = std::move(classes_);
    g.rules.resize(rules_.size());
    size_t total = 0;
    for (const Alternatives& alts : rules_) {
      for (const Sequence& s : alts) total += s.size() + 1;
    }
    if (total > static_cast<size_t>(limits_.max_elements)) {
      return Status::InvalidArgument("grammar: more than " + std::to_string(limits_.max_elements) + " elements");
    }
    g.elements.reserve(total);
    for (size_t r = 0; r < rules_.size(); ++r) {
      g.rules[r].name = names_[r];
      for (const Sequence& s : rules_[r]) {
        g.rules[r].alternatives.push_back(static_cast<int32_t>(g.elements.size()));
        g.elements.insert(g.elements.end(), s.begin(), s.end());
        g.elements.push_back(GrammarElement{GrammarElement::kEnd, 0});
      }
    }
    return g;
  }

  // A rule is left-recursive when it can reach itself without consuming a
  // character: through the first element of an alternative, or through any
  // element preceded only by nullable rules. Such grammars would expand
  // forever, so they are refused.
  Status CheckLeftRecursion() const {
    const size_t n = rules_.size();
    std::vector<bool> nullable(n, false);
    for (bool changed = true; changed;) {
      changed = false;
      for (size_t r = 0; r < n; ++r) {
        if (nullable[r]) continue;
        for (const Sequence& s : rules_[r]) {
          const bool all = std::all_of(s.begin(), s.end(), [&](const GrammarElement& e) {
            return e.kind == GrammarElement::kRule && nullable[static_cast<size_t>(e.value)];
          });
          if (all) {
            nullable[r] = true;
            changed = true;
            break;
          }
        }
      }
    }
    std::vector<std::vector<int32_t>> left(n);  // rules reachable at a leftmost position
    for (size_t r = 0; r < n; ++r) {
      for (const Sequence& s : rules_[r]) {
        for (const GrammarElement& e : s) {
          if (e.kind != GrammarElement::kRule) break;
          left[r].push_back(e.value);
          if (!nullable[static_cast<size_t>(e.value)]) break;
        }
      }
    }
    // Iterative DFS (untrusted grammars may chain thousands of rules).
    std::vector<uint8_t> color(n, 0);  // 0 new, 1 on the path, 2 done
    for (size_t start = 0; start < n; ++start) {
      if (color[start] != 0) continue;
      std::vector<std::pair<int32_t, size_t>> stack{{static_cast<int32_t>(start), 0}};
      color[start] = 1;
      while (!stack.empty()) {
        auto& [r, next] = stack.back();
        const auto& edges = left[static_cast<size_t>(r)];
        if (next == edges.size()) {
          color[static_cast<size_t>(r)] = 2;
          stack.pop_back();
          continue;
        }
        const int32_t to = edges[next++];
        if (color[static_cast<size_t>(to)] == 1) {
          return Status::InvalidArgument("grammar: rule '" + names_[static_cast<size_t>(to)] +
                                         "' is left-recursive (it can reach itself without consuming input)");
        }
        if (color[static_cast<size_t>(to)] == 0) {
          color[static_cast<size_t>(to)] = 1;
          stack.emplace_back(to, 0);
        }
      }
    }
    return Status::Ok();
  }

  std::string_view text_;
  GrammarLimits limits_;
  size_t pos_ = 0;
  std::vector<Alternatives> rules_;
  std::vector<std::string> names_;
  std::vector<bool> defined_;
  std::unordered_map<std::string, int32_t> ids_;
  std::vector<CharClass> classes_;
  int32_t helper_counter_ = 0;
};

}  // namespace

Result<Grammar> ParseGbnf(std::string_view text, const GrammarLimits& limits) {
  return GbnfParser(text, limits).Parse();
}

}  // namespace jarvis::constrain
