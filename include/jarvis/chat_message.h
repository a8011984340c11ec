// One turn of a chat conversation (public API type).
#pragma once

#include <string>

namespace jarvis {

struct ChatMessage {
  std::string role;     // "system", "user" or "assistant"
  std::string content;
};

}  // namespace jarvis
