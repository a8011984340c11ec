// Router: exact-path routes by method, and prefix routes ("/v1/models/" +
// an id) for paths no exact route takes. An unknown path is 404, a known path
// with another method 405 (with an Allow header), both as JSON errors.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>

#include "api/http_types.h"

namespace jarvis::api {

using Handler = std::function<void(const ApiRequest&, std::shared_ptr<ResponseSink>)>;

class Router {
 public:
  void Add(const std::string& method, const std::string& path, Handler handler);
  // Every path that starts with `prefix` and is longer than it.
  void AddPrefix(const std::string& method, const std::string& prefix, Handler handler);
  // The handler for the request, or nullptr with *error set to the 404/405 answer.
  const Handler* Find(const std::string& method, const std::string& path, HttpResponse* error) const;
  // "GET, POST, OPTIONS" for a known path, "" otherwise.
  std::string Allowed(const std::string& path) const;

 private:
  using Methods = std::map<std::string, Handler>;
  const Methods* Lookup(const std::string& path) const;

  std::map<std::string, Methods> routes_;    // path -> method -> handler
  std::map<std::string, Methods> prefixes_;  // prefix -> method -> handler
};

}  // namespace jarvis::api
