// GenerationFormat: how one API family puts a generation on the wire, both as
// a stream (OpenAI: SSE "data:" events ending in "data: [DONE]"; Ollama: NDJSON
// lines ending in a done:true line with timings) and as one JSON body.
//
// Chat formats read the reply through chat::AssistantOutputParser (SetOutput):
// reasoning and tool calls go out in their API's fields, streamed as they
// become final (OpenAI: a tool call's id/type/name delta, then its arguments).
//
// Piece() is called on the scheduler thread in token order; StreamEnd(),
// StreamError() and Whole() once afterwards, on another thread; the calls are
// ordered by the request's completion (no locking needed).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "api/api_error.h"
#include "chat/assistant_output.h"
#include "jarvis/request.h"

namespace jarvis::api {

struct GenerationMeta {
  std::string model;    // the name reported back
  std::string id;       // "chatcmpl-..." / "cmpl-..."
  int64_t created = 0;  // unix seconds
  double load_ms = 0.0; // time spent making the model ready before the request ran
  std::chrono::steady_clock::time_point start = std::chrono::steady_clock::now();  // request arrival
};

class GenerationFormat {
 public:
  explicit GenerationFormat(GenerationMeta meta) : meta_(std::move(meta)) {}
  virtual ~GenerationFormat() = default;

  virtual const char* stream_content_type() const = 0;
  // Wire bytes for one streamed text piece ("" to send nothing).
  virtual std::string Piece(std::string_view text) = 0;
  // The closing bytes of a stream (final event(s) and terminator).
  virtual std::string StreamEnd(const GenerateResult& result) = 0;
  // An error after the stream started, plus the terminator.
  virtual std::string StreamError(const ApiError& error) = 0;
  // The body of a non-streaming response.
  virtual nlohmann::json Whole(const GenerateResult& result) = 0;
  // n > 1 (OpenAI): one body for all the choices, in order.
  virtual nlohmann::json WholeChoices(const std::vector<GenerateResult>& choices) { return Whole(choices.at(0)); }
  // The body of an error answered instead of a result (OpenAI's
  // {"error": {...}} object; Ollama's {"error": "message"}).
  virtual nlohmann::json ErrorBody(const ApiError& error) const { return ErrorJson(error); }
  // Chat formats: how to read the reply (reasoning, tool calls); set before
  // the first Piece. Other formats pass the text on as it is.
  virtual void SetOutput(const chat::AssistantOutputOptions& options) { (void)options; }

  GenerationMeta& meta() { return meta_; }

 protected:
  GenerationMeta meta_;
};

std::unique_ptr<GenerationFormat> MakeOpenAiChatFormat(GenerationMeta meta, bool include_usage);
std::unique_ptr<GenerationFormat> MakeOpenAiCompletionFormat(GenerationMeta meta, bool include_usage);
std::unique_ptr<GenerationFormat> MakeOllamaChatFormat(GenerationMeta meta);
std::unique_ptr<GenerationFormat> MakeOllamaGenerateFormat(GenerationMeta meta);

// OpenAI finish_reason for a result ("stop", "length", "cancelled", "error").
const char* OpenAiFinishReason(FinishReason reason);
// "2024-05-01T12:00:00.123456789Z" (Ollama's created_at).
std::string Rfc3339(std::chrono::system_clock::time_point t);

}  // namespace jarvis::api
