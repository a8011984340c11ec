#include "chat/tool_call_parser.h"

#include <algorithm>
#include <string>
#include <utility>

namespace jarvis::chat {
namespace {

constexpr std::string_view kSpace = " \t\r\n";
constexpr size_t kMaxCalls = 64;  // one reply; more is runaway output, not calls

std::string_view Trim(std::string_view s) {
  const size_t b = s.find_first_not_of(kSpace);
  if (b == std::string_view::npos) return {};
  return s.substr(b, s.find_last_not_of(kSpace) - b + 1);
}

std::optional<nlohmann::json> ParseJson(std::string_view text) {
  nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return std::nullopt;
  return j;
}

std::optional<std::string> ArgumentsText(const nlohmann::json& args) {
  if (args.is_null()) return std::string("{}");
  if (args.is_object()) return args.dump();
  if (args.is_string()) {  // some models write the arguments as a JSON string
    auto inner = ParseJson(args.get<std::string>());
    if (inner && inner->is_object()) return inner->dump();
  }
  return std::nullopt;
}

std::optional<std::vector<ToolCall>> CallsFromArray(const nlohmann::json& array) {
  if (!array.is_array() || array.empty() || array.size() > kMaxCalls) return std::nullopt;
  std::vector<ToolCall> calls;
  for (const auto& item : array) {
    auto call = CallFromJson(item);
    if (!call) return std::nullopt;
    calls.push_back(std::move(*call));
  }
  return calls;
}

}  // namespace

std::optional<ToolCall> CallFromJson(const nlohmann::json& value) {
  if (!value.is_object()) return std::nullopt;
  if (auto fn = value.find("function"); fn != value.end() && fn->is_object() && !value.contains("name")) {
    auto call = CallFromJson(*fn);
    if (call && value.contains("id") && value["id"].is_string()) call->id = value["id"].get<std::string>();
    return call;
  }
  auto name = value.find("name");
  if (name == value.end() || !name->is_string() || name->get<std::string>().empty()) return std::nullopt;
  // Only call-shaped objects: a name plus at most the argument object and an
  // id, so that an ordinary JSON answer with a "name" field is not a call.
  nlohmann::json args;
  for (auto it = value.begin(); it != value.end(); ++it) {
    if (it.key() == "name" || it.key() == "id" || it.key() == "type") continue;
    if ((it.key() != "arguments" && it.key() != "parameters") || !args.is_null()) return std::nullopt;
    args = it.value();
    if (args.is_null()) args = nlohmann::json::object();
  }
  auto text = ArgumentsText(args);
  if (!text) return std::nullopt;
  ToolCall call;
  call.name = name->get<std::string>();
  call.arguments = std::move(*text);
  if (auto id = value.find("id"); id != value.end() && id->is_string()) call.id = id->get<std::string>();
  return call;
}

size_t JsonContainerEnd(std::string_view text) {
  if (text.empty() || (text[0] != '{' && text[0] != '[')) return std::string_view::npos;
  int depth = 0;
  bool in_string = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      ++depth;
    } else if (c == '}' || c == ']') {
      if (--depth == 0) return i + 1;
    }
  }
  return std::string_view::npos;
}

std::optional<ToolCall> ParseHermesBlock(std::string_view inner) {
  auto j = ParseJson(Trim(inner));
  if (!j) return std::nullopt;
  return CallFromJson(*j);
}

