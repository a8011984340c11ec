#include "api/generation_runner.h"

#include <atomic>
#include <chrono>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "api/tool_call_constraint.h"

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

void SendError(GenerationState& st, const Status& status) {
  const ApiError error = ErrorFromStatus(status);
  HttpResponse r = JsonResponse(error.status, st.format->ErrorBody(error));
  if (error.status == 429 || error.status == 503) r.headers.emplace_back("Retry-After", "1");
  st.sink->Send(std::move(r));
}

void Complete(GenerationState& st, const GenerateResult& r) {
  if (st.sink->Disconnected()) return;
  const Status error = r.error.ok() ? Status::Internal("generation failed") : r.error;
  if (!st.stream) {
    if (r.finish == FinishReason::kError) {
      SendError(st, error);
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

// How to read this chat reply, from the request and the model's template;
// also constrains the reply for tool_choice "required" / a named function.
Status PrepareChatOutput(ApiContext& ctx, const ModelInfo& info, ParsedGeneration& parsed, GenerationFormat& format) {
  const ChatOutputRequest& want = parsed.output;
  const bool tools = !want.tools.empty() && want.tool_choice.mode != chat::ToolChoiceMode::kNone;
  if (!tools && want.reasoning == ReasoningMode::kInline) return Status::Ok();
  // A model whose header cannot be read now (it was read when it loaded) is
  // treated as one without a template: generic calls, no reasoning.
  auto looked_up = ctx.chat_traits.Get(ctx.backend, info);
  const ModelChatTraits traits = looked_up.ok() ? *looked_up : ModelChatTraits{};
  if (want.thinking_required && !traits.reasoning.thinks) {
    return Status::InvalidArgument("'think': model '" + info.name + "' does not support thinking");
  }
  chat::AssistantOutputOptions options;
  options.split_reasoning = want.reasoning == ReasoningMode::kSeparate ||
                            (want.reasoning == ReasoningMode::kAuto && traits.reasoning.thinks);
  // A template asked not to think does not leave the block open.
  const bool no_thinking = parsed.request.chat_template_kwargs_json.find("\"enable_thinking\":false") != std::string::npos;
  options.reasoning_opened_in_prompt = traits.reasoning.opens_in_prompt && !no_thinking;
  options.parse_tool_calls = tools;
  options.tools.format = traits.tool_format;
  for (const chat::ToolDefinition& t : want.tools) options.tools.tool_names.insert(t.name);
  options.tools.parallel = want.parallel_tool_calls;
  // "call_<request number>_<index>": unique per reply and across replies.
  const std::string& id = format.meta().id;
  options.tools.id_prefix = "call_" + id.substr(id.find_last_of('-') + 1) + "_";
  if (tools && (want.tool_choice.mode == chat::ToolChoiceMode::kRequired ||
                want.tool_choice.mode == chat::ToolChoiceMode::kNamed)) {
    JARVIS_ASSIGN_OR_RETURN(chat::ToolCallConstraint constraint,
                            chat::BuildToolCallSchema(want.tools, want.tool_choice, traits.tool_format));
    JARVIS_RETURN_IF_ERROR(ApplyToolCallConstraint(constraint, &parsed.request));
  }
  format.SetOutput(options);
  return Status::Ok();
}

// n > 1: the choices of one prompt, answered together. Choice 0 goes first;
// the others are submitted once it has produced its first token, when its
// prompt's full KV blocks are registered in the scheduler's prefix cache, so
// that they attach those blocks instead of computing the prompt again (each
// computes only the prompt's last, partial block: 1..block_size tokens).
struct Choices {
  explicit Choices(int n) : results(static_cast<size_t>(n)), remaining(n) {}
  std::mutex mu;
  std::vector<GenerateResult> results;                  // GUARDED_BY(mu)
  int remaining;                                        // GUARDED_BY(mu)
  std::vector<std::function<void()>> cancels;           // GUARDED_BY(mu)
  bool cancelled = false;                               // GUARDED_BY(mu)
  std::atomic<bool> others_started{false};
};

void AnswerChoices(GenerationState& st, const std::vector<GenerateResult>& results) {
  if (st.sink->Disconnected()) return;
  bool all_hits = true;
  for (const GenerateResult& r : results) {
    if (r.finish == FinishReason::kError) {
      SendError(st, r.error.ok() ? Status::Internal("generation failed") : r.error);
      return;
    }
    all_hits = all_hits && r.from_response_cache;
  }
  HttpResponse response = JsonResponse(200, st.format->WholeChoices(results));
  response.headers.emplace_back("X-Jarvis-Cache", all_hits ? "hit" : "miss");
  st.sink->Send(std::move(response));
}

void FinishChoice(const std::shared_ptr<GenerationState>& st, const std::shared_ptr<Choices>& c, int index,
                  const GenerateResult& r) {
  std::vector<GenerateResult> done;
  {
    std::lock_guard<std::mutex> lock(c->mu);
    c->results[static_cast<size_t>(index)] = r;
    if (--c->remaining > 0) return;
    done = c->results;
  }
  AnswerChoices(*st, done);
}

void SubmitChoice(ApiContext& ctx, const GenerateRequest& base, int index, const std::shared_ptr<GenerationState>& st,
                  const std::shared_ptr<Choices>& c, int n);

void StartOtherChoices(ApiContext& ctx, const GenerateRequest& base, const std::shared_ptr<GenerationState>& st,
                       const std::shared_ptr<Choices>& c, int n) {
  if (c->others_started.exchange(true)) return;
  // Not on the scheduler's thread (a hook must not call back into it).
  ctx.RunBlocking([&ctx, base, st, c, n] {
    for (int i = 1; i < n; ++i) SubmitChoice(ctx, base, i, st, c, n);
  });
}

void SubmitChoice(ApiContext& ctx, const GenerateRequest& base, int index, const std::shared_ptr<GenerationState>& st,
                  const std::shared_ptr<Choices>& c, int n) {
  GenerateRequest request = base;
  // Each choice samples differently; with a seed, reproducibly (seed + index).
  if (request.sampling.has_seed) request.sampling.seed += static_cast<uint64_t>(index);
  std::shared_ptr<ResponseSink> sink = st->sink;
  request.on_token = [&ctx, base, st, c, n, index, sink](const TokenEvent&) {
    if (index == 0) StartOtherChoices(ctx, base, st, c, n);
    return !sink->Disconnected();
  };
  request.on_complete = [&ctx, base, st, c, n, index](const GenerateResult& r) {
    if (index == 0) StartOtherChoices(ctx, base, st, c, n);  // also when it ended before a first token
    FinishChoice(st, c, index, r);
  };
  auto submitted = ctx.backend.Submit(std::move(request));
  if (!submitted.ok()) {
    GenerateResult failed;
    failed.finish = FinishReason::kError;
    failed.error = submitted.status();
    if (index == 0) StartOtherChoices(ctx, base, st, c, n);
    FinishChoice(st, c, index, failed);
    return;
  }
  std::lock_guard<std::mutex> lock(c->mu);
  if (c->cancelled) {
    submitted->cancel();
  } else {
    c->cancels.push_back(std::move(submitted->cancel));
  }
}

void SubmitChoices(ApiContext& ctx, GenerateRequest base, int n, std::shared_ptr<GenerationState> st) {
  auto c = std::make_shared<Choices>(n);
  st->sink->OnDisconnect([c] {
    std::vector<std::function<void()>> cancels;
    {
      std::lock_guard<std::mutex> lock(c->mu);
      c->cancelled = true;
      cancels = c->cancels;
    }
    for (auto& cancel : cancels) cancel();
  });
  base.on_token = nullptr;
  base.on_complete = nullptr;
  SubmitChoice(ctx, base, 0, st, c, n);
}

void SubmitOnWorker(ApiContext& ctx, ParsedGeneration parsed, std::shared_ptr<GenerationState> st) {
  ApiBackend& backend = ctx.backend;
  GenerateRequest& request = parsed.request;
  GenerationMeta& meta = st->format->meta();
  // Make the model ready first, so that its load time is known (and not
  // mistaken for generation time) and an unknown model is a clean 404.
  const auto load_start = std::chrono::steady_clock::now();
  if (parsed.keep_alive) {
    Status s = backend.LoadModel(request.model, parsed.keep_alive, /*pin=*/false);
    if (!s.ok()) {
      SendError(*st, s);
      return;
    }
  }
  auto info = backend.GetModel(request.model);
  if (!info.ok()) {
    SendError(*st, info.status());
    return;
  }
  if (!info->loaded && !parsed.keep_alive) {
    Status s = backend.LoadModel(info->name, std::nullopt, /*pin=*/false);
    if (!s.ok()) {
      SendError(*st, s);
      return;
    }
  }
  meta.model = info->name;
  meta.load_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - load_start).count();
  if (parsed.chat) {
    if (Status s = PrepareChatOutput(ctx, *info, parsed, *st->format); !s.ok()) {
      SendError(*st, s);
      return;
    }
  }
  if (parsed.n > 1) {  // never streamed (the request parser refuses that)
    SubmitChoices(ctx, std::move(request), parsed.n, std::move(st));
    return;
  }

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
    SendError(*st, submitted.status());
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
  ctx.RunBlocking([&ctx, parsed = std::move(parsed), st]() mutable { SubmitOnWorker(ctx, std::move(parsed), std::move(st)); });
}

}  // namespace jarvis::api
