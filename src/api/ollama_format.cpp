// Ollama wire formats: NDJSON objects of /api/generate and /api/chat.
#include <algorithm>
#include <cstdio>
#include <ctime>
#include <memory>
#include <optional>
#include <utility>

#include "api/generation_format.h"
#include "api/output_constraints.h"

namespace jarvis::api {
namespace {

int64_t Ns(double ms) { return static_cast<int64_t>(ms * 1e6); }

nlohmann::json OllamaToolCalls(const std::vector<chat::ToolCall>& calls) {
  nlohmann::json out = nlohmann::json::array();
  for (const chat::ToolCall& call : calls) {
    // Ollama gives the arguments as an object (OpenAI: as JSON text).
    nlohmann::json args = nlohmann::json::parse(call.arguments, nullptr, false);
    if (args.is_discarded()) args = nlohmann::json::object();
    out.push_back({{"function", {{"name", call.name}, {"arguments", std::move(args)}}}});
  }
  return out;
}

class OllamaFormat final : public GenerationFormat {
 public:
  OllamaFormat(GenerationMeta meta, bool chat) : GenerationFormat(std::move(meta)), chat_(chat) {}

  const char* stream_content_type() const override { return "application/x-ndjson"; }

  void SetOutput(const chat::AssistantOutputOptions& options) override {
    if (!chat_) return;
    output_ = options;
    parser_ = std::make_unique<chat::AssistantOutputParser>(options);
  }

  std::string Piece(std::string_view text) override {
    if (!parser_) {
      if (text.empty()) return "";
      return Line(chat::AssistantReply{"", std::string(text), {}});
    }
    std::vector<chat::OutputEvent> events;
    parser_->Push(text, &events);
    return Lines(events);
  }

  std::string StreamEnd(const GenerateResult& r) override {
    std::string out;
    if (parser_) {
      std::vector<chat::OutputEvent> events;
      parser_->Finish(&events);
      out = Lines(events);
    }
    return out + DumpJson(Final(r, chat::AssistantReply{})) + "\n";
  }

  std::string StreamError(const ApiError& error) override { return DumpJson(ErrorBody(error)) + "\n"; }

  nlohmann::json ErrorBody(const ApiError& error) const override { return {{"error", error.message}}; }

  nlohmann::json Whole(const GenerateResult& r) override {
    return Final(r, output_ ? chat::ParseAssistantReply(r.text, *output_) : chat::AssistantReply{"", r.text, {}});
  }

 private:
  // One NDJSON line per batch of events: text and thinking together, the
  // calls that became final in it as message.tool_calls.
  std::string Lines(const std::vector<chat::OutputEvent>& events) const {
    if (events.empty()) return "";
    chat::AssistantReply part;
    chat::Append(&part, events);
    return Line(part);
  }

  std::string Line(const chat::AssistantReply& part) const {
    nlohmann::json j = Base(part);
    j["done"] = false;
    return DumpJson(j) + "\n";
  }

  nlohmann::json Base(const chat::AssistantReply& part) const {
    nlohmann::json j = {{"model", meta_.model}, {"created_at", Rfc3339(std::chrono::system_clock::now())}};
    if (chat_) {
      nlohmann::json m = {{"role", "assistant"}, {"content", part.content}};
      if (!part.reasoning.empty()) m["thinking"] = part.reasoning;
      if (!part.calls.empty()) m["tool_calls"] = OllamaToolCalls(part.calls);
      j["message"] = std::move(m);
    } else {
      j["response"] = part.content;
    }
    return j;
  }

  nlohmann::json Final(const GenerateResult& r, const chat::AssistantReply& part) const {
    nlohmann::json j = Base(part);
    j["done"] = true;
    j["done_reason"] = FinishReasonName(r.finish);
    const double total_ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - meta_.start).count();
    double prompt_ms = r.timings.prompt_ms;
    double eval_ms = r.timings.decode_ms;
    if (r.from_response_cache) {
      // No prompt was computed and nothing decoded: report the time the hit
      // really took, the lookup as the prompt phase and the rest (replay and
      // formatting) as the eval phase, never zero (clients divide by it).
      prompt_ms = std::max(r.timings.total_ms, 1e-6);
      eval_ms = std::max(total_ms - meta_.load_ms - prompt_ms, 1e-6);
    }
    j["total_duration"] = Ns(total_ms);
    j["load_duration"] = Ns(meta_.load_ms);
    j["prompt_eval_count"] = r.prompt_tokens;
    j["prompt_eval_duration"] = std::max<int64_t>(Ns(prompt_ms), r.from_response_cache ? 1 : 0);
    j["eval_count"] = r.completion_tokens;
    j["eval_duration"] = std::max<int64_t>(Ns(eval_ms), r.from_response_cache ? 1 : 0);
    if (r.from_response_cache) j["cached"] = true;
    if (!r.logprobs.empty()) j["logprobs"] = OllamaLogprobs(r);  // streamed: all in the final line
    return j;
  }

  bool chat_;
  std::optional<chat::AssistantOutputOptions> output_;
  std::unique_ptr<chat::AssistantOutputParser> parser_;
};

}  // namespace

std::string Rfc3339(std::chrono::system_clock::time_point t) {
  const auto since = t.time_since_epoch();
  const auto secs = std::chrono::duration_cast<std::chrono::seconds>(since);
  const auto nanos = std::chrono::duration_cast<std::chrono::nanoseconds>(since - secs).count();
  const std::time_t tt = static_cast<std::time_t>(secs.count());
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%09lldZ", tm.tm_year + 1900, tm.tm_mon + 1,
                tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<long long>(nanos));
  return buf;
}

std::unique_ptr<GenerationFormat> MakeOllamaChatFormat(GenerationMeta meta) {
  return std::make_unique<OllamaFormat>(std::move(meta), /*chat=*/true);
}

std::unique_ptr<GenerationFormat> MakeOllamaGenerateFormat(GenerationMeta meta) {
  return std::make_unique<OllamaFormat>(std::move(meta), /*chat=*/false);
}

}  // namespace jarvis::api
