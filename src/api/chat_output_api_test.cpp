// The output side of chat replies over HTTP, against the fake backend with
// scripted replies: tool calls (OpenAI and Ollama shapes, streamed and
// whole), reasoning, tool_choice, n > 1, /v1/models/{id}, Ollama's error
// shape, and request fields that are refused rather than ignored.
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "api/http_server.h"
#include "api/http_test_client.h"
#include "api/testing_fake_backend.h"

namespace jarvis::api {
namespace {

using nlohmann::json;
using testing::Fetch;
using testing::HttpReply;

constexpr const char* kHermesTemplate = "{{- '<tool_call>\\n' }}{{ '<|im_start|>' }}";
constexpr const char* kThinkingTemplate = "{%- if add_generation_prompt %}<|im_start|>assistant\\n<think>\\n{%- endif %}";
constexpr const char* kPlainTemplate = "{{ '<|im_start|>' }}";

const json kTools = json::parse(R"([
  {"type": "function", "function": {"name": "get_weather",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}},
  {"type": "function", "function": {"name": "turn_on", "parameters": {"type": "object"}}}
])");

class ChatOutputApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // The marker and the JSON arrive split across pieces, as tokens do.
    backend_.Script("hermes", {"Checking", ".\n<tool", "_call>\n{\"name\": \"get_weather\", ", "\"arguments\": {\"city\"",
                               ": \"Paris\"}}\n</tool_call>"},
                    kHermesTemplate);
    backend_.Script("hermes2", {"<tool_call>{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Oslo\"}}</tool_call>",
                                "\n<tool_call>{\"name\": \"turn_on\", \"arguments\": {}}</tool_call>"},
                    kHermesTemplate);
    backend_.Script("r1", {"Let me think", " about it.\n</th", "ink>\n\nIt is ", "4."}, kThinkingTemplate);
    backend_.Script("plain", {"Hello", " <tool_call>{\"name\": \"turn_on\"}</tool_call>"}, kPlainTemplate);
    ServerOptions options;
    options.port = 0;
    auto s = HttpServer::Start(options, backend_);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    server_ = std::move(s).value();
    server_->SetReady(true);
    port_ = server_->port();
  }
  void TearDown() override {
    if (server_) server_->Stop(std::chrono::milliseconds(500));
  }
  HttpReply Post(const std::string& path, const json& body) { return Fetch(port_, "POST", path, body.dump()); }
  static json Body(const HttpReply& r) { return json::parse(r.body, nullptr, false); }
  // The "data:" events of an SSE body, without [DONE].
  static std::vector<json> SseEvents(const std::string& body) {
    std::vector<json> out;
    size_t pos = 0;
    while ((pos = body.find("data: ", pos)) != std::string::npos) {
      const size_t end = body.find("\n\n", pos);
      const std::string data = body.substr(pos + 6, end - pos - 6);
      if (data != "[DONE]") out.push_back(json::parse(data));
      pos = end;
    }
    return out;
  }
  static std::vector<json> NdjsonLines(const std::string& body) {
    std::vector<json> out;
    size_t pos = 0;
    while (pos < body.size()) {
      const size_t end = body.find('\n', pos);
      out.push_back(json::parse(body.substr(pos, end - pos)));
      pos = end + 1;
    }
    return out;
  }
  static void ExpectOllamaError(const HttpReply& r, int status, const std::string& needle) {
    EXPECT_EQ(r.status, status) << r.body;
    json j = Body(r);
    ASSERT_TRUE(j.is_object()) << r.body;
    ASSERT_TRUE(j["error"].is_string()) << "Ollama errors are strings: " << r.body;
    EXPECT_NE(j["error"].get<std::string>().find(needle), std::string::npos) << r.body;
  }
  static void ExpectOpenAiError(const HttpReply& r, int status, const std::string& needle) {
    EXPECT_EQ(r.status, status) << r.body;
    json j = Body(r);
    ASSERT_TRUE(j.is_object() && j["error"].is_object()) << r.body;
    EXPECT_NE(j["error"]["message"].get<std::string>().find(needle), std::string::npos) << r.body;
  }
  json Chat(const std::string& model, json extra = json::object()) {
    json body = {{"model", model}, {"messages", {{{"role", "user"}, {"content", "weather in Paris?"}}}}};
    body.update(extra);
    return body;
  }

  testing::FakeBackend backend_;
  std::unique_ptr<HttpServer> server_;
  uint16_t port_ = 0;
};

