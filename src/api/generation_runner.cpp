#include "api/generation_runner.h"

#include <atomic>
#include <chrono>
#include <optional>
#include <string>
#include <thread>
#include <utility>

namespace jarvis::api {
namespace {

// Shared by the worker that submits and the hooks on the scheduler thread.
// `streamed` is touched only by on_token and then by on_complete, which the
// scheduler calls in that order on one thread; `format` likewise.
struct GenerationState {
  std::unique_ptr<GenerationFormat> format;
  std::shared_ptr<ResponseSink> sink;
  bool stream = false;
  std::string streamed;  // text already sent
  // While Submit runs, hooks called on the submitting thread are a response-
  // cache replay: their result is answered after Submit returns, whole.
  std::atomic<bool> in_submit{false};
  std::thread::id submit_thread;
  std::optional<GenerateResult> early;
};

bool DuringSubmit(const GenerationState& st) {
  return st.in_submit.load() && std::this_thread::get_id() == st.submit_thread;
}

void Complete(GenerationState& st, const GenerateResult& r) {
  if (st.sink->Disconnected()) return;
  const Status error = r.error.ok() ? Status::Internal("generation failed") : r.error;
  if (!st.stream) {
    if (r.finish == FinishReason::kError) {
      st.sink->Send(ErrorResponse(error));
      return;
    }
    HttpResponse response = JsonResponse(200, st.format->Whole(r));
    response.headers.emplace_back("X-Jarvis-Cache", r.from_response_cache ? "hit" : "miss");
    st.sink->Send(std::move(response));
    return;
  }
  // Text not delivered through on_token (a response-cache hit, or a tail the
  // scheduler flushed at the end) goes out before the closing event.
  std::string tail;
  if (r.text.size() > st.streamed.size() && r.text.compare(0, st.streamed.size(), st.streamed) == 0) {
    tail = st.format->Piece(std::string_view(r.text).substr(st.streamed.size()));
  }
  if (r.finish == FinishReason::kError) {
    st.sink->StreamEnd(tail + st.format->StreamError(ErrorFromStatus(error)));
  } else {
    st.sink->StreamEnd(tail + st.format->StreamEnd(r));
  }
}

void SubmitOnWorker(ParsedGeneration parsed, ApiBackend& backend, std::shared_ptr<GenerationState> st) {
  GenerateRequest& request = parsed.request;
  GenerationMeta& meta = st->format->meta();
  // Make the model ready first, so that its load time is known (and not
  // mistaken for generation time) and an unknown model is a clean 404.
  const auto load_start = std::chrono::steady_clock::now();
  if (parsed.keep_alive) {
    Status s = backend.LoadModel(request.model, parsed.keep_alive, /*pin=*/false);
    if (!s.ok()) {
      st->sink->Send(ErrorResponse(s));
      return;
    }
  }
  auto info = backend.GetModel(request.model);
  if (!info.ok()) {
    st->sink->Send(ErrorResponse(info.status()));
    return;
  }
  if (!info->loaded && !parsed.keep_alive) {
    Status s = backend.LoadModel(info->name, std::nullopt, /*pin=*/false);
    if (!s.ok()) {
      st->sink->Send(ErrorResponse(s));
      return;
    }
  }
  meta.model = info->name;
  meta.load_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - load_start).count();

  if (st->stream) {
    st->sink->PrepareStream(st->format->stream_content_type(), {{"X-Jarvis-Cache", "miss"}});
    request.on_token = [st](const TokenEvent& event) {
      if (st->sink->Disconnected()) return false;
      if (DuringSubmit(*st) || event.text.empty()) return true;
      st->streamed += event.text;
      std::string bytes = st->format->Piece(event.text);
      if (!bytes.empty()) st->sink->StreamWrite(std::move(bytes));
      return true;
    };
  } else {
    std::shared_ptr<ResponseSink> sink = st->sink;
    request.on_token = [sink](const TokenEvent&) { return !sink->Disconnected(); };
  }
  request.on_complete = [st](const GenerateResult& r) {
    if (DuringSubmit(*st)) {
      st->early = r;
      return;
    }
    Complete(*st, r);
  };

  st->submit_thread = std::this_thread::get_id();
  st->in_submit.store(true);
  auto submitted = backend.Submit(std::move(request));
  st->in_submit.store(false);
  if (!submitted.ok()) {
    st->sink->Send(ErrorResponse(submitted.status()));
    return;
  }
  if (st->early) {  // answered during Submit: a response-cache hit
    if (st->stream && st->early->from_response_cache) {
      st->sink->PrepareStream(st->format->stream_content_type(), {{"X-Jarvis-Cache", "hit"}});
    }
    Complete(*st, *st->early);
    return;
  }
  st->sink->OnDisconnect(std::move(submitted->cancel));
  if (st->stream) st->sink->StreamWrite("");  // status line and headers now (ignored if already done)
}

}  // namespace

void RunGeneration(ApiContext& ctx, ParsedGeneration parsed, std::unique_ptr<GenerationFormat> format,
                   std::shared_ptr<ResponseSink> sink) {
  auto st = std::make_shared<GenerationState>();
  st->format = std::move(format);
  st->sink = std::move(sink);
  st->stream = parsed.stream;
  ApiBackend& backend = ctx.backend;
  ctx.RunBlocking([&backend, parsed = std::move(parsed), st]() mutable {
    SubmitOnWorker(std::move(parsed), backend, std::move(st));
  });
}

}  // namespace jarvis::api
