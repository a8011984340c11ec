// Pure pieces of the HTTP layer: request parsing and validation, value
// parsers, auth compare, routing, wire formats.
#include <gtest/gtest.h>

#include <cmath>

#include "api/api.h"
#include "api/generation_format.h"
#include "api/generation_request.h"
#include "api/json_fields.h"
#include "api/router.h"
#include "util/value_parse.h"

namespace jarvis::api {
namespace {

using nlohmann::json;

TEST(OpenAiParse, ChatMapsEveryParameter) {
  json body = json::parse(R"({
    "model": "stories260K", "messages": [{"role":"system","content":"be brief"},
                                         {"role":"user","content":[{"type":"text","text":"hi "},{"type":"text","text":"there"}]}],
    "max_tokens": 7, "temperature": 0.5, "top_p": 0.9, "top_k": 12, "min_p": 0.1, "seed": 42,
    "stop": ["\n", "END"], "presence_penalty": 0.25, "frequency_penalty": -0.5,
    "logit_bias": {"13": -100, "7": 2.5}, "n": 1, "user": "u1", "stream": true,
    "stream_options": {"include_usage": true}, "some_future_field": {"x": 1}})");
  auto p = ParseOpenAiChat(body);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  const GenerateRequest& r = p->request;
  EXPECT_EQ(r.model, "stories260K");
  ASSERT_EQ(r.messages.size(), 2u);
  EXPECT_EQ(r.messages[1].role, "user");
  EXPECT_EQ(r.messages[1].content, "hi there");
  EXPECT_EQ(r.max_tokens, 7);
  EXPECT_FLOAT_EQ(r.sampling.temperature, 0.5f);
  EXPECT_FLOAT_EQ(r.sampling.top_p, 0.9f);
  EXPECT_EQ(r.sampling.top_k, 12);
  EXPECT_FLOAT_EQ(r.sampling.min_p, 0.1f);
  EXPECT_TRUE(r.sampling.has_seed);
  EXPECT_EQ(r.sampling.seed, 42u);
  EXPECT_EQ(r.stop, (std::vector<std::string>{"\n", "END"}));
  EXPECT_FLOAT_EQ(r.sampling.presence_penalty, 0.25f);
  EXPECT_FLOAT_EQ(r.sampling.frequency_penalty, -0.5f);
  ASSERT_EQ(r.sampling.logit_bias.size(), 2u);
  for (const auto& [id, v] : r.sampling.logit_bias) {
    if (id == 13) {
      EXPECT_TRUE(std::isinf(v) && v < 0);
    }
    if (id == 7) {
      EXPECT_FLOAT_EQ(v, 2.5f);
    }
  }
  EXPECT_TRUE(p->stream);
  EXPECT_TRUE(p->include_usage);
  EXPECT_TRUE(p->chat);
}

TEST(OpenAiParse, DefaultsAndAlternatives) {
  auto chat = ParseOpenAiChat(json::parse(R"({"messages":[{"role":"user","content":"x"}],"max_completion_tokens":9})"));
  ASSERT_TRUE(chat.ok());
  EXPECT_EQ(chat->request.max_tokens, 9);
  EXPECT_FALSE(chat->stream);
  EXPECT_TRUE(chat->request.model.empty());
  auto c = ParseOpenAiCompletion(json::parse(R"({"prompt":"Once","stop":"\n"})"));
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->request.max_tokens, 16);  // OpenAI's default for completions
  EXPECT_EQ(c->request.prompt, "Once");
  EXPECT_EQ(c->request.stop, std::vector<std::string>{"\n"});
  auto one = ParseOpenAiCompletion(json::parse(R"({"prompt":["Once"]})"));
  ASSERT_TRUE(one.ok());
  EXPECT_EQ(one->request.prompt, "Once");
  auto ids = ParseOpenAiCompletion(json::parse(R"({"prompt":[1, 403, 407]})"));
  ASSERT_TRUE(ids.ok());
  EXPECT_EQ(ids->request.prompt_tokens, (std::vector<int32_t>{1, 403, 407}));
}

