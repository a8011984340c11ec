// Request parsing for the generation endpoints: JSON bodies of the OpenAI and
// Ollama APIs turned into a validated GenerateRequest plus how to answer it.
// Pure functions (no I/O); InvalidArgument names the offending field.
#pragma once

#include <chrono>
#include <initializer_list>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "api/json_fields.h"
#include "chat/tool_choice.h"
#include "jarvis/request.h"
#include "jarvis/status.h"

namespace jarvis::api {

class JsonFields;

// How a reasoning model's <think> block is returned.
enum class ReasoningMode {
  kAuto,      // separately, when the model's template knows <think>; else inline
  kSeparate,  // separately (OpenAI reasoning_content / Ollama thinking)
  kInline,    // left in the content as the model wrote it
};

// The output side of a chat request (read by ReadChatOutputFields).
struct ChatOutputRequest {
  std::vector<chat::ToolDefinition> tools;
  chat::ToolChoice tool_choice;
  bool parallel_tool_calls = true;
  ReasoningMode reasoning = ReasoningMode::kAuto;
  bool thinking_required = false;  // Ollama think: true (400 for a model that does not think)
};

struct ParsedGeneration {
  GenerateRequest request;   // on_token is left empty
  bool stream = false;
  bool include_usage = false;                   // OpenAI stream_options.include_usage
  std::optional<std::chrono::seconds> keep_alive;  // Ollama keep_alive
  bool chat = false;
  // Ollama: a /api/generate or /api/chat without prompt/messages only loads
  // (or, with keep_alive 0, unloads) the model.
  bool load_only = false;
  ChatOutputRequest output;  // chat only
  int n = 1;                 // OpenAI n: choices generated from the one prompt
};

// POST /v1/chat/completions and POST /v1/completions. Supports model,
// messages / prompt (string, [string] or [token ids]), max_tokens,
// max_completion_tokens, temperature, top_p, top_k, min_p, seed, stop,
// presence_penalty, frequency_penalty, repeat_penalty, logit_bias, n (1..16;
// 1 when streaming), stream, stream_options.include_usage, user, and the
// non-standard ignore_eos and cache; chat also tools, tool_choice,
// parallel_tool_calls, reasoning_format (ReadChatOutputFields). Fields that
// would change the output but are not supported are a 400 naming them (see
// RejectUnsupportedFields); other unknown fields are ignored. Default max_tokens: 16 for completions (as OpenAI),
// until end/context for chat.
Result<ParsedGeneration> ParseOpenAiChat(const nlohmann::json& body);
Result<ParsedGeneration> ParseOpenAiCompletion(const nlohmann::json& body);

// POST /api/chat and POST /api/generate. stream defaults to true; options{}
// maps temperature, top_k, top_p, min_p, seed, num_predict, stop,
// repeat_penalty, repeat_last_n, presence_penalty, frequency_penalty (num_ctx
// and the placement/threading options are accepted and ignored; sampling
// options jarvis does not implement are a 400). /api/generate continues `prompt` as
// raw text (as Ollama's raw: true; `system` is prepended); use /api/chat for
// template-rendered conversations.
Result<ParsedGeneration> ParseOllamaChat(const nlohmann::json& body);
Result<ParsedGeneration> ParseOllamaGenerate(const nlohmann::json& body);

// tools, tool_choice and parallel_tool_calls (OpenAI), reasoning_format
// ("auto"/"deepseek": separately, "none": inline) and, for Ollama, tools and
// think (true: thinking returned separately, false: the template is asked not
// to think; absent: inline). tool_choice "none" keeps the tools out of the
// prompt (call it after ReadChatTemplateInputs, which fills tools_json);
// "required" or a named function constrain the reply to one call.
Status ReadChatOutputFields(JsonFields& fields, bool ollama, ParsedGeneration* parsed);

// A 400 naming the first of `keys` present in the body: request fields that
// would change the output but that jarvis does not implement.
Status RejectUnsupportedFields(const JsonFields& fields, std::initializer_list<const char*> keys,
                               const char* why);

// A chat "messages" array (chat_request.cpp), shared by both APIs: objects
// with a non-empty string role ("developer" is read as "system"), a content
// that is a string, null or an array of OpenAI text parts, and optionally
// tool_calls (an array of {id?, type?, function: {name, arguments}} where
// arguments is an object or a JSON string, as the OpenAI and Ollama clients
// send them), tool_call_id, name (Ollama: tool_name), reasoning_content
// (Ollama: thinking).
Result<std::vector<ChatMessage>> ReadMessages(const nlohmann::json& messages);

// The chat fields that reach the model's template: `tools` (an array of
// {"type": "function", "function": {"name", "description"?, "parameters"?}})
// and `chat_template_kwargs` (an object). InvalidArgument naming the field.
Status ReadChatTemplateInputs(JsonFields& fields, GenerateRequest* request);

// Request bodies are parsed into key-sorted objects, but templates print tools
// and tool calls with tojson, and a model should see them in the order the
// client wrote them: re-reads `tools` and messages[].tool_calls from the raw
// body with their key order kept (after a successful parse; a no-op when the
// request has neither).
void KeepToolKeyOrder(const std::string& raw_body, GenerateRequest* request);

// Ollama's keep_alive (a duration string such as "5m", or seconds; negative:
// forever): left unset when absent. InvalidArgument for another type or a bad
// duration. Shared by the generation and embedding parsers.
Status ReadOllamaKeepAlive(const JsonFields& fields, std::optional<std::chrono::seconds>* keep_alive);

// Ollama model names may carry a ":latest" tag; jarvis names models by file stem.
std::string NormalizeModelName(const std::string& name);

}  // namespace jarvis::api
