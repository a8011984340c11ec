// OpenAI-compatible routes: /v1/chat/completions, /v1/completions, /v1/models,
// /v1/models/{id}.
#include <cctype>
#include <optional>
#include <string>
#include <string_view>
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

// "%3A" -> ':' (model ids may be sent percent-encoded); nullopt for a bad escape.
std::optional<std::string> PercentDecode(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out += s[i];
      continue;
    }
    if (i + 2 >= s.size() || !std::isxdigit(static_cast<unsigned char>(s[i + 1])) ||
        !std::isxdigit(static_cast<unsigned char>(s[i + 2]))) {
      return std::nullopt;
    }
    out += static_cast<char>(std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16));
    i += 2;
  }
  return out;
}

// GET /v1/models/{id}: the model object, or 404 model_not_found.
void GetModel(ApiContext& ctx, const ApiRequest& request, std::shared_ptr<ResponseSink> sink) {
  constexpr std::string_view kPrefix = "/v1/models/";
  auto id = PercentDecode(std::string_view(request.path).substr(kPrefix.size()));
  if (!id || id->empty()) {
    sink->Send(ErrorResponse(BadRequest("bad model id in the path")));
    return;
  }
  const std::string name = NormalizeModelName(*id);
  for (const ModelInfo& m : ctx.backend.ListModels()) {
    if (m.name != name) continue;
    sink->Send(JsonResponse(200, {{"id", m.name}, {"object", "model"}, {"created", UnixSeconds(ctx.started)},
                                  {"owned_by", "jarvis"}}));
    return;
  }
  sink->Send(ErrorResponse(ApiError{404, "The model '" + *id + "' does not exist", "invalid_request_error",
                                    "model_not_found"}));
}

}  // namespace

void AddOpenAiRoutes(Router& router, ApiContext& ctx) {
  router.Add("POST", "/v1/chat/completions", GenerationHandler(ctx, &ParseOpenAiChat, /*chat=*/true));
  router.Add("POST", "/v1/completions", GenerationHandler(ctx, &ParseOpenAiCompletion, /*chat=*/false));
  router.Add("GET", "/v1/models",
             [&ctx](const ApiRequest&, std::shared_ptr<ResponseSink> sink) { ListModels(ctx, std::move(sink)); });
  router.AddPrefix("GET", "/v1/models/", [&ctx](const ApiRequest& request, std::shared_ptr<ResponseSink> sink) {
    GetModel(ctx, request, std::move(sink));
  });
}

}  // namespace jarvis::api
