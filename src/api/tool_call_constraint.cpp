#include "api/tool_call_constraint.h"

#include "constrain/json_schema_grammar.h"

namespace jarvis::api {

Status ApplyToolCallConstraint(const chat::ToolCallConstraint& constraint, GenerateRequest* request) {
  if (!request->grammar.empty()) {
    // Both would constrain the same output: there is no grammar for "a tool
    // call that is also this other schema", so refuse rather than pick one.
    return Status::InvalidArgument(
        "tool_choice \"required\" or a named function cannot be combined with response_format, format or grammar");
  }
  auto grammar = constrain::JsonValueBetweenLiteralsGbnf(constraint.prefix, constraint.schema, constraint.suffix);
  if (!grammar.ok()) return grammar.status();
  request->grammar = std::move(*grammar);
  return Status::Ok();
}

}  // namespace jarvis::api
