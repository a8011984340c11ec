#include "api/api_error.h"

#include <utility>

namespace jarvis::api {

ApiError ErrorFromStatus(const Status& status) {
  switch (status.code()) {
    case StatusCode::kInvalidArgument:
    case StatusCode::kUnsupported:
      return {400, status.message(), "invalid_request_error", "invalid_request"};
    case StatusCode::kNotFound:
      return {404, status.message(), "not_found_error", "model_not_found"};
    case StatusCode::kResourceExhausted:
      return {429, status.message(), "rate_limit_error", "overloaded"};
    case StatusCode::kCancelled:
      return {503, status.message(), "unavailable_error", "shutting_down"};
    default:
      return {500, status.ToString(), "server_error", "internal_error"};
  }
}

ApiError BadRequest(std::string message, std::string code) {
  return {400, std::move(message), "invalid_request_error", std::move(code)};
}

nlohmann::json ErrorJson(const ApiError& error) {
  return {{"error", {{"message", error.message}, {"type", error.type}, {"code", error.code}}}};
}

HttpResponse ErrorResponse(const ApiError& error) {
  HttpResponse r = JsonResponse(error.status, ErrorJson(error));
  if (error.status == 429 || error.status == 503) r.headers.emplace_back("Retry-After", "1");
  return r;
}

HttpResponse JsonResponse(int status, const nlohmann::json& body) {
  HttpResponse r;
  r.status = status;
  r.content_type = "application/json";
  r.body = DumpJson(body);
  return r;
}

std::string DumpJson(const nlohmann::json& value) {
  return value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

HttpResponse OllamaError(const ApiError& error) {
  HttpResponse r = JsonResponse(error.status, {{"error", error.message}});
  if (error.status == 429 || error.status == 503) r.headers.emplace_back("Retry-After", "1");
  return r;
}

}  // namespace jarvis::api
