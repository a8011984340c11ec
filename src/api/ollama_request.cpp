// Ollama request bodies -> GenerateRequest.
#include <utility>

#include "api/generation_request.h"
#include "api/json_fields.h"
#include "api/output_constraints.h"
#include "util/value_parse.h"

namespace jarvis::api {
namespace {

constexpr int64_t kMaxTokensLimit = 1 << 20;

Status ReadOptions(const nlohmann::json& options, GenerateRequest* r) {
  JsonFields f(options, "options.");
  SamplingParams& s = r->sampling;
  if (auto v = f.Number("temperature", 0.0, 100.0)) s.temperature = static_cast<float>(*v);
  if (auto v = f.Integer("top_k", 0, 1 << 20)) s.top_k = static_cast<int32_t>(*v);
  if (auto v = f.Number("top_p", 0.0, 1.0)) s.top_p = *v <= 0.0 ? 1e-6f : static_cast<float>(*v);
  if (auto v = f.Number("min_p", 0.0, 1.0)) s.min_p = static_cast<float>(*v);
  if (auto v = f.Integer("seed", INT64_MIN, INT64_MAX)) {
    s.seed = static_cast<uint64_t>(*v);
    s.has_seed = true;
  }
  // -1: until the context is full; -2 (fill the context) means the same here.
  if (auto v = f.Integer("num_predict", -2, kMaxTokensLimit)) r->max_tokens = *v < 0 ? -1 : static_cast<int32_t>(*v);
  if (auto v = f.StringOrStrings("stop")) {
    for (auto& stop : *v) {
      if (!stop.empty()) r->stop.push_back(std::move(stop));
    }
  }
  if (auto v = f.Number("repeat_penalty", 1e-3, 100.0)) s.repeat_penalty = static_cast<float>(*v);
  // -1: the whole context; the sampler's largest window stands for it.
  if (auto v = f.Integer("repeat_last_n", -1, SamplingParams::kMaxPenaltyLastN)) {
    s.penalty_last_n = *v < 0 ? SamplingParams::kMaxPenaltyLastN : static_cast<int32_t>(*v);
  }
  if (auto v = f.Number("presence_penalty", -100.0, 100.0)) s.presence_penalty = static_cast<float>(*v);
  if (auto v = f.Number("frequency_penalty", -100.0, 100.0)) s.frequency_penalty = static_cast<float>(*v);
  f.Integer("num_ctx", 0, INT64_MAX);  // type-checked, otherwise ignored (the server's context applies)
  // Placement and threading options (num_gpu, num_thread, use_mmap, ...) and
  // num_keep (jarvis never shifts the context) do not change the output and
  // are ignored. These samplers would, unless set to their "off" value:
  if (auto v = f.Integer("mirostat", 0, 2); v && *v != 0) f.Fail("mirostat", "is not supported (only 0, off)");
  if (auto v = f.Number("tfs_z", 0.0, 1e9); v && *v != 1.0) f.Fail("tfs_z", "is not supported (only 1, off)");
  if (auto v = f.Number("typical_p", 0.0, 1.0); v && *v != 1.0) f.Fail("typical_p", "is not supported (only 1, off)");
  return f.status();
}

Status ReadCommon(JsonFields& f, ParsedGeneration* p) {
  GenerateRequest& r = p->request;
  r.max_tokens = -1;  // Ollama's default num_predict
  p->stream = true;
  if (auto v = f.String("model")) r.model = NormalizeModelName(*v);
  if (auto v = f.Bool("stream")) p->stream = *v;
  JARVIS_RETURN_IF_ERROR(ReadOllamaKeepAlive(f, &p->keep_alive));
  if (const nlohmann::json* options = f.Object("options")) {
    JARVIS_RETURN_IF_ERROR(ReadOptions(*options, &r));
  }
  if (auto v = f.Bool("cache")) r.use_response_cache = *v;
  JARVIS_RETURN_IF_ERROR(f.status());
  JARVIS_RETURN_IF_ERROR(RejectUnsupportedFields(f, {"images"}, "jarvis models are text-only"));
  JARVIS_RETURN_IF_ERROR(RejectUnsupportedFields(f, {"template", "context", "suffix"}, "jarvis has no such feature"));
  return ReadOllamaOutputFields(f, &r);
}

}  // namespace

Status ReadOllamaKeepAlive(const JsonFields& f, std::optional<std::chrono::seconds>* keep_alive) {
  const nlohmann::json* ka = f.Raw("keep_alive");
  if (ka == nullptr) return Status::Ok();
  if (ka->is_number()) {
    const double secs = ka->get<double>();
    *keep_alive = std::chrono::seconds(secs < 0 ? -1 : static_cast<int64_t>(secs));
  } else if (ka->is_string()) {
    auto d = ParseDuration(ka->get<std::string>());
    if (!d.ok()) return Status::InvalidArgument("'keep_alive': " + d.status().message());
    *keep_alive = *d;
  } else {
    return Status::InvalidArgument("'keep_alive' must be a duration string or a number of seconds");
  }
  return Status::Ok();
}

Result<ParsedGeneration> ParseOllamaChat(const nlohmann::json& body) {
  ParsedGeneration p;
  p.chat = true;
  JsonFields f(body);
  JARVIS_RETURN_IF_ERROR(ReadCommon(f, &p));
  const nlohmann::json* messages = f.Raw("messages");
  if (messages == nullptr || (messages->is_array() && messages->empty())) {
    p.load_only = true;
    return p;
  }
  if (messages->is_array()) {
    for (size_t i = 0; i < messages->size(); ++i) {
      const nlohmann::json& m = (*messages)[i];
      if (m.is_object() && m.contains("images") && !m["images"].is_null() &&
          !(m["images"].is_array() && m["images"].empty())) {
        return Status::InvalidArgument("'messages[" + std::to_string(i) +
                                       "].images' is not supported: jarvis models are text-only");
      }
    }
  }
  JARVIS_ASSIGN_OR_RETURN(p.request.messages, ReadMessages(*messages));
  JARVIS_RETURN_IF_ERROR(ReadChatTemplateInputs(f, &p.request));
  JARVIS_RETURN_IF_ERROR(ReadChatOutputFields(f, /*ollama=*/true, &p));
  return p;
}

Result<ParsedGeneration> ParseOllamaGenerate(const nlohmann::json& body) {
  ParsedGeneration p;
  JsonFields f(body);
  JARVIS_RETURN_IF_ERROR(ReadCommon(f, &p));
  auto prompt = f.String("prompt");
  auto system = f.String("system");
  f.Bool("raw");
  if (!f.ok()) return f.status();
  JARVIS_RETURN_IF_ERROR(RejectUnsupportedFields(f, {"think"}, "thinking is returned by /api/chat"));
  if (!prompt || prompt->empty()) {
    p.load_only = true;
    return p;
  }
  p.request.prompt = system && !system->empty() ? *system + "\n\n" + *prompt : *prompt;
  return p;
}

}  // namespace jarvis::api
