#include "chat/chat_formatter.h"

#include <utility>

#include <spdlog/spdlog.h>

#include "gguf/gguf_reader.h"
#include "tokenizer/tokenizer.h"

namespace jarvis {
namespace {

using ordered_json = nlohmann::ordered_json;

// The OpenAI tool_calls array with every function.arguments as an object.
Result<ordered_json> NormalizeToolCalls(const std::string& tool_calls_json, size_t message_index) {
  const std::string where = "message " + std::to_string(message_index) + ": tool_calls";
  ordered_json calls = ordered_json::parse(tool_calls_json, nullptr, /*allow_exceptions=*/false);
  if (!calls.is_array()) return Status::InvalidArgument(where + " must be a JSON array");
  for (auto& call : calls) {
    if (!call.is_object()) return Status::InvalidArgument(where + " entries must be objects");
    auto fn = call.find("function");
    if (fn == call.end() || !fn->is_object()) continue;
    auto args = fn->find("arguments");
    if (args == fn->end() || !args->is_string()) continue;
    ordered_json parsed = ordered_json::parse(args->get<std::string>(), nullptr, false);
    if (parsed.is_object()) *args = std::move(parsed);
  }
  return calls;
}

Result<ordered_json> MessagesToJson(std::span<const ChatMessage> messages) {
  ordered_json out = ordered_json::array();
  for (size_t i = 0; i < messages.size(); ++i) {
    const ChatMessage& m = messages[i];
    ordered_json j = ordered_json::object();
    j["role"] = m.role;
    j["content"] = m.content;
    if (!m.tool_calls_json.empty()) {
      JARVIS_ASSIGN_OR_RETURN(ordered_json calls, NormalizeToolCalls(m.tool_calls_json, i));
      j["tool_calls"] = std::move(calls);
    }
    if (!m.tool_call_id.empty()) j["tool_call_id"] = m.tool_call_id;
    if (!m.name.empty()) j["name"] = m.name;
    if (!m.reasoning_content.empty()) j["reasoning_content"] = m.reasoning_content;
    out.push_back(std::move(j));
  }
  return out;
}

}  // namespace

Result<ChatFormatter> ChatFormatter::FromJinja(std::string_view source, Options options) {
  JARVIS_ASSIGN_OR_RETURN(jinja::Template t, jinja::Template::Parse(source));
  ChatFormatter f;
  f.jinja_ = std::move(t);
  f.options_ = std::move(options);
  return f;
}

ChatFormatter ChatFormatter::FromFamily(ChatTemplateKind kind, Options options) {
  ChatFormatter f;
  f.family_ = kind;
  f.options_ = std::move(options);
  return f;
}

ChatFormatter ChatFormatter::ForModelTemplate(std::string_view gguf_template, Options options, std::string* warning) {
  if (!gguf_template.empty()) {
    auto parsed = FromJinja(gguf_template, options);
    if (parsed.ok()) return std::move(parsed).value();
    if (warning != nullptr)
      *warning = "the model's chat template does not parse (" + parsed.status().message() +
                 "); using the built-in family its markers suggest";
  }
  return FromFamily(DetectChatTemplate(gguf_template, nullptr), std::move(options));
}

std::string ChatFormatter::description() const { return jinja_ ? "jinja" : ChatTemplateName(family_); }

Result<std::string> ChatFormatter::Render(const ChatRenderInput& input) const {
  if (!jinja_) {
    if (!input.tools_json.empty())
      return Status::InvalidArgument("tools need a model with a Jinja chat template (this file has none)");
    if (!input.kwargs_json.empty())
      return Status::InvalidArgument("chat_template_kwargs need a model with a Jinja chat template (this file has none)");
    for (const ChatMessage& m : input.messages) {
      if (!m.tool_calls_json.empty())
        return Status::InvalidArgument("tool calls in messages need a model with a Jinja chat template");
    }
    return RenderChat(family_, input.messages, input.add_generation_prompt, options_.bos_text, options_.eos_text);
  }
  if (input.messages.empty()) return Status::InvalidArgument("chat template: no messages");
  ordered_json vars = ordered_json::object();
  JARVIS_ASSIGN_OR_RETURN(vars["messages"], MessagesToJson(input.messages));
  if (!input.tools_json.empty()) {
    ordered_json tools = ordered_json::parse(input.tools_json, nullptr, false);
    if (!tools.is_array()) return Status::InvalidArgument("tools must be a JSON array");
    vars["tools"] = std::move(tools);
  }
  vars["add_generation_prompt"] = input.add_generation_prompt;
  vars["bos_token"] = options_.bos_text;
  vars["eos_token"] = options_.eos_text;
  if (!input.kwargs_json.empty()) {
    ordered_json kwargs = ordered_json::parse(input.kwargs_json, nullptr, false);
    if (!kwargs.is_object()) return Status::InvalidArgument("chat_template_kwargs must be a JSON object");
    for (auto& [k, v] : kwargs.items()) {
      if (k == "messages" || k == "tools" || k == "add_generation_prompt" || k == "bos_token" || k == "eos_token")
        return Status::InvalidArgument("chat_template_kwargs may not set '" + k + "' (it has its own field)");
      vars[k] = v;
    }
  }
  jinja::RenderOptions ro;
  ro.limits = options_.limits;
  ro.clock = options_.clock;
  auto out = jinja_->Render(vars, ro);
  if (!out.ok()) return Status::InvalidArgument("chat template error: " + out.status().message());
  return out;
}

Result<std::string> ChatFormatter::RenderForTokenizer(const ChatRenderInput& input) const {
  JARVIS_ASSIGN_OR_RETURN(std::string text, Render(input));
  if (jinja_ && options_.tokenizer_adds_bos && !options_.bos_text.empty() &&
      text.compare(0, options_.bos_text.size(), options_.bos_text) == 0) {
    text.erase(0, options_.bos_text.size());
  }
  return text;
}

Result<ChatFormatter> ChatFormatterForModel(const GgufFile& gguf, const Tokenizer& tok,
                                            const std::string& override_source, jinja::Clock clock) {
  ChatFormatter::Options o;
  if (tok.bos_id() >= 0) o.bos_text = std::string(tok.TokenText(tok.bos_id()));
  if (tok.eos_id() >= 0) o.eos_text = std::string(tok.TokenText(tok.eos_id()));
  o.tokenizer_adds_bos = tok.add_bos();
  o.clock = std::move(clock);
  if (!override_source.empty()) {
    auto f = ChatFormatter::FromJinja(override_source, o);
    if (!f.ok()) return Status::InvalidArgument("chat template file: " + f.status().message());
    return f;
  }
  auto source = gguf.GetString("tokenizer.chat_template");
  std::string warning;
  ChatFormatter f = ChatFormatter::ForModelTemplate(source.ok() ? *source : std::string_view(), o, &warning);
  if (!warning.empty()) spdlog::warn("{}", warning);
  return f;
}

}  // namespace jarvis
