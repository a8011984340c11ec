// Request fields that shape the output itself: structured output (OpenAI
// response_format, Ollama format, llama-server's grammar) and log-
// probabilities (OpenAI logprobs/top_logprobs, Ollama logprobs/top_logprobs).
// Each becomes GenerateRequest::grammar (GBNF) or ::logprobs, so the response
// cache key (which covers both) tells such requests apart.
#pragma once

#include <nlohmann/json.hpp>

#include "api/json_fields.h"
#include "jarvis/request.h"
#include "jarvis/status.h"

namespace jarvis::api {

// OpenAI chat and completions:
//   response_format: {type: "text"} | {type: "json_object"} |
//                    {type: "json_schema", json_schema: {name, schema, strict, description}}
//   grammar: GBNF text (llama-server extension; not with a JSON response_format)
//   chat: logprobs: bool, top_logprobs: 0..20 (needs logprobs: true)
//   completions: logprobs: 0..20 (the number of alternatives)
// Errors are InvalidArgument naming the field (a bad schema names the keyword).
Status ReadOpenAiOutputFields(JsonFields& f, bool chat, GenerateRequest* r);

// Ollama /api/chat and /api/generate:
//   format: "json" | a JSON schema object;  grammar: GBNF (jarvis extension)
//   logprobs: bool, top_logprobs: 0..20
Status ReadOllamaOutputFields(JsonFields& f, GenerateRequest* r);

// Log-probabilities in the wire shapes:
//   OpenAI chat:        {"content": [{token, logprob, bytes, top_logprobs: [{token, logprob, bytes}]}]}
//   OpenAI completions: {tokens, token_logprobs, top_logprobs: [{token: logprob}], text_offset}
//   Ollama:             [{token, logprob, bytes, top_logprobs: [{token, logprob, bytes}]}]
nlohmann::json OpenAiChatLogprobs(const GenerateResult& r);
nlohmann::json OpenAiCompletionLogprobs(const GenerateResult& r);
nlohmann::json OllamaLogprobs(const GenerateResult& r);

}  // namespace jarvis::api