TEST_F(ChatOutputApiTest, OpenAiToolCallWhole) {
  HttpReply r = Post("/v1/chat/completions", Chat("hermes", {{"tools", kTools}}));
  ASSERT_EQ(r.status, 200) << r.body;
  json j = Body(r);
  const json& choice = j["choices"][0];
  EXPECT_EQ(choice["finish_reason"], "tool_calls");
  EXPECT_EQ(choice["message"]["content"], "Checking.");
  ASSERT_EQ(choice["message"]["tool_calls"].size(), 1u);
  const json& call = choice["message"]["tool_calls"][0];
  EXPECT_EQ(call["type"], "function");
  EXPECT_TRUE(call["id"].is_string() && !call["id"].get<std::string>().empty());
  EXPECT_EQ(call["function"]["name"], "get_weather");
  ASSERT_TRUE(call["function"]["arguments"].is_string());  // JSON text, as OpenAI sends it
  EXPECT_EQ(json::parse(call["function"]["arguments"].get<std::string>()), json({{"city", "Paris"}}));
  // The tools reached the request for the template.
  EXPECT_EQ(json::parse(backend_.last_request().tools_json), kTools);
}

TEST_F(ChatOutputApiTest, OpenAiOnlyCallsMeansNullContent) {
  HttpReply r = Post("/v1/chat/completions", Chat("hermes2", {{"tools", kTools}}));
  ASSERT_EQ(r.status, 200) << r.body;
  json msg = Body(r)["choices"][0]["message"];
  EXPECT_TRUE(msg["content"].is_null()) << r.body;
  ASSERT_EQ(msg["tool_calls"].size(), 2u);
  EXPECT_NE(msg["tool_calls"][0]["id"], msg["tool_calls"][1]["id"]);
  EXPECT_EQ(msg["tool_calls"][1]["function"]["name"], "turn_on");
  // parallel_tool_calls: false keeps one call.
  r = Post("/v1/chat/completions", Chat("hermes2", {{"tools", kTools}, {"parallel_tool_calls", false}}));
  EXPECT_EQ(Body(r)["choices"][0]["message"]["tool_calls"].size(), 1u) << r.body;
}

TEST_F(ChatOutputApiTest, OpenAiToolCallStreamsAsDeltas) {
  HttpReply r = Post("/v1/chat/completions", Chat("hermes", {{"tools", kTools}, {"stream", true}}));
  ASSERT_EQ(r.status, 200) << r.body;
  std::string content;
  std::vector<json> call_deltas;
  std::string finish;
  for (const json& e : SseEvents(r.body)) {
    const json& choice = e["choices"][0];
    const json& delta = choice["delta"];
    if (delta.contains("content")) content += delta["content"].get<std::string>();
    if (delta.contains("tool_calls")) call_deltas.push_back(delta["tool_calls"][0]);
    if (!choice["finish_reason"].is_null()) finish = choice["finish_reason"];
  }
  EXPECT_EQ(content, "Checking.");  // nothing of the marker leaked
  ASSERT_EQ(call_deltas.size(), 2u) << r.body;
  EXPECT_EQ(call_deltas[0]["index"], 0);
  EXPECT_EQ(call_deltas[0]["type"], "function");
  EXPECT_EQ(call_deltas[0]["function"]["name"], "get_weather");
  EXPECT_EQ(call_deltas[0]["function"]["arguments"], "");
  EXPECT_TRUE(call_deltas[0]["id"].is_string());
  EXPECT_EQ(call_deltas[1]["index"], 0);
  EXPECT_FALSE(call_deltas[1].contains("id"));
  EXPECT_EQ(json::parse(call_deltas[1]["function"]["arguments"].get<std::string>()), json({{"city", "Paris"}}));
  EXPECT_EQ(finish, "tool_calls");
}

TEST_F(ChatOutputApiTest, OllamaToolCallsWholeAndStreamed) {
  json body = Chat("hermes", {{"tools", kTools}, {"stream", false}});
  HttpReply r = Post("/api/chat", body);
  ASSERT_EQ(r.status, 200) << r.body;
  json msg = Body(r)["message"];
  EXPECT_EQ(msg["content"], "Checking.");
  ASSERT_EQ(msg["tool_calls"].size(), 1u);
  EXPECT_EQ(msg["tool_calls"][0]["function"]["name"], "get_weather");
  EXPECT_EQ(msg["tool_calls"][0]["function"]["arguments"], json({{"city", "Paris"}}));  // an object

  body["stream"] = true;
  r = Post("/api/chat", body);
  ASSERT_EQ(r.status, 200) << r.body;
  std::string content;
  json calls = json::array();
  bool done = false;
  for (const json& line : NdjsonLines(r.body)) {
    content += line["message"]["content"].get<std::string>();
    if (line["message"].contains("tool_calls")) {
      for (const json& c : line["message"]["tool_calls"]) calls.push_back(c);
    }
    done = line["done"].get<bool>();
  }
  EXPECT_TRUE(done);
  EXPECT_EQ(content, "Checking.");
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls[0]["function"]["arguments"], json({{"city", "Paris"}}));
}

