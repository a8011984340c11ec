// OpenAI request bodies -> GenerateRequest.
#include <cmath>
#include <limits>
#include <utility>

#include "api/generation_request.h"
#include "api/json_fields.h"
#include "api/output_constraints.h"

namespace jarvis::api {
namespace {

constexpr int64_t kMaxTokensLimit = 1 << 20;
constexpr size_t kMaxStops = 16;
constexpr int64_t kMaxChoices = 16;

// Sampling fields shared by both OpenAI endpoints.
void ReadSampling(JsonFields& f, GenerateRequest* r) {
  SamplingParams& s = r->sampling;
  if (auto v = f.Number("temperature", 0.0, 2.0)) s.temperature = static_cast<float>(*v);
  if (auto v = f.Number("top_p", 0.0, 1.0)) s.top_p = *v <= 0.0 ? 1e-6f : static_cast<float>(*v);
  if (auto v = f.Integer("top_k", 0, 1 << 20)) s.top_k = static_cast<int32_t>(*v);
  if (auto v = f.Number("min_p", 0.0, 1.0)) s.min_p = static_cast<float>(*v);
  if (auto v = f.Number("presence_penalty", -2.0, 2.0)) s.presence_penalty = static_cast<float>(*v);
  if (auto v = f.Number("frequency_penalty", -2.0, 2.0)) s.frequency_penalty = static_cast<float>(*v);
  if (auto v = f.Number("repeat_penalty", 1e-3, 100.0)) s.repeat_penalty = static_cast<float>(*v);
  if (auto v = f.Integer("seed", INT64_MIN, INT64_MAX)) {
    s.seed = static_cast<uint64_t>(*v);
    s.has_seed = true;
  }
  if (const nlohmann::json* bias = f.Object("logit_bias")) {
    for (auto it = bias->begin(); it != bias->end(); ++it) {
      const std::string& key = it.key();
      char* end = nullptr;
      const long id = std::strtol(key.c_str(), &end, 10);
      if (key.empty() || end != key.c_str() + key.size() || id < 0 || id > std::numeric_limits<int32_t>::max()) {
        f.Fail("logit_bias", "keys must be token ids (non-negative integers as strings)");
        return;
      }
      if (!it.value().is_number() || !std::isfinite(it.value().get<double>()) ||
          std::fabs(it.value().get<double>()) > 100.0) {
        f.Fail("logit_bias", "values must be numbers between -100 and 100");
        return;
      }
      const double value = it.value().get<double>();
      // OpenAI: -100 effectively bans the token.
      s.logit_bias.emplace_back(static_cast<int32_t>(id),
                                value <= -100.0 ? -std::numeric_limits<float>::infinity() : static_cast<float>(value));
    }
  }
}

Status ReadCommon(JsonFields& f, ParsedGeneration* p) {
  GenerateRequest& r = p->request;
  if (auto v = f.String("model")) r.model = NormalizeModelName(*v);
  if (auto v = f.Integer("max_tokens", -1, kMaxTokensLimit)) r.max_tokens = static_cast<int32_t>(*v);
  if (auto v = f.Integer("max_completion_tokens", -1, kMaxTokensLimit)) r.max_tokens = static_cast<int32_t>(*v);
  if (r.max_tokens == 0) r.max_tokens = -1;  // 0 is "no explicit limit" in some clients
  ReadSampling(f, &r);
  if (auto v = f.Integer("n", 1, kMaxChoices)) p->n = static_cast<int>(*v);
  if (auto v = f.StringOrStrings("stop")) {
    if (v->size() > kMaxStops) f.Fail("stop", "has more than 16 strings");
    for (auto& s : *v) {
      if (!s.empty()) r.stop.push_back(std::move(s));
    }
  }
  f.String("user");
  if (auto v = f.Bool("stream")) p->stream = *v;
  if (const nlohmann::json* so = f.Object("stream_options")) {
    JsonFields sof(*so, "stream_options.");
    if (auto v = sof.Bool("include_usage")) p->include_usage = *v;
    if (!sof.ok()) return sof.status();
  }
  if (auto v = f.Bool("ignore_eos")) r.ignore_eos = *v;
  if (auto v = f.Bool("cache")) r.use_response_cache = *v;
  if (p->n > 1 && p->stream) f.Fail("n", "must be 1 when streaming (n > 1 is answered whole)");
  if (const nlohmann::json* m = f.Raw("modalities"); m != nullptr && *m != nlohmann::json::array({"text"})) {
    f.Fail("modalities", "must be [\"text\"]: jarvis models generate text only");
  }
  JARVIS_RETURN_IF_ERROR(f.status());
  JARVIS_RETURN_IF_ERROR(RejectUnsupportedFields(f, {"functions", "function_call"}, "use 'tools' and 'tool_choice'"));
  JARVIS_RETURN_IF_ERROR(RejectUnsupportedFields(f, {"audio", "reasoning_effort", "web_search_options", "best_of", "suffix"},
                                 "jarvis has no such feature"));
  return ReadOpenAiOutputFields(f, p->chat, &r);
}

}  // namespace

Result<ParsedGeneration> ParseOpenAiChat(const nlohmann::json& body) {
  ParsedGeneration p;
  p.chat = true;
  p.request.max_tokens = -1;
  JsonFields f(body);
  const nlohmann::json* messages = f.Raw("messages");
  if (messages == nullptr) return Status::InvalidArgument("'messages' is required");
  JARVIS_ASSIGN_OR_RETURN(p.request.messages, ReadMessages(*messages));
  JARVIS_RETURN_IF_ERROR(ReadChatTemplateInputs(f, &p.request));
  JARVIS_RETURN_IF_ERROR(ReadCommon(f, &p));
  JARVIS_RETURN_IF_ERROR(ReadChatOutputFields(f, /*ollama=*/false, &p));
  return p;
}

Result<ParsedGeneration> ParseOpenAiCompletion(const nlohmann::json& body) {
  ParsedGeneration p;
  p.request.max_tokens = 16;
  JsonFields f(body);
  const nlohmann::json* prompt = f.Raw("prompt");
  if (prompt == nullptr) return Status::InvalidArgument("'prompt' is required");
  if (prompt->is_string()) {
    p.request.prompt = prompt->get<std::string>();
  } else if (prompt->is_array() && prompt->size() == 1 && (*prompt)[0].is_string()) {
    p.request.prompt = (*prompt)[0].get<std::string>();
  } else if (prompt->is_array() && !prompt->empty() && (*prompt)[0].is_number_integer()) {
    for (const auto& t : *prompt) {
      if (!t.is_number_integer() || t.get<int64_t>() < 0 || t.get<int64_t>() > std::numeric_limits<int32_t>::max()) {
        return Status::InvalidArgument("'prompt' token ids must be non-negative integers");
      }
      p.request.prompt_tokens.push_back(static_cast<int32_t>(t.get<int64_t>()));
    }
  } else if (prompt->is_array() && prompt->size() > 1) {
    return Status::InvalidArgument("'prompt' with several prompts is not supported (send one request each)");
  } else {
    return Status::InvalidArgument("'prompt' must be a string, an array of one string or an array of token ids");
  }
  if (p.request.prompt.empty() && p.request.prompt_tokens.empty()) {
    return Status::InvalidArgument("'prompt' must not be empty");
  }
  JARVIS_RETURN_IF_ERROR(ReadCommon(f, &p));
  if (auto echo = f.Bool("echo"); echo && *echo) return Status::InvalidArgument("'echo' is not supported");
  if (!f.ok()) return f.status();
  return p;
}

std::string NormalizeModelName(const std::string& name) {
  constexpr std::string_view kLatest = ":latest";
  if (name.size() > kLatest.size() && name.compare(name.size() - kLatest.size(), kLatest.size(), kLatest) == 0) {
    return name.substr(0, name.size() - kLatest.size());
  }
  return name;
}

}  // namespace jarvis::api
