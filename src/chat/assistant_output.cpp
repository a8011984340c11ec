#include "chat/assistant_output.h"

#include <utility>

namespace jarvis::chat {

AssistantOutputParser::AssistantOutputParser(AssistantOutputOptions options) : options_(std::move(options)) {
  if (options_.split_reasoning) reasoning_.emplace(options_.reasoning_opened_in_prompt);
  if (options_.parse_tool_calls) tools_.emplace(options_.tools);
}

void AssistantOutputParser::Forward(std::vector<OutputEvent>& split, std::vector<OutputEvent>* out) {
  for (OutputEvent& e : split) {
    if (e.kind == OutputEvent::Kind::kContent && tools_) {
      tools_->Push(e.text, out);
    } else {
      out->push_back(std::move(e));
    }
  }
}

void AssistantOutputParser::Push(std::string_view piece, std::vector<OutputEvent>* out) {
  if (reasoning_) {
    std::vector<OutputEvent> split;
    reasoning_->Push(piece, &split);
    Forward(split, out);
  } else if (tools_) {
    tools_->Push(piece, out);
  } else if (!piece.empty()) {
    out->push_back(OutputEvent{OutputEvent::Kind::kContent, std::string(piece), {}, 0});
  }
}

void AssistantOutputParser::Finish(std::vector<OutputEvent>* out) {
  if (reasoning_) {
    std::vector<OutputEvent> split;
    reasoning_->Finish(&split);
    Forward(split, out);
  }
  if (tools_) tools_->Finish(out);
}

AssistantReply ParseAssistantReply(std::string_view text, const AssistantOutputOptions& options) {
  AssistantOutputParser parser(options);
  std::vector<OutputEvent> events;
  parser.Push(text, &events);
  parser.Finish(&events);
  AssistantReply reply;
  Append(&reply, events);
  return reply;
}

}  // namespace jarvis::chat
