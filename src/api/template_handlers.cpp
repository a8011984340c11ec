// POST /apply-template (llama-server's name): the prompt a chat request
// renders to with the model's chat template, without generating.
//   body:  {model?, messages, tools?, add_generation_prompt? (default true),
//           chat_template_kwargs?}
//   reply: {"prompt": "..."}; a template error is 400 with its message.
#include "api/api.h"
#include "api/generation_request.h"
#include "api/handler_util.h"
#include "api/router.h"

namespace jarvis::api {
namespace {

void ApplyTemplate(ApiContext& ctx, const ApiRequest& request, std::shared_ptr<ResponseSink> sink) {
  nlohmann::json body;
  if (!ReadJsonBody(request, *sink, &body)) return;
  GenerateRequest r;
  JsonFields f(body);
  if (auto v = f.String("model")) r.model = NormalizeModelName(*v);
  const bool add_generation_prompt = f.Bool("add_generation_prompt").value_or(true);
  const nlohmann::json* messages = f.Raw("messages");
  if (messages == nullptr) {
    sink->Send(ErrorResponse(BadRequest("'messages' is required")));
    return;
  }
  auto read = ReadMessages(*messages);
  if (!read.ok()) {
    sink->Send(ErrorResponse(read.status()));
    return;
  }
  r.messages = std::move(read).value();
  if (Status s = ReadChatTemplateInputs(f, &r); !s.ok()) {
    sink->Send(ErrorResponse(s));
    return;
  }
  KeepToolKeyOrder(request.body, &r);
  ctx.RunBlocking([&ctx, r = std::move(r), add_generation_prompt, sink]() {
    auto prompt = ctx.backend.ApplyChatTemplate(r, add_generation_prompt);
    if (!prompt.ok()) {
      sink->Send(ErrorResponse(prompt.status()));
      return;
    }
    sink->Send(JsonResponse(200, {{"prompt", *prompt}}));
  });
}

}  // namespace

void AddTemplateRoutes(Router& router, ApiContext& ctx) {
  router.Add("POST", "/apply-template", [&ctx](const ApiRequest& request, std::shared_ptr<ResponseSink> sink) {
    ApplyTemplate(ctx, request, std::move(sink));
  });
}

}  // namespace jarvis::api
