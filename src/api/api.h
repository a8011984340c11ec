// Api: the request-level front door. Applies the cross-cutting rules (CORS
// preflight, API key, draining) and routes to the handlers of each API family
// (openai_handlers.cpp, ollama_handlers.cpp, monitoring_handlers.cpp).
//
// Thread safety: Handle() may be called from any thread concurrently.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "api/api_context.h"
#include "api/http_types.h"
#include "api/router.h"

namespace jarvis::api {

class Api {
 public:
  explicit Api(ApiContext& ctx);
  void Handle(const ApiRequest& request, std::shared_ptr<ResponseSink> sink) const;

 private:
  ApiContext& ctx_;
  Router router_;
};

// Route registration, one function per API family.
void AddOpenAiRoutes(Router& router, ApiContext& ctx);
void AddOllamaRoutes(Router& router, ApiContext& ctx);
// POST /v1/embeddings, /api/embed, /api/embeddings (embedding_handlers.cpp)
void AddEmbeddingRoutes(Router& router, ApiContext& ctx);
void AddMonitoringRoutes(Router& router, ApiContext& ctx);
void AddTemplateRoutes(Router& router, ApiContext& ctx);  // POST /apply-template

// Constant-time check of an "Authorization: Bearer KEY" header value.
bool BearerMatches(std::string_view authorization, std::string_view key);
// Whether it matches any of `keys`, comparing against all of them.
bool AnyBearerMatches(std::string_view authorization, const std::vector<std::string>& keys);

}  // namespace jarvis::api
