// Jinja source -> syntax tree: a lexer that applies whitespace control
// ({%- -%}, trim_blocks, lstrip_blocks, the dropped final newline) exactly as
// jinja2's lexer does, and a recursive-descent parser for jinja2's grammar.
//
// Throws JinjaError with the line for malformed templates. Nesting (blocks and
// expressions) is limited to kMaxParseDepth so that a hostile template cannot
// exhaust the stack.
#pragma once

#include <string_view>

#include "chat/jinja_ast.h"

namespace jarvis::jinja {

inline constexpr int kMaxParseDepth = 200;

struct LexOptions {
  bool trim_blocks = true;    // drop the newline after a block tag (transformers sets both)
  bool lstrip_blocks = true;  // drop spaces/tabs before a block tag at the start of a line
};

Body ParseTemplate(std::string_view source, const LexOptions& options);

}  // namespace jarvis::jinja
