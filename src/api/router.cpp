#include "api/router.h"

#include <utility>

#include "api/api_error.h"

namespace jarvis::api {

void Router::Add(const std::string& method, const std::string& path, Handler handler) {
  routes_[path][method] = std::move(handler);
}

std::string Router::Allowed(const std::string& path) const {
  auto it = routes_.find(path);
  if (it == routes_.end()) return "";
  std::string allow;
  for (const auto& [method, handler] : it->second) allow += method + ", ";
  return allow + "OPTIONS";
}

const Handler* Router::Find(const std::string& method, const std::string& path, HttpResponse* error) const {
  auto it = routes_.find(path);
  if (it == routes_.end()) {
    *error = ErrorResponse(ApiError{404, "no route for " + method + " " + path, "not_found_error", "unknown_route"});
    return nullptr;
  }
  auto m = it->second.find(method);
  if (m == it->second.end()) {
    *error = ErrorResponse(
        ApiError{405, "method " + method + " not allowed on " + path, "invalid_request_error", "method_not_allowed"});
    error->headers.emplace_back("Allow", Allowed(path));
    return nullptr;
  }
  return &m->second;
}

}  // namespace jarvis::api
