// A compiled Jinja template: the public face of the interpreter in this
// folder (jinja_value / jinja_parser / jinja_interpreter / jinja_builtins).
//
// Semantics follow jinja2 as Hugging Face transformers configures it for chat
// templates: ImmutableSandboxedEnvironment, trim_blocks, lstrip_blocks, loop
// controls, {% generation %}, raise_exception, strftime_now, and a tojson that
// keeps non-ASCII (json.dumps(ensure_ascii=False)). Conformance is checked
// byte for byte against python3-jinja2 renders (chat_conformance_test.cpp).
//
// Not supported (a clear error, never a silent difference): include, import,
// extends/blocks, recursive loops, *args/**kwargs at call sites, str.format
// specs. Case mapping (upper/lower/title) is ASCII-only.
//
// Thread safety: a Template is immutable after Parse; Render may be called
// from several threads at once.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "chat/jinja_interpreter.h"
#include "chat/jinja_parser.h"
#include "jarvis/status.h"

namespace jarvis::jinja {

struct RenderOptions {
  RenderLimits limits;
  Clock clock;  // for strftime_now; empty: the system clock
};

class Template {
 public:
  // InvalidArgument with the line for a syntax error.
  static Result<Template> Parse(std::string_view source, const LexOptions& options = {});

  // Renders with `variables` (a JSON object) as the context. InvalidArgument
  // carrying the template's message when the template raises (its own
  // raise_exception, an undefined value used, a type error, a limit).
  Result<std::string> Render(const nlohmann::ordered_json& variables, const RenderOptions& options = {}) const;

 private:
  std::shared_ptr<const Body> body_;
};

}  // namespace jarvis::jinja