TEST(OpenAiParse, RejectsWrongTypesAndValues) {
  const char* bad[] = {
      R"({"messages":[{"role":"user","content":"x"}],"temperature":"hot"})",
      R"({"messages":[{"role":"user","content":"x"}],"max_tokens":"12"})",
      R"({"messages":[{"role":"user","content":"x"}],"max_tokens":1.5})",
      R"({"messages":[{"role":"user","content":"x"}],"n":17})",
      R"({"messages":[{"role":"user","content":"x"}],"n":2,"stream":true})",
      R"({"messages":[{"role":"user","content":"x"}],"stream":"yes"})",
      R"({"messages":[{"role":"user","content":"x"}],"stop":[1]})",
      R"({"messages":[{"role":"user","content":"x"}],"logit_bias":{"abc":1}})",
      R"({"messages":[{"role":"user","content":"x"}],"logit_bias":{"5":"x"}})",
      R"({"messages":[{"role":"user","content":"x"}],"top_p":1.5})",
      R"({"messages":[{"role":"user","content":"x"}],"temperature":-1})",
      R"({"messages":[{"role":"user","content":"x"}],"stream_options":{"include_usage":1}})",
      R"({"messages":[{"role":"user","content":"x"}],"model":5})",
      R"({"messages":"hello"})",
      R"({"messages":[]})",
      R"({"messages":[{"content":"no role"}]})",
      R"({"messages":[{"role":"user","content":[{"type":"image_url","image_url":{}}]}]})",
      R"({})",
  };
  for (const char* text : bad) {
    auto p = ParseOpenAiChat(json::parse(text));
    EXPECT_FALSE(p.ok()) << text;
    if (!p.ok()) {
      EXPECT_EQ(p.status().code(), StatusCode::kInvalidArgument) << text;
    }
  }
  EXPECT_FALSE(ParseOpenAiCompletion(json::parse(R"({"prompt":5})")).ok());
  EXPECT_FALSE(ParseOpenAiCompletion(json::parse(R"({"prompt":["a","b"]})")).ok());
  EXPECT_FALSE(ParseOpenAiCompletion(json::parse(R"({"prompt":""})")).ok());
  EXPECT_FALSE(ParseOpenAiCompletion(json::parse(R"({"prompt":"x","echo":true})")).ok());
}

TEST(OpenAiParse, ErrorNamesTheField) {
  auto p = ParseOpenAiChat(json::parse(R"({"messages":[{"role":"user","content":"x"}],"top_k":"many"})"));
  ASSERT_FALSE(p.ok());
  EXPECT_NE(p.status().message().find("top_k"), std::string::npos);
}

TEST(OllamaParse, GenerateWithOptions) {
  auto p = ParseOllamaGenerate(json::parse(R"({"model":"stories260K:latest","prompt":"Once","keep_alive":"10m",
      "options":{"temperature":0,"top_k":5,"top_p":0.5,"min_p":0.2,"seed":3,"num_predict":20,"stop":["."],
                 "repeat_penalty":1.3,"repeat_last_n":-1,"presence_penalty":0.1,"frequency_penalty":0.2,
                 "num_ctx":2048,"mirostat":0}})"));
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  const GenerateRequest& r = p->request;
  EXPECT_EQ(r.model, "stories260K");
  EXPECT_EQ(r.prompt, "Once");
  EXPECT_TRUE(p->stream);  // Ollama streams by default
  ASSERT_TRUE(p->keep_alive.has_value());
  EXPECT_EQ(p->keep_alive->count(), 600);
  EXPECT_FLOAT_EQ(r.sampling.temperature, 0.0f);
  EXPECT_EQ(r.sampling.top_k, 5);
  EXPECT_FLOAT_EQ(r.sampling.top_p, 0.5f);
  EXPECT_FLOAT_EQ(r.sampling.min_p, 0.2f);
  EXPECT_EQ(r.sampling.seed, 3u);
  EXPECT_EQ(r.max_tokens, 20);
  EXPECT_EQ(r.stop, std::vector<std::string>{"."});
  EXPECT_FLOAT_EQ(r.sampling.repeat_penalty, 1.3f);
  EXPECT_EQ(r.sampling.penalty_last_n, SamplingParams::kMaxPenaltyLastN);
  EXPECT_FLOAT_EQ(r.sampling.presence_penalty, 0.1f);
  EXPECT_FLOAT_EQ(r.sampling.frequency_penalty, 0.2f);
}

