// ToolCallStreamer: finds tool calls in a model's reply as it is generated.
// Text is passed on as content as soon as it cannot be the start of a call;
// a possible start (a prefix of the format's marker, or a reply that opens
// with '{', '[' or ```json) is held back until it is decided. A call is
// emitted whole once its segment is complete (a Hermes block at its
// </tool_call>; the rest of the reply after [TOOL_CALLS] / <|python_tag|> and
// a reply that is one JSON value at Finish). A segment that does not parse,
// or names a function that was not declared, is passed on as content.
//
// Whitespace: whitespace between content and a call is dropped; content
// that follows a call keeps its text. Once a call was found, whitespace at
// the very end is dropped; a reply without calls comes out byte for byte.
//
// Thread safety: one instance per reply, used from one thread at a time.
#pragma once

#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "chat/output_event.h"
#include "chat/tool_call.h"

namespace jarvis::chat {

struct ToolCallOptions {
  ToolCallFormat format = ToolCallFormat::kGeneric;
  std::set<std::string> tool_names;  // declared functions; empty: accept any name
  bool parallel = true;              // false: only the first call is kept (later ones are dropped)
  std::string id_prefix = "call_";   // ids are id_prefix + index, unless the model wrote one
};

class ToolCallStreamer {
 public:
  explicit ToolCallStreamer(ToolCallOptions options);

  // Feeds the next piece of reply text; appends what became final to *out.
  void Push(std::string_view piece, std::vector<OutputEvent>* out);
  // End of the reply: decides everything still held back.
  void Finish(std::vector<OutputEvent>* out);

  int calls() const { return calls_; }

 private:
  enum class Mode { kText, kCallSegment, kWholeJson };
  void Advance(bool final, std::vector<OutputEvent>* out);
  void Content(std::string_view text, std::vector<OutputEvent>* out);
  // Emits `calls` (true), or returns false when one is not acceptable.
  bool EmitCalls(std::vector<ToolCall> calls, std::vector<OutputEvent>* out);
  std::string_view Marker() const;

  ToolCallOptions options_;
  std::string all_;        // the reply so far
  size_t start_ = 0;       // first byte of all_ not yet decided
  Mode mode_ = Mode::kText;
  std::string pending_space_;  // whitespace held until more content follows
  bool content_started_ = false;
  int calls_ = 0;
};

// The whole reply at once (same result as streaming it in any pieces).
AssistantReply ParseToolCalls(std::string_view text, const ToolCallOptions& options);

}  // namespace jarvis::chat
