// libFuzzer target for the chat layer's output parser (model output is
// untrusted text): every format, reasoning on, the input fed whole and cut in
// two at a position taken from the first byte. Checks that both give the same
// reply and that every call's arguments are a JSON object.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "chat/assistant_output.h"

namespace {

jarvis::chat::AssistantReply Feed(std::string_view text, size_t cut, const jarvis::chat::AssistantOutputOptions& o) {
  jarvis::chat::AssistantOutputParser parser(o);
  std::vector<jarvis::chat::OutputEvent> events;
  parser.Push(text.substr(0, cut), &events);
  parser.Push(text.substr(cut), &events);
  parser.Finish(&events);
  jarvis::chat::AssistantReply reply;
  jarvis::chat::Append(&reply, events);
  return reply;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  const std::string_view text(reinterpret_cast<const char*>(data + 2), size - 2);
  const size_t cut = text.empty() ? 0 : data[1] % (text.size() + 1);
  jarvis::chat::AssistantOutputOptions o;
  o.split_reasoning = (data[0] & 4) != 0;
  o.reasoning_opened_in_prompt = (data[0] & 8) != 0;
  o.parse_tool_calls = true;
  o.tools.format = static_cast<jarvis::chat::ToolCallFormat>(data[0] % 4);
  const auto whole = jarvis::chat::ParseAssistantReply(text, o);
  const auto split = Feed(text, cut, o);
  if (whole.content != split.content || whole.reasoning != split.reasoning || whole.calls.size() != split.calls.size()) {
    std::abort();
  }
  for (const auto& call : whole.calls) {
    if (!nlohmann::json::parse(call.arguments, nullptr, false).is_object()) std::abort();
  }
  return 0;
}
