#include "chat/tool_choice.h"

#include <set>
#include <utility>

namespace jarvis::chat {
namespace {

Status Invalid(const std::string& what) { return Status::InvalidArgument(what); }

// The schema of one call object of `tool` with the format's field names.
nlohmann::json CallSchema(const ToolDefinition& tool, const char* arguments_key) {
  nlohmann::json args = tool.parameters.is_object() && !tool.parameters.empty() ? tool.parameters
                                                                                 : nlohmann::json{{"type", "object"}};
  return {{"type", "object"},
          {"properties", {{"name", {{"const", tool.name}}}, {arguments_key, std::move(args)}}},
          {"required", {"name", arguments_key}},
          {"additionalProperties", false}};
}

}  // namespace

Result<std::vector<ToolDefinition>> ReadToolDefinitions(const nlohmann::json& tools) {
  if (!tools.is_array()) return Invalid("'tools' must be an array");
  std::vector<ToolDefinition> out;
  std::set<std::string> seen;
  for (size_t i = 0; i < tools.size(); ++i) {
    const std::string where = "'tools[" + std::to_string(i) + "]";
    const nlohmann::json& t = tools[i];
    if (!t.is_object()) return Invalid(where + "' must be an object");
    if (auto type = t.find("type"); type != t.end() && *type != "function") {
      return Invalid(where + ".type' must be \"function\"");
    }
    auto fn = t.find("function");
    if (fn == t.end() || !fn->is_object()) return Invalid(where + ".function' must be an object");
    auto name = fn->find("name");
    if (name == fn->end() || !name->is_string() || name->get<std::string>().empty()) {
      return Invalid(where + ".function.name' must be a non-empty string");
    }
    ToolDefinition def;
    def.name = name->get<std::string>();
    if (!seen.insert(def.name).second) return Invalid(where + "': function '" + def.name + "' is declared twice");
    if (auto params = fn->find("parameters"); params != fn->end() && !params->is_null()) {
      if (!params->is_object()) return Invalid(where + ".function.parameters' must be a JSON Schema object");
      def.parameters = *params;
    } else {
      def.parameters = nlohmann::json::object();
    }
    out.push_back(std::move(def));
  }
  return out;
}

Result<ToolChoice> ReadToolChoice(const nlohmann::json* choice, const std::vector<ToolDefinition>& tools) {
  ToolChoice out;
  if (choice == nullptr || choice->is_null()) return out;
  if (choice->is_string()) {
    const std::string s = choice->get<std::string>();
    if (s == "auto") return out;
    if (s == "none") {
      out.mode = ToolChoiceMode::kNone;
      return out;
    }
    if (s == "required") {
      if (tools.empty()) return Invalid("'tool_choice' is \"required\" but no 'tools' are given");
      out.mode = ToolChoiceMode::kRequired;
      return out;
    }
    return Invalid("'tool_choice' must be \"auto\", \"none\", \"required\" or {\"type\":\"function\",...}");
  }
  if (!choice->is_object()) return Invalid("'tool_choice' must be a string or an object");
  auto type = choice->find("type");
  auto fn = choice->find("function");
  if (type == choice->end() || *type != "function" || fn == choice->end() || !fn->is_object() ||
      !fn->contains("name") || !(*fn)["name"].is_string()) {
    return Invalid("'tool_choice' object must be {\"type\":\"function\",\"function\":{\"name\":...}}");
  }
  out.mode = ToolChoiceMode::kNamed;
  out.name = (*fn)["name"].get<std::string>();
  for (const ToolDefinition& t : tools) {
    if (t.name == out.name) return out;
  }
  return Invalid("'tool_choice' names function '" + out.name + "', which is not among 'tools'");
}

Result<ToolCallConstraint> BuildToolCallSchema(const std::vector<ToolDefinition>& tools, const ToolChoice& choice,
                                               ToolCallFormat format) {
  if (choice.mode != ToolChoiceMode::kRequired && choice.mode != ToolChoiceMode::kNamed) {
    return Invalid("a tool-call constraint needs tool_choice \"required\" or a named function");
  }
  const char* arguments_key = format == ToolCallFormat::kLlama3 ? "parameters" : "arguments";
  nlohmann::json alternatives = nlohmann::json::array();
  for (const ToolDefinition& t : tools) {
    if (choice.mode == ToolChoiceMode::kNamed && t.name != choice.name) continue;
    alternatives.push_back(CallSchema(t, arguments_key));
  }
  if (alternatives.empty()) {
    return Invalid(choice.mode == ToolChoiceMode::kNamed
                       ? "'tool_choice' names function '" + choice.name + "', which is not among 'tools'"
                       : "'tool_choice' is \"required\" but no 'tools' are given");
  }
  ToolCallConstraint c;
  c.schema = alternatives.size() == 1 ? alternatives[0] : nlohmann::json{{"anyOf", std::move(alternatives)}};
  switch (format) {
    case ToolCallFormat::kHermes:
      c.prefix = "<tool_call>\n";
      c.suffix = "\n</tool_call>";
      break;
    case ToolCallFormat::kMistral:
      c.prefix = "[TOOL_CALLS]";
      c.schema = {{"type", "array"}, {"items", std::move(c.schema)}, {"minItems", 1}, {"maxItems", 1}};
      break;
    case ToolCallFormat::kLlama3:
    case ToolCallFormat::kGeneric:
      break;
  }
  return c;
}

}  // namespace jarvis::chat
