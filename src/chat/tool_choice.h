// tool_choice and the tools it chooses from (OpenAI's shapes; Ollama's
// "tools" has the same form), and the JSON Schema that constrains a reply to
// one valid call when the choice is "required" or a named function.
//
// Thread safety: pure functions.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "chat/tool_call.h"
#include "jarvis/status.h"

namespace jarvis::chat {

struct ToolDefinition {
  std::string name;
  nlohmann::json parameters;  // the function's JSON Schema for its arguments ({} when not given)
};

// [{"type": "function", "function": {"name", "description"?, "parameters"?}}]:
// InvalidArgument naming the entry for anything else (a type other than
// "function", a missing or duplicate name, parameters that are not an object).
Result<std::vector<ToolDefinition>> ReadToolDefinitions(const nlohmann::json& tools);

enum class ToolChoiceMode {
  kAuto,      // the model decides; calls are parsed from its reply
  kNone,      // tools are not offered to the model and nothing is parsed
  kRequired,  // the reply must be a call of one of the tools
  kNamed,     // the reply must be a call of `name`
};

struct ToolChoice {
  ToolChoiceMode mode = ToolChoiceMode::kAuto;
  std::string name;  // kNamed
};

// "auto" | "none" | "required" | {"type": "function", "function": {"name": N}}
// (`choice` null: auto). InvalidArgument for another value, for "required" or
// a name without tools, and for a name that is not among `tools`.
Result<ToolChoice> ReadToolChoice(const nlohmann::json* choice, const std::vector<ToolDefinition>& tools);

// What a constrained reply must be: literal `prefix`, one JSON value matching
// `schema`, literal `suffix`; the value is a call in `format`'s own shape
// (Hermes: <tool_call>\n{"name", "arguments"}\n</tool_call>; Llama 3:
// {"name", "parameters"}; Mistral: [TOOL_CALLS][{"name", "arguments"}];
// generic: {"name", "arguments"}), so the reply parses back as that call.
// The name is a "const" of the chosen tool (an "anyOf" over all tools for
// "required") and the arguments are the tool's own parameters schema. One
// call: a grammar cannot leave the number of parallel calls to the model.
struct ToolCallConstraint {
  nlohmann::json schema;
  std::string prefix;
  std::string suffix;
};
// InvalidArgument unless `choice` is kRequired or kNamed (with that tool declared).
Result<ToolCallConstraint> BuildToolCallSchema(const std::vector<ToolDefinition>& tools, const ToolChoice& choice,
                                               ToolCallFormat format);

}  // namespace jarvis::chat