std::optional<std::vector<ToolCall>> ParseMistralCalls(std::string_view after_marker) {
  constexpr std::string_view kMarker = "[TOOL_CALLS]";
  constexpr std::string_view kArgs = "[ARGS]";
  constexpr std::string_view kCallId = "[CALL_ID]";
  std::string_view rest = Trim(after_marker);
  if (!rest.empty() && (rest[0] == '[' || rest[0] == '{')) {  // JSON form (Mistral Nemo, v0.3)
    auto j = ParseJson(rest);
    if (!j) return std::nullopt;
    if (j->is_object()) {
      auto call = CallFromJson(*j);
      if (!call) return std::nullopt;
      return std::vector<ToolCall>{std::move(*call)};
    }
    return CallsFromArray(*j);
  }
  std::vector<ToolCall> calls;  // name[ARGS]{...} form (Mistral Small 3.2, Devstral, Ministral 3)
  while (!rest.empty()) {
    if (calls.size() >= kMaxCalls) return std::nullopt;
    const size_t args_at = rest.find(kArgs);
    if (args_at == std::string_view::npos) return std::nullopt;
    std::string_view head = rest.substr(0, args_at);
    ToolCall call;
    if (const size_t id_at = head.find(kCallId); id_at != std::string_view::npos) {
      call.id = std::string(Trim(head.substr(id_at + kCallId.size())));
      head = head.substr(0, id_at);
    }
    call.name = std::string(Trim(head));
    if (call.name.empty() || call.name.find_first_of(" \t\r\n{[") != std::string::npos) return std::nullopt;
    std::string_view body = rest.substr(args_at + kArgs.size());
    body = body.substr(std::min(body.size(), body.find_first_not_of(kSpace)));
    const size_t end = JsonContainerEnd(body);
    if (end == std::string_view::npos) return std::nullopt;
    auto args = ParseJson(body.substr(0, end));
    if (!args || !args->is_object()) return std::nullopt;
    call.arguments = args->dump();
    calls.push_back(std::move(call));
    rest = Trim(body.substr(end));
    if (rest.substr(0, kMarker.size()) == kMarker) rest = Trim(rest.substr(kMarker.size()));
  }
  if (calls.empty()) return std::nullopt;
  return calls;
}

std::optional<std::vector<ToolCall>> ParseLlamaCalls(std::string_view text) {
  std::string_view rest = Trim(text);
  std::vector<ToolCall> calls;
  while (!rest.empty()) {
    if (calls.size() >= kMaxCalls) return std::nullopt;
    const size_t end = JsonContainerEnd(rest);
    if (end == std::string_view::npos) return std::nullopt;
    auto j = ParseJson(rest.substr(0, end));
    if (!j) return std::nullopt;
    auto call = CallFromJson(*j);
    if (!call) return std::nullopt;
    calls.push_back(std::move(*call));
    rest = Trim(rest.substr(end));
    if (!rest.empty() && rest[0] == ';') rest = Trim(rest.substr(1));
  }
  if (calls.empty()) return std::nullopt;
  return calls;
}

std::optional<std::vector<ToolCall>> ParseGenericCalls(std::string_view text) {
  std::string_view body = Trim(text);
  constexpr std::string_view kFenceJson = "```json";
  constexpr std::string_view kFence = "```";
  if (body.substr(0, kFenceJson.size()) == kFenceJson) {
    body = body.substr(kFenceJson.size());
    if (body.size() < kFence.size() || body.substr(body.size() - kFence.size()) != kFence) return std::nullopt;
    body = Trim(body.substr(0, body.size() - kFence.size()));
  }
  auto j = ParseJson(body);
  if (!j) return std::nullopt;
  if (j->is_array()) return CallsFromArray(*j);
  if (!j->is_object()) return std::nullopt;
  if (j->size() == 1 && j->contains("tool_calls")) return CallsFromArray((*j)["tool_calls"]);
  if (j->size() == 1 && j->contains("tool_call")) {
    auto call = CallFromJson((*j)["tool_call"]);
    if (!call) return std::nullopt;
    return std::vector<ToolCall>{std::move(*call)};
  }
  auto call = CallFromJson(*j);
  if (!call) return std::nullopt;
  return std::vector<ToolCall>{std::move(*call)};
}

const char* ToolCallFormatName(ToolCallFormat format) {
  switch (format) {
    case ToolCallFormat::kHermes: return "hermes";
    case ToolCallFormat::kLlama3: return "llama3";
    case ToolCallFormat::kMistral: return "mistral";
    case ToolCallFormat::kGeneric: return "generic";
  }
  return "generic";
}

}  // namespace jarvis::chat
