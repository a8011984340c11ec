#include "chat/tool_call_format.h"

namespace jarvis::chat {

ToolCallFormat SelectToolCallFormat(std::string_view jinja_source,
                                    const std::function<bool(std::string_view)>& has_token) {
  auto in_template = [&](std::string_view marker) { return jinja_source.find(marker) != std::string_view::npos; };
  if (in_template("<tool_call>")) return ToolCallFormat::kHermes;
  if (in_template("[TOOL_CALLS]")) return ToolCallFormat::kMistral;
  // Llama 3.1-3.3 templates ask for {"name": ..., "parameters": ...} and know <|python_tag|>.
  if (in_template("<|python_tag|>") || (in_template("<|start_header_id|>") && in_template("\"parameters\""))) {
    return ToolCallFormat::kLlama3;
  }
  if (has_token) {
    if (has_token("<tool_call>")) return ToolCallFormat::kHermes;
    if (has_token("[TOOL_CALLS]")) return ToolCallFormat::kMistral;
    if (has_token("<|python_tag|>")) return ToolCallFormat::kLlama3;
  }
  return ToolCallFormat::kGeneric;
}

}  // namespace jarvis::chat
