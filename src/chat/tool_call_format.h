// Which tool-call format a model writes, from its chat template's text (the
// markers the template renders calls with) or, for a file without a template,
// from the special tokens its vocabulary defines.
#pragma once

#include <functional>
#include <string_view>

#include "chat/tool_call.h"

namespace jarvis::chat {

// `has_token` says whether the vocabulary has a token with exactly this text
// (may be empty: no vocabulary check). Unknown: kGeneric.
ToolCallFormat SelectToolCallFormat(std::string_view jinja_source,
                                    const std::function<bool(std::string_view)>& has_token);

}  // namespace jarvis::chat
