// Embedding routes: OpenAI POST /v1/embeddings, Ollama POST /api/embed and
// the legacy POST /api/embeddings. Parsing in embedding_request.cpp, reply
// bodies in embedding_response.cpp; here: model readiness, submission,
// cancellation on disconnect and each API's error format.
#include <chrono>
#include <memory>
#include <utility>

#include "api/api.h"
#include "api/embedding_request.h"
#include "api/embedding_response.h"
#include "api/handler_util.h"

namespace jarvis::api {
namespace {

enum class EmbedApi { kOpenAi, kOllama, kOllamaLegacy };

HttpResponse ApiErrorResponse(EmbedApi api, const Status& status) {
  return api == EmbedApi::kOpenAi ? ErrorResponse(status) : OllamaError(status);
}

nlohmann::json ReplyJson(EmbedApi api, const EmbedResult& r, const std::string& model, const ParsedEmbedding& p,
                         double load_ms) {
  switch (api) {
    case EmbedApi::kOpenAi: return OpenAiEmbeddingJson(r, model, p.base64);
    case EmbedApi::kOllama: return OllamaEmbedJson(r, model, load_ms);
    case EmbedApi::kOllamaLegacy: return OllamaLegacyEmbeddingJson(r);
  }
  return nullptr;
}

// On the worker pool: load the model (timed, for Ollama's load_duration),
// then submit; the reply is sent from the completion hook.
void EmbedOnWorker(ApiContext& ctx, EmbedApi api, ParsedEmbedding parsed, std::shared_ptr<ResponseSink> sink) {
  ApiBackend& backend = ctx.backend;
  EmbedRequest& request = parsed.request;
  const auto load_start = std::chrono::steady_clock::now();
  if (parsed.keep_alive) {
    if (Status s = backend.LoadModel(request.model, parsed.keep_alive, /*pin=*/false); !s.ok()) {
      sink->Send(ApiErrorResponse(api, s));
      return;
    }
  }
  auto info = backend.GetModel(request.model);
  if (!info.ok()) {
    sink->Send(ApiErrorResponse(api, info.status()));
    return;
  }
  if (!info->loaded && !parsed.keep_alive) {
    if (Status s = backend.LoadModel(info->name, std::nullopt, /*pin=*/false); !s.ok()) {
      sink->Send(ApiErrorResponse(api, s));
      return;
    }
  }
  const double load_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - load_start).count();
  if (parsed.load_only) {
    sink->Send(JsonResponse(200, OllamaLegacyEmbeddingJson(EmbedResult{})));
    return;
  }
  request.model = info->name;
  auto shared = std::make_shared<const ParsedEmbedding>(parsed);
  request.on_complete = [api, sink, shared, name = info->name, load_ms](const EmbedResult& r) {
    if (!r.error.ok()) {
      sink->Send(ApiErrorResponse(api, r.error));
      return;
    }
    HttpResponse response = JsonResponse(200, ReplyJson(api, r, name, *shared, load_ms));
    response.headers.emplace_back("X-Jarvis-Cache", r.from_response_cache ? "hit" : "miss");
    sink->Send(std::move(response));
  };
  auto submitted = backend.SubmitEmbed(std::move(request));
  if (!submitted.ok()) {
    sink->Send(ApiErrorResponse(api, submitted.status()));
    return;
  }
  sink->OnDisconnect(std::move(submitted->cancel));
}

Handler EmbedHandler(ApiContext& ctx, EmbedApi api) {
  return [&ctx, api](const ApiRequest& request, std::shared_ptr<ResponseSink> sink) {
    nlohmann::json body;
    const bool read = api == EmbedApi::kOpenAi ? ReadJsonBody(request, *sink, &body)
                                               : ReadOllamaBody(request, *sink, &body);
    if (!read) return;
    auto parsed = api == EmbedApi::kOpenAi   ? ParseOpenAiEmbedding(body)
                  : api == EmbedApi::kOllama ? ParseOllamaEmbed(body)
                                             : ParseOllamaEmbeddings(body);
    if (!parsed.ok()) {
      sink->Send(ApiErrorResponse(api, parsed.status()));
      return;
    }
    ctx.RunBlocking([&ctx, api, parsed = std::move(parsed).value(), sink]() mutable {
      EmbedOnWorker(ctx, api, std::move(parsed), std::move(sink));
    });
  };
}

}  // namespace

void AddEmbeddingRoutes(Router& router, ApiContext& ctx) {
  router.Add("POST", "/v1/embeddings", EmbedHandler(ctx, EmbedApi::kOpenAi));
  router.Add("POST", "/api/embed", EmbedHandler(ctx, EmbedApi::kOllama));
  router.Add("POST", "/api/embeddings", EmbedHandler(ctx, EmbedApi::kOllamaLegacy));
}

}  // namespace jarvis::api
