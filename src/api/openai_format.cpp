// OpenAI wire formats: chat.completion(.chunk) and text_completion objects.
#include <utility>

#include "api/generation_format.h"
#include "api/output_constraints.h"

namespace jarvis::api {
namespace {

std::string SseEvent(const nlohmann::json& j) { return "data: " + DumpJson(j) + "\n\n"; }
constexpr const char* kSseDone = "data: [DONE]\n\n";

nlohmann::json Usage(const GenerateResult& r) {
  return {{"prompt_tokens", r.prompt_tokens},
          {"completion_tokens", r.completion_tokens},
          {"total_tokens", r.prompt_tokens + r.completion_tokens},
          {"prompt_tokens_details", {{"cached_tokens", r.cached_prompt_tokens}}}};
}

// Shared shape of both OpenAI families; `chat` picks the object names and
// whether text lives in delta/message or in "text".
class OpenAiFormat final : public GenerationFormat {
 public:
  OpenAiFormat(GenerationMeta meta, bool chat, bool include_usage)
      : GenerationFormat(std::move(meta)), chat_(chat), include_usage_(include_usage) {}

  const char* stream_content_type() const override { return "text/event-stream"; }

  std::string Piece(std::string_view text) override {
    if (text.empty()) return "";
    return SseEvent(Chunk(text, nullptr));
  }

  std::string StreamEnd(const GenerateResult& r) override {
    std::string out;
    if (chat_ && !role_sent_) out += SseEvent(Chunk("", nullptr));
    nlohmann::json last = Chunk("", OpenAiFinishReason(r.finish));
    if (chat_) last["choices"][0]["delta"] = nlohmann::json::object();
    // Log-probabilities ride on the final chunk, all at once (clients
    // concatenate the chunks' lists, so the result is the same).
    if (!r.logprobs.empty()) last["choices"][0]["logprobs"] = Logprobs(r);
    if (r.from_response_cache) last["cached"] = true;
    out += SseEvent(last);
    if (include_usage_) {
      nlohmann::json u = Header(chat_ ? "chat.completion.chunk" : "text_completion");
      u["choices"] = nlohmann::json::array();
      u["usage"] = Usage(r);
      out += SseEvent(u);
    }
    return out + kSseDone;
  }

  std::string StreamError(const ApiError& error) override { return SseEvent(ErrorJson(error)) + kSseDone; }

  nlohmann::json Whole(const GenerateResult& r) override {
    nlohmann::json j = Header(chat_ ? "chat.completion" : "text_completion");
    nlohmann::json choice = {{"index", 0}, {"logprobs", nullptr}, {"finish_reason", OpenAiFinishReason(r.finish)}};
    if (!r.logprobs.empty()) choice["logprobs"] = Logprobs(r);
    if (chat_) {
      choice["message"] = {{"role", "assistant"}, {"content", r.text}};
    } else {
      choice["text"] = r.text;
    }
    j["choices"] = nlohmann::json::array({choice});
    j["usage"] = Usage(r);
    if (r.from_response_cache) j["cached"] = true;
    return j;
  }

 private:
  nlohmann::json Logprobs(const GenerateResult& r) const {
    return chat_ ? OpenAiChatLogprobs(r) : OpenAiCompletionLogprobs(r);
  }

  nlohmann::json Header(const char* object) const {
    return {{"id", meta_.id}, {"object", object}, {"created", meta_.created}, {"model", meta_.model},
            {"system_fingerprint", "jarvis"}};
  }

  nlohmann::json Chunk(std::string_view text, const char* finish) {
    nlohmann::json j = Header(chat_ ? "chat.completion.chunk" : "text_completion");
    nlohmann::json choice = {{"index", 0}, {"logprobs", nullptr}};
    choice["finish_reason"] = finish != nullptr ? nlohmann::json(finish) : nlohmann::json(nullptr);
    if (chat_) {
      nlohmann::json delta = {{"content", std::string(text)}};
      if (!role_sent_) {
        delta["role"] = "assistant";
        role_sent_ = true;
      }
      choice["delta"] = std::move(delta);
    } else {
      choice["text"] = std::string(text);
    }
    j["choices"] = nlohmann::json::array({std::move(choice)});
    return j;
  }

  bool chat_;
  bool include_usage_;
  bool role_sent_ = false;
};

}  // namespace

const char* OpenAiFinishReason(FinishReason reason) {
  switch (reason) {
    case FinishReason::kStop: return "stop";
    case FinishReason::kLength: return "length";
    case FinishReason::kCancelled: return "cancelled";
    case FinishReason::kError: return "error";
  }
  return "stop";
}

std::unique_ptr<GenerationFormat> MakeOpenAiChatFormat(GenerationMeta meta, bool include_usage) {
  return std::make_unique<OpenAiFormat>(std::move(meta), /*chat=*/true, include_usage);
}

std::unique_ptr<GenerationFormat> MakeOpenAiCompletionFormat(GenerationMeta meta, bool include_usage) {
  return std::make_unique<OpenAiFormat>(std::move(meta), /*chat=*/false, include_usage);
}

}  // namespace jarvis::api
