// Tool calls as the chat layer hands them to the API: one call of a declared
// function, its arguments as compact JSON text (OpenAI's wire form; Ollama's
// reply parses it back into an object), and the output formats real models
// write calls in.
#pragma once

#include <string>
#include <string_view>

namespace jarvis::chat {

struct ToolCall {
  std::string id;         // "call_..." (or the id a Mistral model wrote itself)
  std::string name;       // function name
  std::string arguments;  // a JSON object, compact ("{}" when the model gave none)
};

// How a model writes tool calls (chosen by SelectToolCallFormat).
enum class ToolCallFormat {
  kHermes,   // <tool_call>{"name": ..., "arguments": {...}}</tool_call>, one block per call (Hermes, Qwen 2.5/3, QwQ)
  kLlama3,   // {"name": ..., "parameters": {...}} as the whole reply, optionally after <|python_tag|>; ';' between calls
  kMistral,  // [TOOL_CALLS][{"name": ..., "arguments": {...}}, ...]  or  [TOOL_CALLS]name[ARGS]{...} (newer templates)
  kGeneric,  // only the JSON fallback below
};
// Every format also accepts the generic JSON fallback: a reply that is, as a
// whole, a JSON call object ({"name", "arguments"|"parameters"}), an array of
// them, {"tool_call": call} or {"tool_calls": [calls]}, optionally inside a
// ```json fence.

const char* ToolCallFormatName(ToolCallFormat format);  // "hermes", "llama3", "mistral", "generic"

}  // namespace jarvis::chat
