// tool_choice "required" / a named function: the reply is constrained to one
// valid call of a declared tool through grammar-constrained decoding.
#pragma once

#include "chat/tool_choice.h"
#include "jarvis/request.h"
#include "jarvis/status.h"

namespace jarvis::api {

// Sets request->grammar to the grammar of constraint.prefix, one JSON value
// matching constraint.schema, constraint.suffix. InvalidArgument when the
// request already carries another output constraint or the schema cannot be
// compiled (the request is then refused, never answered unconstrained).
Status ApplyToolCallConstraint(const chat::ToolCallConstraint& constraint, GenerateRequest* request);

}  // namespace jarvis::api
