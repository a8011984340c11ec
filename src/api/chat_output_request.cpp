// The output-side fields of chat requests (tools, tool_choice, reasoning) and
// the refusal of fields that would change the output but are not supported.
#include <utility>

#include "api/generation_request.h"
#include "api/json_fields.h"

namespace jarvis::api {

Status RejectUnsupportedFields(const JsonFields& fields, std::initializer_list<const char*> keys, const char* why) {
  for (const char* key : keys) {
    const nlohmann::json* v = fields.Raw(key);
    if (v != nullptr && !((v->is_array() || v->is_object()) && v->empty())) {
      std::string message = "'";  // (built piecewise: GCC 12 -Wrestrict misfires on "'" + std::string)
      message += key;
      message += "' is not supported: ";
      message += why;
      return Status::InvalidArgument(std::move(message));
    }
  }
  return Status::Ok();
}

Status ReadChatOutputFields(JsonFields& f, bool ollama, ParsedGeneration* p) {
  ChatOutputRequest& out = p->output;
  if (const nlohmann::json* tools = f.Array("tools")) {
    JARVIS_ASSIGN_OR_RETURN(out.tools, chat::ReadToolDefinitions(*tools));
  }
  if (!ollama) {
    JARVIS_ASSIGN_OR_RETURN(out.tool_choice, chat::ReadToolChoice(f.Raw("tool_choice"), out.tools));
    if (auto v = f.Bool("parallel_tool_calls")) out.parallel_tool_calls = *v;
    if (auto v = f.String("reasoning_format")) {
      if (*v == "none") {
        out.reasoning = ReasoningMode::kInline;
      } else if (*v == "auto" || *v == "deepseek" || *v == "deepseek-legacy") {
        out.reasoning = ReasoningMode::kAuto;
      } else {
        f.Fail("reasoning_format", "must be \"auto\", \"deepseek\" or \"none\"");
      }
    }
  } else if (const nlohmann::json* think = f.Raw("think")) {
    if (!think->is_boolean()) {
      return Status::InvalidArgument("'think' must be true or false (thinking levels are not supported)");
    }
    if (think->get<bool>()) {
      out.reasoning = ReasoningMode::kSeparate;
      out.thinking_required = true;
    } else {
      // Ask the template not to think (Qwen3's enable_thinking); any empty
      // <think></think> the model still writes is split off.
      out.reasoning = ReasoningMode::kSeparate;
      nlohmann::json kwargs = p->request.chat_template_kwargs_json.empty()
                                  ? nlohmann::json::object()
                                  : nlohmann::json::parse(p->request.chat_template_kwargs_json, nullptr, false);
      if (!kwargs.is_object()) kwargs = nlohmann::json::object();
      kwargs["enable_thinking"] = false;
      p->request.chat_template_kwargs_json = kwargs.dump();
    }
  } else {
    out.reasoning = ReasoningMode::kInline;  // Ollama without think: the reply as the model wrote it
  }
  JARVIS_RETURN_IF_ERROR(f.status());
  // ReadChatTemplateInputs (run first) put the tools in tools_json for the
  // template; "none": the model is not told about them at all.
  if (out.tools.empty() || out.tool_choice.mode == chat::ToolChoiceMode::kNone) p->request.tools_json.clear();
  return Status::Ok();
}

}  // namespace jarvis::api