TEST(OllamaParse, ChatLoadOnlyAndErrors) {
  auto chat = ParseOllamaChat(json::parse(R"({"model":"m","messages":[{"role":"user","content":"hi"}],"stream":false})"));
  ASSERT_TRUE(chat.ok());
  EXPECT_FALSE(chat->stream);
  EXPECT_EQ(chat->request.max_tokens, -1);
  EXPECT_FALSE(chat->load_only);
  auto load = ParseOllamaChat(json::parse(R"({"model":"m","keep_alive":0})"));
  ASSERT_TRUE(load.ok());
  EXPECT_TRUE(load->load_only);
  EXPECT_EQ(load->keep_alive->count(), 0);
  auto gen_load = ParseOllamaGenerate(json::parse(R"({"model":"m"})"));
  ASSERT_TRUE(gen_load.ok());
  EXPECT_TRUE(gen_load->load_only);
  EXPECT_FALSE(ParseOllamaGenerate(json::parse(R"({"prompt":"x","options":{"temperature":"hot"}})")).ok());
  EXPECT_FALSE(ParseOllamaGenerate(json::parse(R"({"prompt":"x","options":[]})")).ok());
  EXPECT_FALSE(ParseOllamaGenerate(json::parse(R"({"prompt":"x","keep_alive":"soon"})")).ok());
  EXPECT_FALSE(ParseOllamaGenerate(json::parse(R"({"prompt":7})")).ok());
  EXPECT_FALSE(ParseOllamaChat(json::parse(R"({"messages":[{"role":"user","content":5}]})")).ok());
}

TEST(ValueParse, Durations) {
  EXPECT_EQ(ParseDuration("300")->count(), 300);
  EXPECT_EQ(ParseDuration("5m")->count(), 300);
  EXPECT_EQ(ParseDuration("1h30m")->count(), 5400);
  EXPECT_EQ(ParseDuration("1.5h")->count(), 5400);
  EXPECT_EQ(ParseDuration("10s")->count(), 10);
  EXPECT_EQ(ParseDuration("500ms")->count(), 1);
  EXPECT_EQ(ParseDuration("0")->count(), 0);
  EXPECT_EQ(ParseDuration("-1")->count(), -1);
  EXPECT_EQ(ParseDuration("-5m")->count(), -1);
  EXPECT_FALSE(ParseDuration("").ok());
  EXPECT_FALSE(ParseDuration("5x").ok());
  EXPECT_FALSE(ParseDuration("m").ok());
  EXPECT_FALSE(ParseDuration("5 5").ok());
}

TEST(ValueParse, ByteSizes) {
  EXPECT_EQ(*ParseByteSize("8MiB"), 8u << 20);
  EXPECT_EQ(*ParseByteSize("8m"), 8u << 20);
  EXPECT_EQ(*ParseByteSize("512K"), 512u << 10);
  EXPECT_EQ(*ParseByteSize("1GiB"), 1ull << 30);
  EXPECT_EQ(*ParseByteSize("1048576"), 1u << 20);
  EXPECT_FALSE(ParseByteSize("lots").ok());
  EXPECT_FALSE(ParseByteSize("5TB").ok());
}

TEST(Auth, BearerCompare) {
  EXPECT_TRUE(BearerMatches("Bearer secret", "secret"));
  EXPECT_TRUE(BearerMatches("bearer secret", "secret"));
  EXPECT_FALSE(BearerMatches("Bearer secreT", "secret"));
  EXPECT_FALSE(BearerMatches("Bearer secret2", "secret"));
  EXPECT_FALSE(BearerMatches("Bearer secre", "secret"));
  EXPECT_FALSE(BearerMatches("Basic secret", "secret"));
  EXPECT_FALSE(BearerMatches("", "secret"));
}

TEST(Router, NotFoundAndMethodNotAllowed) {
  Router router;
  int called = 0;
  router.Add("GET", "/a", [&](const ApiRequest&, std::shared_ptr<ResponseSink>) { ++called; });
  HttpResponse error;
  EXPECT_NE(router.Find("GET", "/a", &error), nullptr);
  EXPECT_EQ(router.Find("GET", "/b", &error), nullptr);
  EXPECT_EQ(error.status, 404);
  EXPECT_EQ(json::parse(error.body)["error"]["code"], "unknown_route");
  EXPECT_EQ(router.Find("POST", "/a", &error), nullptr);
  EXPECT_EQ(error.status, 405);
  ASSERT_FALSE(error.headers.empty());
  EXPECT_EQ(error.headers[0].first, "Allow");
  EXPECT_EQ(error.headers[0].second, "GET, OPTIONS");
}

