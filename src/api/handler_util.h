// Small helpers shared by the handler files.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "api/api_backend.h"
#include "api/api_error.h"
#include "api/http_types.h"
#include "api/json_fields.h"

namespace jarvis::api {

// Parses the body as a JSON object; on failure answers 400 and returns false.
inline bool ReadJsonBody(const ApiRequest& request, ResponseSink& sink, nlohmann::json* out) {
  auto parsed = ParseJsonObject(request.body);
  if (!parsed.ok()) {
    sink.Send(ErrorResponse(ApiError{400, parsed.status().message(), "invalid_request_error", "invalid_json"}));
    return false;
  }
  *out = std::move(parsed).value();
  return true;
}

// As ReadJsonBody, answering in Ollama's error format.
inline bool ReadOllamaBody(const ApiRequest& request, ResponseSink& sink, nlohmann::json* out) {
  auto parsed = ParseJsonObject(request.body);
  if (!parsed.ok()) {
    sink.Send(OllamaError(BadRequest(parsed.status().message(), "invalid_json")));
    return false;
  }
  *out = std::move(parsed).value();
  return true;
}

inline int64_t UnixSeconds(std::chrono::system_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

// "260K", "1.1B": Ollama's parameter_size style.
std::string FormatParameterCount(uint64_t parameters);

}  // namespace jarvis::api