TEST_F(ChatOutputApiTest, ToolChoiceNoneAndUndeclaredNames) {
  // none: the tools stay out of the prompt and the reply is text.
  HttpReply r = Post("/v1/chat/completions", Chat("hermes", {{"tools", kTools}, {"tool_choice", "none"}}));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_TRUE(backend_.last_request().tools_json.empty());
  json msg = Body(r)["choices"][0]["message"];
  EXPECT_FALSE(msg.contains("tool_calls"));
  EXPECT_NE(msg["content"].get<std::string>().find("<tool_call>"), std::string::npos);
  // A named function that is not declared: 400 naming it.
  r = Post("/v1/chat/completions",
           Chat("hermes", {{"tools", kTools}, {"tool_choice", {{"type", "function"}, {"function", {{"name", "nuke"}}}}}}));
  ExpectOpenAiError(r, 400, "nuke");
  r = Post("/v1/chat/completions", Chat("hermes", {{"tool_choice", "required"}}));
  ExpectOpenAiError(r, 400, "required");
  // A call of a function that was not declared stays text.
  json only_weather = json::array({kTools[0]});
  r = Post("/v1/chat/completions", Chat("plain", {{"tools", only_weather}}));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_FALSE(Body(r)["choices"][0]["message"].contains("tool_calls"));
}

// required / a named function is never answered unconstrained: either the
// request carries the call's grammar, or it is refused.
TEST_F(ChatOutputApiTest, RequiredToolChoiceIsConstrainedOrRefused) {
  for (const json& choice : {json("required"), json{{"type", "function"}, {"function", {{"name", "turn_on"}}}}}) {
    const int64_t before = backend_.submits();
    HttpReply r = Post("/v1/chat/completions", Chat("hermes", {{"tools", kTools}, {"tool_choice", choice}}));
    if (r.status == 200) {
      EXPECT_FALSE(backend_.last_request().grammar.empty());
    } else {
      ExpectOpenAiError(r, 400, "grammar");
      EXPECT_EQ(backend_.submits(), before);
    }
  }
}

TEST_F(ChatOutputApiTest, ReasoningSplitOpenAiAndOllama) {
  // The template opens <think> in the prompt: the reply starts inside it.
  HttpReply r = Post("/v1/chat/completions", Chat("r1"));
  ASSERT_EQ(r.status, 200) << r.body;
  json msg = Body(r)["choices"][0]["message"];
  EXPECT_EQ(msg["reasoning_content"], "Let me think about it.");
  EXPECT_EQ(msg["content"], "It is 4.");
  // Streamed: reasoning_content deltas, then content deltas.
  r = Post("/v1/chat/completions", Chat("r1", {{"stream", true}}));
  std::string reasoning, content;
  for (const json& e : SseEvents(r.body)) {
    const json& d = e["choices"][0]["delta"];
    if (d.contains("reasoning_content")) reasoning += d["reasoning_content"].get<std::string>();
    if (d.contains("content")) content += d["content"].get<std::string>();
  }
  EXPECT_EQ(reasoning, "Let me think about it.");
  EXPECT_EQ(content, "It is 4.");
  // reasoning_format: none leaves it inline.
  r = Post("/v1/chat/completions", Chat("r1", {{"reasoning_format", "none"}}));
  msg = Body(r)["choices"][0]["message"];
  EXPECT_FALSE(msg.contains("reasoning_content"));
  EXPECT_EQ(msg["content"], "Let me think about it.\n</think>\n\nIt is 4.");
  ExpectOpenAiError(Post("/v1/chat/completions", Chat("r1", {{"reasoning_format", "loud"}})), 400,
                    "reasoning_format");
  // Ollama: think true -> thinking; absent -> inline.
  r = Post("/api/chat", Chat("r1", {{"think", true}, {"stream", false}}));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Body(r)["message"]["thinking"], "Let me think about it.");
  EXPECT_EQ(Body(r)["message"]["content"], "It is 4.");
  r = Post("/api/chat", Chat("r1", {{"stream", false}}));
  EXPECT_FALSE(Body(r)["message"].contains("thinking"));
  // think false asks the template not to think.
  r = Post("/api/chat", Chat("r1", {{"think", false}, {"stream", false}}));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(json::parse(backend_.last_request().chat_template_kwargs_json), json({{"enable_thinking", false}}));
  // A model that does not think.
  ExpectOllamaError(Post("/api/chat", Chat("plain", {{"think", true}, {"stream", false}})), 400,
                    "does not support thinking");
}

