// The pieces of model output that hold tool calls, parsed into ToolCalls. Each
// function reads one segment (the streamer in tool_call_stream.h finds the
// segments) and returns nullopt when the segment is not a well-formed call,
// so that the caller can leave it as text.
//
// Thread safety: pure functions.
#pragma once

#include <cstddef>
#include <optional>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "chat/tool_call.h"

namespace jarvis::chat {

// One call object: {"name": s, "arguments"|"parameters": object or a string
// holding a JSON object} (a missing argument object reads as {}), also
// wrapped as {"function": {...}} (OpenAI's shape). Mistral's "id" is kept.
std::optional<ToolCall> CallFromJson(const nlohmann::json& value);

// The end (one past the closing bracket) of the JSON object or array that
// starts at text[0], found by bracket depth outside strings; npos when
// text[0] is not '{'/'[' or the value is not closed. Does not validate.
size_t JsonContainerEnd(std::string_view text);

// The inside of one <tool_call>...</tool_call> block.
std::optional<ToolCall> ParseHermesBlock(std::string_view inner);
// Everything after [TOOL_CALLS]: a JSON array of calls (or one call object),
// or one or more "name[ARGS]{...}" (optionally "name[CALL_ID]id[ARGS]{...}")
// separated by further [TOOL_CALLS] markers.
std::optional<std::vector<ToolCall>> ParseMistralCalls(std::string_view after_marker);
// Llama 3.x: one JSON call object, or several separated by ';'.
std::optional<std::vector<ToolCall>> ParseLlamaCalls(std::string_view text);
// The generic fallback (see tool_call.h): the whole text as one JSON value.
std::optional<std::vector<ToolCall>> ParseGenericCalls(std::string_view text);

}  // namespace jarvis::chat
