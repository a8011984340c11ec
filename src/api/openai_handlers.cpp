// OpenAI-compatible routes: /v1/chat/completions, /v1/completions, /v1/models.
#include <utility>

#include "api/api.h"
#include "api/generation_runner.h"
#include "api/handler_util.h"

namespace jarvis::api {
namespace {

using ParseFn = Result<ParsedGeneration> (*)(const nlohmann::json&);

Handler GenerationHandler(ApiContext& ctx, ParseFn parse, bool chat) {
  return [&ctx, parse, chat](const ApiRequest& request, std::shared_ptr<ResponseSink> sink) {
    nlohmann::json body;
    if (!ReadJsonBody(request, *sink, &body)) return;
    auto parsed = parse(body);
    if (!parsed.ok()) {
      sink->Send(ErrorResponse(parsed.status()));
      return;
    }
    KeepToolKeyOrder(request.body, &parsed->request);
    GenerationMeta meta;
    meta.id = (chat ? "chatcmpl-" : "cmpl-") + std::to_string(ctx.NextId());
    meta.created = UnixSeconds(std::chrono::system_clock::now());
    const bool usage = parsed->include_usage;
    auto format = chat ? MakeOpenAiChatFormat(std::move(meta), usage) : MakeOpenAiCompletionFormat(std::move(meta), usage);
    RunGeneration(ctx, std::move(parsed).value(), std::move(format), std::move(sink));
  };
}

void ListModels(ApiContext& ctx, std::shared_ptr<ResponseSink> sink) {
  nlohmann::json data = nlohmann::json::array();
  const int64_t created = UnixSeconds(ctx.started);
  for (const ModelInfo& m : ctx.backend.ListModels()) {
    data.push_back({{"id", m.name}, {"object", "model"}, {"created", created}, {"owned_by", "jarvis"}});
  }
  sink->Send(JsonResponse(200, {{"object", "list"}, {"data", std::move(data)}}));
}

}  // namespace

void AddOpenAiRoutes(Router& router, ApiContext& ctx) {
  router.Add("POST", "/v1/chat/completions", GenerationHandler(ctx, &ParseOpenAiChat, /*chat=*/true));
  router.Add("POST", "/v1/completions", GenerationHandler(ctx, &ParseOpenAiCompletion, /*chat=*/false));
  router.Add("GET", "/v1/models",
             [&ctx](const ApiRequest&, std::shared_ptr<ResponseSink> sink) { ListModels(ctx, std::move(sink)); });
}

}  // namespace jarvis::api
