// Errors as the HTTP API returns them: always JSON
//   {"error": {"message": "...", "type": "...", "code": "..."}}
// with a status that says whose fault it was (4xx: the client's; 429/503:
// overload or shutdown, with Retry-After; 500 only for jarvis's own bugs).
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "api/http_types.h"
#include "jarvis/status.h"

namespace jarvis::api {

struct ApiError {
  int status = 500;
  std::string message;
  std::string type;  // "invalid_request_error", "not_found_error", ...
  std::string code;  // machine-readable detail, e.g. "model_not_found"
};

// A Status from the layers below as an HTTP error: InvalidArgument 400,
// NotFound 404, ResourceExhausted 429, Cancelled 503, Unsupported 400,
// anything else 500.
ApiError ErrorFromStatus(const Status& status);

ApiError BadRequest(std::string message, std::string code = "invalid_request");

nlohmann::json ErrorJson(const ApiError& error);
// The error as a response (adds Retry-After to 429 and 503).
HttpResponse ErrorResponse(const ApiError& error);
inline HttpResponse ErrorResponse(const Status& status) { return ErrorResponse(ErrorFromStatus(status)); }

HttpResponse JsonResponse(int status, const nlohmann::json& body);

// Ollama answers errors as {"error": "message"} (a string: its clients show
// an object as "[object Object]"); Retry-After as ErrorResponse.
HttpResponse OllamaError(const ApiError& error);
inline HttpResponse OllamaError(const Status& status) { return OllamaError(ErrorFromStatus(status)); }

// JSON text that never throws on invalid UTF-8 (replaced with U+FFFD).
std::string DumpJson(const nlohmann::json& value);

}  // namespace jarvis::api
