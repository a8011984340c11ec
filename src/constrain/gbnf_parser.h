// ParseGbnf: GBNF grammar text (the syntax llama.cpp and llama-server accept
// in their `grammar` field) -> Grammar (grammar.h).
//
// Syntax:
//   name ::= alternatives        one rule; `root` is the start rule
//   a b c                        sequence;  a | b   alternation
//   "lit\n"  [a-z_]  [^"\\]  .   literal, char class (^ negates), any char
//   ( ... )                      group
//   x*  x+  x?  x{m}  x{m,}  x{m,n}   repetition (binds to the last item)
//   # comment                    to the end of the line
// Escapes in literals and classes: \n \r \t \\ \" \[ \] \- \^ \/ \xHH \uHHHH
// \UHHHHHHHH. A rule ends at the end of its line unless inside parentheses;
// an alternative may also continue on the next line when that line starts with
// `|` (a convenience llama.cpp lacks; every grammar llama.cpp accepts parses
// the same here).
//
// Errors (InvalidArgument, naming the line and column or the rule): syntax,
// a rule used but never defined, a rule defined twice, no `root`, left
// recursion (A ::= A "x", or through nullable prefixes), and the limits in
// GrammarLimits. Never crashes or hangs on any input (fuzz/grammar_fuzz.cpp).
#pragma once

#include <string_view>

#include "constrain/grammar.h"
#include "jarvis/status.h"

namespace jarvis::constrain {

Result<Grammar> ParseGbnf(std::string_view text, const GrammarLimits& limits = GrammarLimits());

}  // namespace jarvis::constrain