TEST_F(ChatOutputApiTest, SeveralChoicesShareOnePrompt) {
  HttpReply r = Post("/v1/chat/completions", Chat("fake", {{"n", 3}, {"max_tokens", 2}, {"seed", 7}}));
  ASSERT_EQ(r.status, 200) << r.body;
  json j = Body(r);
  ASSERT_EQ(j["choices"].size(), 3u);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(j["choices"][i]["index"], i);
    EXPECT_EQ(j["choices"][i]["message"]["content"], "w0 w1 ");
  }
  EXPECT_EQ(j["usage"]["completion_tokens"], 6);
  EXPECT_EQ(j["usage"]["prompt_tokens"], 4);  // counted once
  EXPECT_EQ(backend_.submits(), 3);
  EXPECT_EQ(backend_.last_request().sampling.seed, 9u);  // seed + index
  ExpectOpenAiError(Post("/v1/chat/completions", Chat("fake", {{"n", 2}, {"stream", true}})), 400, "n");
  ExpectOpenAiError(Post("/v1/chat/completions", Chat("fake", {{"n", 17}})), 400, "n");
}

TEST_F(ChatOutputApiTest, ModelById) {
  HttpReply r = Fetch(port_, "GET", "/v1/models/fake");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Body(r)["id"], "fake");
  EXPECT_EQ(Body(r)["object"], "model");
  r = Fetch(port_, "GET", "/v1/models/fake%3Alatest");
  EXPECT_EQ(r.status, 200) << r.body;
  r = Fetch(port_, "GET", "/v1/models/nope");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(Body(r)["error"]["code"], "model_not_found");
  EXPECT_EQ(Fetch(port_, "POST", "/v1/models/fake").status, 405);
}

TEST_F(ChatOutputApiTest, OllamaErrorsAreStrings) {
  ExpectOllamaError(Post("/api/chat", Chat("missing", {{"stream", false}})), 404, "missing");
  ExpectOllamaError(Post("/api/chat", Chat("missing")), 404, "missing");  // streaming request, error before the stream
  ExpectOllamaError(Fetch(port_, "POST", "/api/chat", "{not json"), 400, "");
  ExpectOllamaError(Post("/api/show", {{"model", "missing"}}), 404, "missing");
  ExpectOllamaError(Post("/api/generate", {{"model", "busy"}, {"prompt", "x"}, {"stream", false}}), 429, "");
  json with_image = Chat("fake");
  with_image["messages"][0]["images"] = {"aGVsbG8="};
  ExpectOllamaError(Post("/api/chat", with_image), 400, "images");
  ExpectOllamaError(Post("/api/generate", {{"model", "fake"}, {"prompt", "x"}, {"images", {"aGVsbG8="}}}), 400,
                    "images");
}

TEST_F(ChatOutputApiTest, OutputChangingFieldsAreRefusedNotIgnored) {
  for (const char* field : {"functions", "reasoning_effort", "audio"}) {
    ExpectOpenAiError(Post("/v1/chat/completions", Chat("fake", {{field, json::array({1})}})), 400, field);
  }
  ExpectOpenAiError(Post("/v1/chat/completions", Chat("fake", {{"modalities", {"text", "audio"}}})), 400,
                    "modalities");
  EXPECT_EQ(Post("/v1/chat/completions", Chat("fake", {{"modalities", {"text"}}, {"max_tokens", 1}})).status, 200);
  ExpectOpenAiError(Post("/v1/completions", {{"model", "fake"}, {"prompt", "x"}, {"suffix", "y"}}), 400, "suffix");
  ExpectOllamaError(Post("/api/generate", {{"model", "fake"}, {"prompt", "x"}, {"template", "{{ .Prompt }}"}}), 400,
                    "template");
  ExpectOllamaError(Post("/api/chat", Chat("fake", {{"options", {{"mirostat", 2}}}})), 400, "mirostat");
  ExpectOllamaError(Post("/api/chat", Chat("fake", {{"options", {{"typical_p", 0.5}}}})), 400, "typical_p");
  // Fields that cannot change the output are accepted.
  EXPECT_EQ(Post("/api/chat", Chat("fake", {{"options", {{"num_thread", 2}, {"num_predict", 1}}}, {"stream", false}}))
                .status,
            200);
}

TEST_F(ChatOutputApiTest, OllamaCacheHitReportsRealTimings) {
  HttpReply r = Post("/api/generate", {{"model", "cached"}, {"prompt", "x"}, {"stream", false}});
  ASSERT_EQ(r.status, 200) << r.body;
  json j = Body(r);
  EXPECT_EQ(j["cached"], true);
  EXPECT_GT(j["total_duration"].get<int64_t>(), 0);
  EXPECT_GT(j["prompt_eval_duration"].get<int64_t>(), 0);
  EXPECT_GT(j["eval_duration"].get<int64_t>(), 0);
  EXPECT_LE(j["eval_duration"].get<int64_t>(), j["total_duration"].get<int64_t>());
}

}  // namespace
}  // namespace jarvis::api
