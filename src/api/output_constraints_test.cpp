#include "api/output_constraints.h"

#include <gtest/gtest.h>

#include "api/generation_request.h"

namespace jarvis::api {
namespace {

using nlohmann::json;

TEST(OutputConstraintsTest, OpenAiResponseFormats) {
  auto text = ParseOpenAiChat(json::parse(R"({"messages":[{"role":"user","content":"x"}],
      "response_format":{"type":"text"}})"));
  ASSERT_TRUE(text.ok());
  EXPECT_TRUE(text->request.grammar.empty());
  auto object = ParseOpenAiChat(json::parse(R"({"messages":[{"role":"user","content":"x"}],
      "response_format":{"type":"json_object"}})"));
  ASSERT_TRUE(object.ok());
  EXPECT_NE(object->request.grammar.find("root ::= object"), std::string::npos);
  auto schema = ParseOpenAiChat(json::parse(R"({"messages":[{"role":"user","content":"x"}],
      "response_format":{"type":"json_schema","json_schema":{"name":"p","strict":true,
      "schema":{"type":"object","properties":{"a":{"type":"integer"}},"required":["a"]}}}})"));
  ASSERT_TRUE(schema.ok()) << schema.status().ToString();
  EXPECT_NE(schema->request.grammar.find("\\\"a\\\""), std::string::npos);
  EXPECT_NE(schema->request.grammar, object->request.grammar);
  auto completion = ParseOpenAiCompletion(json::parse(R"({"prompt":"x","response_format":{"type":"json_object"}})"));
  ASSERT_TRUE(completion.ok());
  EXPECT_FALSE(completion->request.grammar.empty());
}

TEST(OutputConstraintsTest, ErrorsNameTheProblem) {
  auto bad_kw = ParseOpenAiChat(json::parse(R"({"messages":[{"role":"user","content":"x"}],
      "response_format":{"type":"json_schema","json_schema":{"name":"p","schema":{"type":"string","pattern":"a+"}}}})"));
  ASSERT_FALSE(bad_kw.ok());
  EXPECT_EQ(bad_kw.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(bad_kw.status().message().find("'pattern'"), std::string::npos) << bad_kw.status().message();
  auto bad_type = ParseOpenAiChat(json::parse(R"({"messages":[{"role":"user","content":"x"}],
      "response_format":{"type":"yaml"}})"));
  ASSERT_FALSE(bad_type.ok());
  EXPECT_NE(bad_type.status().message().find("response_format.type"), std::string::npos);
  auto no_schema = ParseOpenAiChat(json::parse(R"({"messages":[{"role":"user","content":"x"}],
      "response_format":{"type":"json_schema","json_schema":{"name":"p"}}})"));
  EXPECT_FALSE(no_schema.ok());
  auto bad_grammar = ParseOpenAiCompletion(json::parse(R"({"prompt":"x","grammar":"root ::= nothing"})"));
  ASSERT_FALSE(bad_grammar.ok());
  EXPECT_NE(bad_grammar.status().message().find("'grammar'"), std::string::npos);
  EXPECT_NE(bad_grammar.status().message().find("nothing"), std::string::npos);
  auto both = ParseOpenAiCompletion(json::parse(R"({"prompt":"x","grammar":"root ::= \"a\"",
      "response_format":{"type":"json_object"}})"));
  EXPECT_FALSE(both.ok());
  auto bad_format = ParseOllamaChat(json::parse(R"({"messages":[{"role":"user","content":"x"}],"format":"xml"})"));
  EXPECT_FALSE(bad_format.ok());
  auto ollama_kw = ParseOllamaGenerate(json::parse(R"({"prompt":"x","format":{"type":"object","minProperties":1}})"));
  ASSERT_FALSE(ollama_kw.ok());
  EXPECT_NE(ollama_kw.status().message().find("'minProperties'"), std::string::npos);
  auto top_without = ParseOpenAiChat(json::parse(R"({"messages":[{"role":"user","content":"x"}],"top_logprobs":2})"));
  EXPECT_FALSE(top_without.ok());
  auto too_many = ParseOpenAiCompletion(json::parse(R"({"prompt":"x","logprobs":21})"));
  EXPECT_FALSE(too_many.ok());
}

TEST(OutputConstraintsTest, OllamaFormatGrammarAndLogprobs) {
  auto j = ParseOllamaChat(json::parse(R"({"messages":[{"role":"user","content":"x"}],"format":"json",
      "logprobs":true,"top_logprobs":3})"));
  ASSERT_TRUE(j.ok()) << j.status().ToString();
  EXPECT_NE(j->request.grammar.find("root ::= object"), std::string::npos);
  EXPECT_EQ(j->request.logprobs, 3);
  auto g = ParseOllamaGenerate(json::parse(R"({"prompt":"x","grammar":"root ::= \"yes\" | \"no\""})"));
  ASSERT_TRUE(g.ok());
  EXPECT_EQ(g->request.grammar, "root ::= \"yes\" | \"no\"");
  EXPECT_EQ(g->request.logprobs, -1);
  auto chat = ParseOpenAiChat(json::parse(R"({"messages":[{"role":"user","content":"x"}],"logprobs":true})"));
  ASSERT_TRUE(chat.ok());
  EXPECT_EQ(chat->request.logprobs, 0);
  auto completion = ParseOpenAiCompletion(json::parse(R"({"prompt":"x","logprobs":5})"));
  ASSERT_TRUE(completion.ok());
  EXPECT_EQ(completion->request.logprobs, 5);
}

TEST(OutputConstraintsTest, LogprobShapes) {
  GenerateResult r;
  TokenLogprob a;
  a.token = 7;
  a.piece = "hi";
  a.logprob = -0.5f;
  a.top = {{7, "hi", -0.5f}, {9, "\xC3", -1.5f}};  // half a UTF-8 character
  r.logprobs = {a, a};
  json chat = OpenAiChatLogprobs(r);
  ASSERT_EQ(chat["content"].size(), 2u);
  EXPECT_EQ(chat["content"][0]["token"], "hi");
  EXPECT_EQ(chat["content"][0]["bytes"], json::array({104, 105}));
  EXPECT_FLOAT_EQ(chat["content"][0]["logprob"].get<float>(), -0.5f);
  EXPECT_EQ(chat["content"][0]["top_logprobs"][1]["bytes"], json::array({0xC3}));
  EXPECT_EQ(chat["content"][0]["top_logprobs"][1]["token"], "\xEF\xBF\xBD");
  json completion = OpenAiCompletionLogprobs(r);
  EXPECT_EQ(completion["tokens"], json::array({"hi", "hi"}));
  EXPECT_EQ(completion["text_offset"], json::array({0, 2}));
  EXPECT_FLOAT_EQ(completion["top_logprobs"][0]["hi"].get<float>(), -0.5f);
  json ollama = OllamaLogprobs(r);
  ASSERT_TRUE(ollama.is_array());
  EXPECT_EQ(ollama[1]["top_logprobs"].size(), 2u);
}

}  // namespace
}  // namespace jarvis::api
