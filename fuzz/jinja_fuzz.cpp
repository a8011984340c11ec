// libFuzzer target: the chat-template Jinja interpreter over arbitrary
// template source. Parsing and rendering must end with output or a clean
// error (never a crash, hang, or unbounded memory), within the render limits,
// against a conversation with tools and tool calls like a real request.
// Seeds: the 45 real templates in ../shared/chat-templates/templates.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "chat/jinja_template.h"

namespace {

constexpr std::string_view kContext = R"({
 "bos_token": "<s>", "eos_token": "</s>", "add_generation_prompt": true, "enable_thinking": false,
 "messages": [
  {"role": "system", "content": "You control the house."},
  {"role": "user", "content": "Turn on the kitchen light. \u00e9\u4e16"},
  {"role": "assistant", "content": "", "reasoning_content": "ok",
   "tool_calls": [{"id": "call_1", "type": "function",
                   "function": {"name": "set_light", "arguments": {"room": "kitchen", "on": true}}}]},
  {"role": "tool", "tool_call_id": "call_1", "name": "set_light", "content": "{\"ok\": true}"},
  {"role": "user", "content": "Thanks!"}
 ],
 "tools": [{"type": "function", "function": {"name": "set_light", "description": "Switch a light",
            "parameters": {"type": "object", "properties": {"room": {"type": "string"}, "on": {"type": "boolean"}},
                           "required": ["room", "on"]}}}]
})";

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const nlohmann::ordered_json context = nlohmann::ordered_json::parse(kContext);
  const std::string_view source(reinterpret_cast<const char*>(data), size);
  auto tmpl = jarvis::jinja::Template::Parse(source);
  if (!tmpl.ok()) return 0;
  jarvis::jinja::RenderOptions options;
  // Tighter than the server's limits so that each input stays fast.
  options.limits.max_steps = 200'000;
  options.limits.max_loop_iterations = 50'000;
  options.limits.max_output_bytes = 1 << 20;
  options.limits.max_call_depth = 50;
  options.clock = [] { return std::chrono::system_clock::time_point(std::chrono::seconds(1768435200)); };
  auto out = tmpl->Render(context, options);
  if (out.ok() && out->size() > static_cast<size_t>(options.limits.max_output_bytes)) __builtin_trap();
  return 0;
}
