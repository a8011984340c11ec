// One turn of a chat conversation (public API type).
#pragma once

#include <string>

namespace jarvis {

// The fields after `content` have default initializers so that the common
// {"user", "hi"} aggregate form stays warning-free (-Wmissing-field-initializers).
struct ChatMessage {
  std::string role;     // "system", "user", "assistant" or "tool" (the API maps "developer" to "system")
  std::string content;
  std::string tool_calls_json = {};  // assistant: JSON array of OpenAI tool_calls; empty: none
  std::string tool_call_id = {};  // role "tool"
  std::string name = {};  // optional author / tool name
  std::string reasoning_content = {};  // assistant thinking, if any
};

}  // namespace jarvis
