// Ollama wire formats: NDJSON objects of /api/generate and /api/chat.
#include <cstdio>
#include <ctime>
#include <utility>

#include "api/generation_format.h"
#include "api/output_constraints.h"

namespace jarvis::api {
namespace {

int64_t Ns(double ms) { return static_cast<int64_t>(ms * 1e6); }

class OllamaFormat final : public GenerationFormat {
 public:
  OllamaFormat(GenerationMeta meta, bool chat) : GenerationFormat(std::move(meta)), chat_(chat) {}

  const char* stream_content_type() const override { return "application/x-ndjson"; }

  std::string Piece(std::string_view text) override {
    if (text.empty()) return "";
    nlohmann::json j = Base(text);
    j["done"] = false;
    return DumpJson(j) + "\n";
  }

  std::string StreamEnd(const GenerateResult& r) override { return DumpJson(Final(r, "")) + "\n"; }

  std::string StreamError(const ApiError& error) override { return DumpJson(ErrorJson(error)) + "\n"; }

  nlohmann::json Whole(const GenerateResult& r) override { return Final(r, r.text); }

 private:
  nlohmann::json Base(std::string_view text) const {
    nlohmann::json j = {{"model", meta_.model}, {"created_at", Rfc3339(std::chrono::system_clock::now())}};
    if (chat_) {
      j["message"] = {{"role", "assistant"}, {"content", std::string(text)}};
    } else {
      j["response"] = std::string(text);
    }
    return j;
  }

  nlohmann::json Final(const GenerateResult& r, std::string_view text) const {
    nlohmann::json j = Base(text);
    j["done"] = true;
    j["done_reason"] = FinishReasonName(r.finish);
    const double total_ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - meta_.start).count();
    j["total_duration"] = Ns(total_ms);
    j["load_duration"] = Ns(meta_.load_ms);
    j["prompt_eval_count"] = r.prompt_tokens;
    j["prompt_eval_duration"] = Ns(r.timings.prompt_ms);
    j["eval_count"] = r.completion_tokens;
    j["eval_duration"] = Ns(r.timings.decode_ms);
    if (r.from_response_cache) j["cached"] = true;
    if (!r.logprobs.empty()) j["logprobs"] = OllamaLogprobs(r);  // streamed: all in the final line
    return j;
  }

  bool chat_;
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
