// What the chat layer makes of a model's reply, piece by piece: reasoning
// text, answer text and whole tool calls, in the order they became final.
// Concatenating the events of a stream gives the same reply as parsing the
// whole text at once (AssistantReply).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "chat/tool_call.h"

namespace jarvis::chat {

struct OutputEvent {
  enum class Kind { kReasoning, kContent, kToolCall };
  Kind kind = Kind::kContent;
  std::string text;  // kReasoning / kContent
  ToolCall call;     // kToolCall
  int index = 0;     // kToolCall: 0, 1, ... in reply order
};

// A reply assembled from its events.
struct AssistantReply {
  std::string reasoning;
  std::string content;
  std::vector<ToolCall> calls;
};

inline void Append(AssistantReply* reply, const std::vector<OutputEvent>& events) {
  for (const OutputEvent& e : events) {
    switch (e.kind) {
      case OutputEvent::Kind::kReasoning: reply->reasoning += e.text; break;
      case OutputEvent::Kind::kContent: reply->content += e.text; break;
      case OutputEvent::Kind::kToolCall: reply->calls.push_back(e.call); break;
    }
  }
}

}  // namespace jarvis::chat