TEST(Errors, StatusMapping) {
  EXPECT_EQ(ErrorFromStatus(Status::InvalidArgument("x")).status, 400);
  EXPECT_EQ(ErrorFromStatus(Status::NotFound("x")).status, 404);
  EXPECT_EQ(ErrorFromStatus(Status::ResourceExhausted("x")).status, 429);
  EXPECT_EQ(ErrorFromStatus(Status::Cancelled("x")).status, 503);
  EXPECT_EQ(ErrorFromStatus(Status::Internal("x")).status, 500);
  HttpResponse r = ErrorResponse(Status::ResourceExhausted("queue full"));
  json j = json::parse(r.body);
  EXPECT_EQ(j["error"]["message"], "queue full");
  EXPECT_TRUE(j["error"].contains("type"));
  EXPECT_TRUE(j["error"].contains("code"));
  bool retry_after = false;
  for (const auto& [k, v] : r.headers) retry_after |= k == "Retry-After";
  EXPECT_TRUE(retry_after);
}

GenerateResult SampleResult() {
  GenerateResult r;
  r.text = "hello world";
  r.finish = FinishReason::kLength;
  r.prompt_tokens = 5;
  r.cached_prompt_tokens = 2;
  r.completion_tokens = 3;
  r.timings.prompt_ms = 1.5;
  r.timings.decode_ms = 2.0;
  return r;
}

TEST(Formats, OpenAiChatStream) {
  GenerationMeta meta;
  meta.model = "m";
  meta.id = "chatcmpl-1";
  meta.created = 100;
  auto f = MakeOpenAiChatFormat(meta, /*include_usage=*/true);
  const std::string first = f->Piece("hel");
  ASSERT_EQ(first.rfind("data: ", 0), 0u);
  ASSERT_EQ(first.substr(first.size() - 2), "\n\n");
  json c = json::parse(first.substr(6));
  EXPECT_EQ(c["object"], "chat.completion.chunk");
  EXPECT_EQ(c["choices"][0]["delta"]["role"], "assistant");
  EXPECT_EQ(c["choices"][0]["delta"]["content"], "hel");
  EXPECT_TRUE(c["choices"][0]["finish_reason"].is_null());
  json second = json::parse(f->Piece("lo").substr(6));
  EXPECT_FALSE(second["choices"][0]["delta"].contains("role"));
  EXPECT_EQ(f->Piece(""), "");
  const std::string end = f->StreamEnd(SampleResult());
  EXPECT_EQ(end.substr(end.size() - 14), "data: [DONE]\n\n");
  const size_t usage_pos = end.find("\"usage\"");
  ASSERT_NE(usage_pos, std::string::npos);
  EXPECT_NE(end.find("\"finish_reason\":\"length\""), std::string::npos);
  json whole = f->Whole(SampleResult());
  EXPECT_EQ(whole["object"], "chat.completion");
  EXPECT_EQ(whole["choices"][0]["message"]["content"], "hello world");
  EXPECT_EQ(whole["usage"]["total_tokens"], 8);
  EXPECT_EQ(whole["usage"]["prompt_tokens_details"]["cached_tokens"], 2);
  EXPECT_FALSE(whole.contains("cached"));
}

TEST(Formats, OllamaFinalHasTimings) {
  GenerationMeta meta;
  meta.model = "m";
  meta.load_ms = 4.0;
  auto f = MakeOllamaGenerateFormat(meta);
  json piece = json::parse(f->Piece("hi"));
  EXPECT_EQ(piece["response"], "hi");
  EXPECT_EQ(piece["done"], false);
  EXPECT_EQ(piece["created_at"].get<std::string>().size(), 30u);
  const std::string end = f->StreamEnd(SampleResult());
  ASSERT_EQ(end.back(), '\n');
  json last = json::parse(end);
  EXPECT_EQ(last["done"], true);
  EXPECT_EQ(last["done_reason"], "length");
  EXPECT_EQ(last["prompt_eval_count"], 5);
  EXPECT_EQ(last["eval_count"], 3);
  EXPECT_EQ(last["prompt_eval_duration"], 1500000);
  EXPECT_EQ(last["eval_duration"], 2000000);
  EXPECT_EQ(last["load_duration"], 4000000);
  EXPECT_GE(last["total_duration"].get<int64_t>(), 0);
  auto chat = MakeOllamaChatFormat(meta);
  EXPECT_EQ(json::parse(chat->Piece("x"))["message"]["content"], "x");
  EXPECT_EQ(chat->Whole(SampleResult())["message"]["content"], "hello world");
}

TEST(JsonBody, RejectsNonObjects) {
  EXPECT_FALSE(ParseJsonObject("{").ok());
  EXPECT_FALSE(ParseJsonObject("[1]").ok());
  EXPECT_FALSE(ParseJsonObject("").ok());
  EXPECT_TRUE(ParseJsonObject("{}").ok());
}

}  // namespace
}  // namespace jarvis::api
