// JARVIS monitoring routes: /api/performance/stats, /api/system/metrics,
// /api/models/stats, /api/models/load, /api/models/unload, /metrics, and the
// probes: /health = readiness (as llama-server's: 503 while the default model
// loads and from the termination signal on) and /livez = liveness (200 as
// long as the process serves HTTP, whatever its state).
#include <utility>

#include "api/api.h"
#include "api/generation_request.h"
#include "api/handler_util.h"
#include "util/value_parse.h"

namespace jarvis::api {
namespace {

void LoadModel(ApiContext& ctx, const ApiRequest& request, std::shared_ptr<ResponseSink> sink) {
  nlohmann::json body;
  if (!ReadJsonBody(request, *sink, &body)) return;
  JsonFields f(body);
  auto model = f.String("model");
  auto pin = f.Bool("pin");
  std::optional<std::chrono::seconds> keep_alive;
  if (const nlohmann::json* ka = f.Raw("keep_alive")) {
    if (ka->is_number()) {
      keep_alive = std::chrono::seconds(ka->get<double>() < 0 ? -1 : static_cast<int64_t>(ka->get<double>()));
    } else if (ka->is_string()) {
      auto d = ParseDuration(ka->get<std::string>());
      if (!d.ok()) f.Fail("keep_alive", d.status().message());
      if (d.ok()) keep_alive = *d;
    } else {
      f.Fail("keep_alive", "must be a duration string or a number of seconds");
    }
  }
  if (!f.ok()) {
    sink->Send(ErrorResponse(f.status()));
    return;
  }
  if (!model || model->empty()) {
    sink->Send(ErrorResponse(BadRequest("'model' is required")));
    return;
  }
  ctx.RunBlocking([&ctx, name = NormalizeModelName(*model), keep_alive, pin = pin.value_or(false), sink]() {
    Status s = ctx.backend.LoadModel(name, keep_alive, pin);
    if (!s.ok()) {
      sink->Send(ErrorResponse(s));
      return;
    }
    nlohmann::json j = {{"status", "loaded"}, {"model", name}, {"pinned", pin}};
    if (auto info = ctx.backend.GetModel(name); info.ok()) j["load_ms"] = info->load_ms;
    sink->Send(JsonResponse(200, j));
  });
}

void UnloadModel(ApiContext& ctx, const ApiRequest& request, std::shared_ptr<ResponseSink> sink) {
  nlohmann::json body;
  if (!ReadJsonBody(request, *sink, &body)) return;
  JsonFields f(body);
  auto model = f.String("model");
  if (!f.ok()) {
    sink->Send(ErrorResponse(f.status()));
    return;
  }
  if (!model || model->empty()) {
    sink->Send(ErrorResponse(BadRequest("'model' is required")));
    return;
  }
  ctx.RunBlocking([&ctx, name = NormalizeModelName(*model), sink]() {
    Status s = ctx.backend.UnloadModel(name);
    if (!s.ok()) {
      sink->Send(ErrorResponse(s));
      return;
    }
    sink->Send(JsonResponse(200, {{"status", "unloaded"}, {"model", name}}));
  });
}

void Health(ApiContext& ctx, ResponseSink& sink) {
  if (ctx.draining.load() || ctx.terminating.load() || !ctx.backend.Ready()) {
    HttpResponse r = JsonResponse(503, {{"status", "shutting_down"}});
    r.headers.emplace_back("Retry-After", "1");
    sink.Send(std::move(r));
  } else if (!ctx.ready.load()) {
    HttpResponse r = JsonResponse(503, {{"status", "loading"}});
    r.headers.emplace_back("Retry-After", "1");
    sink.Send(std::move(r));
  } else {
    sink.Send(JsonResponse(200, {{"status", "ok"}}));
  }
}

}  // namespace

void AddMonitoringRoutes(Router& router, ApiContext& ctx) {
  router.Add("GET", "/api/performance/stats", [&ctx](const ApiRequest&, std::shared_ptr<ResponseSink> s) {
    s->Send(JsonResponse(200, ctx.backend.PerformanceStats()));
  });
  router.Add("GET", "/api/system/metrics", [&ctx](const ApiRequest&, std::shared_ptr<ResponseSink> s) {
    s->Send(JsonResponse(200, ctx.backend.SystemMetrics()));
  });
  router.Add("GET", "/api/models/stats", [&ctx](const ApiRequest&, std::shared_ptr<ResponseSink> s) {
    s->Send(JsonResponse(200, ctx.backend.ModelsStats()));
  });
  router.Add("POST", "/api/models/load",
             [&ctx](const ApiRequest& r, std::shared_ptr<ResponseSink> s) { LoadModel(ctx, r, std::move(s)); });
  router.Add("POST", "/api/models/unload",
             [&ctx](const ApiRequest& r, std::shared_ptr<ResponseSink> s) { UnloadModel(ctx, r, std::move(s)); });
  router.Add("GET", "/metrics", [&ctx](const ApiRequest&, std::shared_ptr<ResponseSink> s) {
    HttpResponse r;
    r.content_type = "text/plain; version=0.0.4; charset=utf-8";
    // One writer for the whole document: each family's HELP/TYPE once.
    PrometheusWriter w;
    ctx.backend.WritePrometheus(w);
    ctx.counters.WritePrometheus(w);
    r.body = w.Text();
    s->Send(std::move(r));
  });
  router.Add("GET", "/health", [&ctx](const ApiRequest&, std::shared_ptr<ResponseSink> s) { Health(ctx, *s); });
  router.Add("GET", "/livez", [](const ApiRequest&, std::shared_ptr<ResponseSink> s) {
    s->Send(JsonResponse(200, {{"status", "alive"}}));
  });
}

}  // namespace jarvis::api
