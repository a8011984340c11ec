#include "api/tool_call_constraint.h"

namespace jarvis::api {

Status ApplyToolCallConstraint(const chat::ToolCallConstraint& constraint, GenerateRequest* request) {
  (void)constraint;
  (void)request;
  return Status::Unsupported(
      "tool_choice \"required\" or a named function needs grammar-constrained decoding, which this build lacks");
}

}  // namespace jarvis::api
