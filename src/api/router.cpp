#include "api/router.h"

#include <utility>

#include "api/api_error.h"

namespace jarvis::api {

void Router::Add(const std::string& method, const std::string& path, Handler handler) {
  routes_[path][method] = std::move(handler);
}

void Router::AddPrefix(const std::string& method, const std::string& prefix, Handler handler) {
  prefixes_[prefix][method] = std::move(handler);
}

const Router::Methods* Router::Lookup(const std::string& path) const {
  if (auto it = routes_.find(path); it != routes_.end()) return &it->second;
  for (const auto& [prefix, methods] : prefixes_) {
    if (path.size() > prefix.size() && path.compare(0, prefix.size(), prefix) == 0) return &methods;
  }
  return nullptr;
}

std::string Router::Allowed(const std::string& path) const {
  const Methods* methods = Lookup(path);
  if (methods == nullptr) return "";
  std::string allow;
  for (const auto& [method, handler] : *methods) allow += method + ", ";
  return allow + "OPTIONS";
}

const Handler* Router::Find(const std::string& method, const std::string& path, HttpResponse* error) const {
  const Methods* methods = Lookup(path);
  if (methods == nullptr) {
    *error = ErrorResponse(ApiError{404, "no route for " + method + " " + path, "not_found_error", "unknown_route"});
    return nullptr;
  }
  auto m = methods->find(method);
  if (m == methods->end()) {
    *error = ErrorResponse(
        ApiError{405, "method " + method + " not allowed on " + path, "invalid_request_error", "method_not_allowed"});
    error->headers.emplace_back("Allow", Allowed(path));
    return nullptr;
  }
  return &m->second;
}

}  // namespace jarvis::api
