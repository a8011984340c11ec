#include "api/api.h"

#include <cctype>
#include <utility>

#include "api/api_error.h"
#include "api/dashboard_assets.h"

namespace jarvis::api {

std::string_view ApiRequest::Header(std::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (key.size() != name.size()) continue;
    bool same = true;
    for (size_t i = 0; i < key.size() && same; ++i) {
      same = std::tolower(static_cast<unsigned char>(key[i])) == std::tolower(static_cast<unsigned char>(name[i]));
    }
    if (same) return value;
  }
  return {};
}

bool BearerMatches(std::string_view authorization, std::string_view key) {
  constexpr std::string_view kScheme = "Bearer ";
  if (authorization.size() < kScheme.size()) return false;
  for (size_t i = 0; i < kScheme.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(authorization[i])) !=
        std::tolower(static_cast<unsigned char>(kScheme[i]))) {
      return false;
    }
  }
  const std::string_view given = authorization.substr(kScheme.size());
  // Touch every byte of the key whatever the given value is, so the time taken
  // says nothing about how much of it matched.
  unsigned diff = given.size() == key.size() ? 0u : 1u;
  for (size_t i = 0; i < key.size(); ++i) {
    const unsigned char g = i < given.size() ? static_cast<unsigned char>(given[i]) : 0u;
    diff |= static_cast<unsigned>(g ^ static_cast<unsigned char>(key[i]));
  }
  return diff == 0;
}

bool AnyBearerMatches(std::string_view authorization, const std::vector<std::string>& keys) {
  // Every key is compared (no early exit), so the time taken does not say
  // which key, if any, matched.
  bool any = false;
  for (const std::string& key : keys) any = BearerMatches(authorization, key) | any;
  return any;
}

Api::Api(ApiContext& ctx) : ctx_(ctx) {
  AddOpenAiRoutes(router_, ctx_);
  AddOllamaRoutes(router_, ctx_);
  AddEmbeddingRoutes(router_, ctx_);
  AddMonitoringRoutes(router_, ctx_);
  AddTemplateRoutes(router_, ctx_);
  AddDashboardRoutes(router_);  // GET / and the dashboard's files (web/)
}

void Api::Handle(const ApiRequest& request, std::shared_ptr<ResponseSink> sink) const {
  if (request.method == "OPTIONS") {  // CORS preflight (headers added by the session)
    HttpResponse r;
    r.status = 204;
    r.content_type.clear();
    const std::string allow = router_.Allowed(request.path);
    r.headers.emplace_back("Allow", allow.empty() ? "GET, POST, OPTIONS" : allow);
    sink->Send(std::move(r));
    return;
  }
  // The dashboard's static files carry no data: the page asks for the key itself.
  const bool open_route = request.path == "/health" || request.path == "/livez" ||
                          (request.method == "GET" && IsDashboardPath(request.path));
  if (!ctx_.options.api_keys.empty() && !open_route &&
      !AnyBearerMatches(request.Header("Authorization"), ctx_.options.api_keys)) {
    HttpResponse r = ErrorResponse(
        ApiError{401, "missing or invalid API key (Authorization: Bearer KEY)", "authentication_error", "invalid_api_key"});
    r.headers.emplace_back("WWW-Authenticate", "Bearer");
    sink->Send(std::move(r));
    return;
  }
  if (ctx_.draining.load() && !open_route) {
    sink->Send(ErrorResponse(ApiError{503, "server is shutting down", "unavailable_error", "shutting_down"}));
    return;
  }
  HttpResponse error;
  const Handler* handler = router_.Find(request.method, request.path, &error);
  if (handler == nullptr) {
    sink->Send(std::move(error));
    return;
  }
  (*handler)(request, std::move(sink));
}

}  // namespace jarvis::api
