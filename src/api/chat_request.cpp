// The chat parts of request bodies (both APIs): messages, tools and
// chat_template_kwargs, turned into the ChatMessage / GenerateRequest fields
// that the model's chat template sees.
#include <utility>

#include "api/generation_request.h"

namespace jarvis::api {
namespace {

using ordered_json = nlohmann::ordered_json;

// OpenAI message content: a string, or an array of {"type":"text","text":...} parts.
Result<std::string> ReadContent(const nlohmann::json& content, const std::string& where) {
  if (content.is_null()) return std::string();
  if (content.is_string()) return content.get<std::string>();
  if (!content.is_array()) return Status::InvalidArgument(where + " must be a string or an array of parts");
  std::string text;
  for (const auto& part : content) {
    if (!part.is_object() || !part.contains("type") || part["type"] != "text" || !part.contains("text") ||
        !part["text"].is_string()) {
      return Status::InvalidArgument(where + ": only {\"type\":\"text\",\"text\":...} parts are supported");
    }
    text += part["text"].get<std::string>();
  }
  return text;
}

Result<std::string> ReadToolCalls(const nlohmann::json& calls, const std::string& where) {
  if (!calls.is_array()) return Status::InvalidArgument(where + " must be an array");
  for (size_t i = 0; i < calls.size(); ++i) {
    const std::string at = where + "[" + std::to_string(i) + "]";
    const nlohmann::json& c = calls[i];
    if (!c.is_object()) return Status::InvalidArgument(at + " must be an object");
    if (auto id = c.find("id"); id != c.end() && !id->is_string())
      return Status::InvalidArgument(at + ".id must be a string");
    if (auto type = c.find("type"); type != c.end() && *type != "function")
      return Status::InvalidArgument(at + ".type must be \"function\"");
    auto fn = c.find("function");
    if (fn == c.end() || !fn->is_object()) return Status::InvalidArgument(at + ".function must be an object");
    auto name = fn->find("name");
    if (name == fn->end() || !name->is_string() || name->get<std::string>().empty())
      return Status::InvalidArgument(at + ".function.name must be a non-empty string");
    auto args = fn->find("arguments");
    if (args != fn->end() && !args->is_object() && !args->is_string())
      return Status::InvalidArgument(at + ".function.arguments must be an object or a JSON string");
  }
  return calls.empty() ? std::string() : calls.dump();
}

std::optional<std::string> OptionalString(const nlohmann::json& m, const char* key, const std::string& where,
                                          Status* error) {
  auto it = m.find(key);
  if (it == m.end() || it->is_null()) return std::nullopt;
  if (!it->is_string()) {
    *error = Status::InvalidArgument(where + "." + key + "' must be a string");
    return std::nullopt;
  }
  return it->get<std::string>();
}

}  // namespace

Result<std::vector<ChatMessage>> ReadMessages(const nlohmann::json& messages) {
  if (!messages.is_array() || messages.empty()) {
    return Status::InvalidArgument("'messages' must be a non-empty array");
  }
  std::vector<ChatMessage> out;
  for (size_t i = 0; i < messages.size(); ++i) {
    const nlohmann::json& m = messages[i];
    const std::string where = "'messages[" + std::to_string(i) + "]";
    if (!m.is_object()) return Status::InvalidArgument(where + "' must be an object");
    auto role = m.find("role");
    if (role == m.end() || !role->is_string() || role->get<std::string>().empty()) {
      return Status::InvalidArgument(where + ".role' must be a non-empty string");
    }
    ChatMessage msg;
    msg.role = role->get<std::string>();
    if (msg.role == "developer") msg.role = "system";  // OpenAI's newer name for the system role
    if (auto c = m.find("content"); c != m.end()) {
      JARVIS_ASSIGN_OR_RETURN(msg.content, ReadContent(*c, where + ".content'"));
    }
    if (auto calls = m.find("tool_calls"); calls != m.end() && !calls->is_null()) {
      if (msg.role != "assistant") return Status::InvalidArgument(where + ".tool_calls' is only valid on assistant messages");
      JARVIS_ASSIGN_OR_RETURN(msg.tool_calls_json, ReadToolCalls(*calls, where + ".tool_calls"));
    }
    Status error;
    if (auto v = OptionalString(m, "tool_call_id", where, &error)) msg.tool_call_id = *v;
    if (auto v = OptionalString(m, "name", where, &error)) msg.name = *v;
    if (auto v = OptionalString(m, "tool_name", where, &error); v && msg.name.empty()) msg.name = *v;  // Ollama
    if (auto v = OptionalString(m, "reasoning_content", where, &error)) msg.reasoning_content = *v;
    if (auto v = OptionalString(m, "thinking", where, &error); v && msg.reasoning_content.empty())
      msg.reasoning_content = *v;  // Ollama
    if (!error.ok()) return error;
    out.push_back(std::move(msg));
  }
  return out;
}

Status ReadChatTemplateInputs(JsonFields& f, GenerateRequest* r) {
  if (const nlohmann::json* tools = f.Array("tools")) {
    for (size_t i = 0; i < tools->size(); ++i) {
      const std::string at = "'tools[" + std::to_string(i) + "]";
      const nlohmann::json& t = (*tools)[i];
      if (!t.is_object()) return Status::InvalidArgument(at + "' must be an object");
      auto type = t.find("type");
      if (type == t.end() || *type != "function")
        return Status::InvalidArgument(at + ".type' must be \"function\" (the only tool type supported)");
      auto fn = t.find("function");
      if (fn == t.end() || !fn->is_object()) return Status::InvalidArgument(at + ".function' must be an object");
      auto name = fn->find("name");
      if (name == fn->end() || !name->is_string() || name->get<std::string>().empty())
        return Status::InvalidArgument(at + ".function.name' must be a non-empty string");
      if (auto d = fn->find("description"); d != fn->end() && !d->is_string() && !d->is_null())
        return Status::InvalidArgument(at + ".function.description' must be a string");
      if (auto p = fn->find("parameters"); p != fn->end() && !p->is_object() && !p->is_null())
        return Status::InvalidArgument(at + ".function.parameters' must be a JSON Schema object");
    }
    if (!tools->empty()) r->tools_json = tools->dump();
  }
  if (const nlohmann::json* kwargs = f.Object("chat_template_kwargs")) {
    if (!kwargs->empty()) r->chat_template_kwargs_json = kwargs->dump();
  }
  return f.status();
}

void KeepToolKeyOrder(const std::string& raw_body, GenerateRequest* r) {
  bool any = !r->tools_json.empty();
  for (const ChatMessage& m : r->messages) any |= !m.tool_calls_json.empty();
  if (!any) return;
  const ordered_json body = ordered_json::parse(raw_body, nullptr, /*allow_exceptions=*/false);
  if (!body.is_object()) return;
  if (!r->tools_json.empty()) {
    if (auto t = body.find("tools"); t != body.end() && t->is_array()) r->tools_json = t->dump();
  }
  auto messages = body.find("messages");
  if (messages == body.end() || !messages->is_array() || messages->size() != r->messages.size()) return;
  for (size_t i = 0; i < r->messages.size(); ++i) {
    if (r->messages[i].tool_calls_json.empty()) continue;
    if (auto c = (*messages)[i].find("tool_calls"); c != (*messages)[i].end() && c->is_array())
      r->messages[i].tool_calls_json = c->dump();
  }
}

}  // namespace jarvis::api
