// OpenAI wire formats: chat.completion(.chunk) and text_completion objects.
#include <memory>
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

// n choices of one prompt: the prompt counts once (as OpenAI counts it).
nlohmann::json Usage(const std::vector<GenerateResult>& choices) {
  GenerateResult sum = choices.at(0);
  for (size_t i = 1; i < choices.size(); ++i) sum.completion_tokens += choices[i].completion_tokens;
  return Usage(sum);
}

nlohmann::json ToolCallJson(const chat::ToolCall& call) {
  return {{"id", call.id}, {"type", "function"}, {"function", {{"name", call.name}, {"arguments", call.arguments}}}};
}

// "tool_calls" when the reply is calls (and did not fail or get cancelled).
const char* FinishReasonFor(FinishReason finish, bool has_calls) {
  if (has_calls && (finish == FinishReason::kStop || finish == FinishReason::kLength)) return "tool_calls";
  return OpenAiFinishReason(finish);
}

// Shared shape of both OpenAI families; `chat` picks the object names and
// whether text lives in delta/message or in "text".
class OpenAiFormat final : public GenerationFormat {
 public:
  OpenAiFormat(GenerationMeta meta, bool chat, bool include_usage)
      : GenerationFormat(std::move(meta)), chat_(chat), include_usage_(include_usage) {}

  const char* stream_content_type() const override { return "text/event-stream"; }

  void SetOutput(const chat::AssistantOutputOptions& options) override {
    if (!chat_) return;
    output_ = options;
    parser_ = std::make_unique<chat::AssistantOutputParser>(options);
  }

  std::string Piece(std::string_view text) override {
    if (!parser_) {
      if (text.empty()) return "";
      return chat_ ? SseEvent(Chunk({{"content", std::string(text)}}, nullptr)) : SseEvent(TextChunk(text, nullptr));
    }
    std::vector<chat::OutputEvent> events;
    parser_->Push(text, &events);
    return Events(events);
  }

  std::string StreamEnd(const GenerateResult& r) override {
    std::string out;
    if (parser_) {
      std::vector<chat::OutputEvent> events;
      parser_->Finish(&events);
      out += Events(events);
    }
    nlohmann::json last;
    if (chat_) {
      if (!role_sent_) out += SseEvent(Chunk({{"content", ""}}, nullptr));
      last = Chunk(nlohmann::json::object(), FinishReasonFor(r.finish, tool_calls_ > 0));
    } else {
      last = TextChunk("", OpenAiFinishReason(r.finish));
    }
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

  nlohmann::json Whole(const GenerateResult& r) override { return WholeChoices({r}); }

  nlohmann::json WholeChoices(const std::vector<GenerateResult>& choices) override {
    nlohmann::json j = Header(chat_ ? "chat.completion" : "text_completion");
    j["choices"] = nlohmann::json::array();
    bool cached = true;
    for (size_t i = 0; i < choices.size(); ++i) {
      const GenerateResult& r = choices[i];
      nlohmann::json choice = {{"index", i}, {"logprobs", nullptr}};
      if (chat_) {
        const chat::AssistantReply reply = output_ ? chat::ParseAssistantReply(r.text, *output_)
                                                   : chat::AssistantReply{"", r.text, {}};
        choice["message"] = Message(reply);
        choice["finish_reason"] = FinishReasonFor(r.finish, !reply.calls.empty());
      } else {
        choice["text"] = r.text;
        choice["finish_reason"] = OpenAiFinishReason(r.finish);
      }
      if (!r.logprobs.empty()) choice["logprobs"] = Logprobs(r);
      j["choices"].push_back(std::move(choice));
      cached = cached && r.from_response_cache;
    }
    j["usage"] = Usage(choices);
    if (cached) j["cached"] = true;
    return j;
  }

 private:
  nlohmann::json Logprobs(const GenerateResult& r) const {
    return chat_ ? OpenAiChatLogprobs(r) : OpenAiCompletionLogprobs(r);
  }

  static nlohmann::json Message(const chat::AssistantReply& reply) {
    nlohmann::json m = {{"role", "assistant"}};
    // Only calls: content is null, as OpenAI sends it.
    m["content"] = reply.calls.empty() || !reply.content.empty() ? nlohmann::json(reply.content) : nlohmann::json();
    if (!reply.reasoning.empty()) m["reasoning_content"] = reply.reasoning;
    if (!reply.calls.empty()) {
      m["tool_calls"] = nlohmann::json::array();
      for (const chat::ToolCall& call : reply.calls) m["tool_calls"].push_back(ToolCallJson(call));
    }
    return m;
  }

  // Stream chunks for parsed events. A tool call goes out as OpenAI streams
  // one: first its index, id, type and name with empty arguments, then the
  // arguments.
  std::string Events(std::vector<chat::OutputEvent>& events) {
    std::string out;
    for (chat::OutputEvent& e : events) {
      switch (e.kind) {
        case chat::OutputEvent::Kind::kContent:
          out += SseEvent(Chunk({{"content", std::move(e.text)}}, nullptr));
          break;
        case chat::OutputEvent::Kind::kReasoning:
          out += SseEvent(Chunk({{"reasoning_content", std::move(e.text)}}, nullptr));
          break;
        case chat::OutputEvent::Kind::kToolCall: {
          nlohmann::json head = {{"index", e.index},
                                 {"id", e.call.id},
                                 {"type", "function"},
                                 {"function", {{"name", e.call.name}, {"arguments", ""}}}};
          out += SseEvent(Chunk({{"tool_calls", nlohmann::json::array({std::move(head)})}}, nullptr));
          nlohmann::json args = {{"index", e.index}, {"function", {{"arguments", e.call.arguments}}}};
          out += SseEvent(Chunk({{"tool_calls", nlohmann::json::array({std::move(args)})}}, nullptr));
          ++tool_calls_;
          break;
        }
      }
    }
    return out;
  }

  nlohmann::json Header(const char* object) const {
    return {{"id", meta_.id}, {"object", object}, {"created", meta_.created}, {"model", meta_.model},
            {"system_fingerprint", "jarvis"}};
  }

  nlohmann::json Chunk(nlohmann::json delta, const char* finish) {
    nlohmann::json j = Header("chat.completion.chunk");
    if (!role_sent_) {
      delta["role"] = "assistant";
      role_sent_ = true;
    }
    nlohmann::json choice = {{"index", 0}, {"delta", std::move(delta)}, {"logprobs", nullptr}};
    choice["finish_reason"] = finish != nullptr ? nlohmann::json(finish) : nlohmann::json(nullptr);
    j["choices"] = nlohmann::json::array({std::move(choice)});
    return j;
  }

  nlohmann::json TextChunk(std::string_view text, const char* finish) const {
    nlohmann::json j = Header("text_completion");
    nlohmann::json choice = {{"index", 0}, {"text", std::string(text)}, {"logprobs", nullptr}};
    choice["finish_reason"] = finish != nullptr ? nlohmann::json(finish) : nlohmann::json(nullptr);
    j["choices"] = nlohmann::json::array({std::move(choice)});
    return j;
  }

  bool chat_;
  bool include_usage_;
  bool role_sent_ = false;
  std::optional<chat::AssistantOutputOptions> output_;
  std::unique_ptr<chat::AssistantOutputParser> parser_;
  int tool_calls_ = 0;  // streamed so far
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
