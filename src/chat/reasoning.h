// Reasoning models (DeepSeek-R1, Qwen3, QwQ) think inside <think>...</think>
// before they answer. ReasoningSplitter separates that part from the answer
// as the reply streams: text inside the block is reasoning, the rest content.
// Whitespace around the block and at the ends of the reasoning is dropped.
//
// When the template already opened the block in the prompt (DeepSeek-R1
// distills end the prompt with "<think>\n"), the reply starts inside it:
// construct with opened_in_prompt = true. A reply that never closes the block
// is all reasoning; one that does not start with <think> (and was not opened
// in the prompt) is all content.
//
// Thread safety: one instance per reply, used from one thread at a time.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "chat/output_event.h"

namespace jarvis::chat {

class ReasoningSplitter {
 public:
  explicit ReasoningSplitter(bool opened_in_prompt) : opened_in_prompt_(opened_in_prompt) {}

  // Appends what became final to *out (kReasoning / kContent events).
  void Push(std::string_view piece, std::vector<OutputEvent>* out);
  void Finish(std::vector<OutputEvent>* out);

 private:
  enum class State { kStart, kThinking, kAnswerStart, kAnswer };
  void Emit(OutputEvent::Kind kind, std::string_view text, std::vector<OutputEvent>* out);

  bool opened_in_prompt_;
  State state_ = State::kStart;
  std::string held_;           // undecided text (a possible tag, or trailing whitespace of the reasoning)
  bool reasoning_started_ = false;
};

// The whole reply at once (same result as streaming it in any pieces).
AssistantReply SplitReasoning(std::string_view text, bool opened_in_prompt);

// What a chat template says about reasoning: whether it knows <think> at all,
// and whether its generation prompt leaves a <think> block open (the last
// think tag written after the template's last `add_generation_prompt` is an
// opening one). A heuristic over the template text, not a render.
struct ReasoningTraits {
  bool thinks = false;
  bool opens_in_prompt = false;
};
ReasoningTraits ReasoningTraitsOfTemplate(std::string_view jinja_source);

}  // namespace jarvis::chat
