// AssistantOutputParser: the whole output side of a chat reply in one pass:
// reasoning split off first (<think>), then tool calls found in the answer.
// Events come out in order; a stream's events add up to the same reply as
// ParseAssistantReply on the whole text.
//
// Thread safety: one instance per reply, used from one thread at a time.
#pragma once

#include <optional>
#include <string_view>
#include <vector>

#include "chat/output_event.h"
#include "chat/reasoning.h"
#include "chat/tool_call_stream.h"

namespace jarvis::chat {

struct AssistantOutputOptions {
  bool split_reasoning = false;             // <think> block -> reasoning events
  bool reasoning_opened_in_prompt = false;  // the template opened the block (see reasoning.h)
  bool parse_tool_calls = false;            // tools were offered (tool_choice not "none")
  ToolCallOptions tools;
};

class AssistantOutputParser {
 public:
  explicit AssistantOutputParser(AssistantOutputOptions options);

  void Push(std::string_view piece, std::vector<OutputEvent>* out);
  void Finish(std::vector<OutputEvent>* out);

 private:
  void Forward(std::vector<OutputEvent>& split, std::vector<OutputEvent>* out);

  AssistantOutputOptions options_;
  std::optional<ReasoningSplitter> reasoning_;
  std::optional<ToolCallStreamer> tools_;
};

AssistantReply ParseAssistantReply(std::string_view text, const AssistantOutputOptions& options);

}  // namespace jarvis::chat
