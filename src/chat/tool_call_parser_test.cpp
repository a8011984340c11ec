#include "chat/tool_call_parser.h"

#include <gtest/gtest.h>

#include "chat/tool_call_format.h"
#include "chat/tool_call_stream.h"

namespace jarvis::chat {
namespace {

AssistantReply Parse(ToolCallFormat format, std::string_view text, std::set<std::string> names = {}) {
  ToolCallOptions o;
  o.format = format;
  o.tool_names = std::move(names);
  return ParseToolCalls(text, o);
}

TEST(ToolCallParser, HermesOneCall) {
  auto r = Parse(ToolCallFormat::kHermes,
                 "<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\"}}\n</tool_call>");
  ASSERT_EQ(r.calls.size(), 1u);
  EXPECT_EQ(r.calls[0].name, "get_weather");
  EXPECT_EQ(r.calls[0].arguments, R"({"city":"Paris"})");
  EXPECT_EQ(r.calls[0].id, "call_0");
  EXPECT_EQ(r.content, "");
}

TEST(ToolCallParser, HermesSeveralCallsWithTextAround) {
  auto r = Parse(ToolCallFormat::kHermes,
                 "Let me check.\n<tool_call>\n{\"name\": \"a\", \"arguments\": {}}\n</tool_call>\n"
                 "<tool_call>\n{\"name\": \"b\", \"arguments\": \"{\\\"x\\\": 1}\"}\n</tool_call>\n");
  ASSERT_EQ(r.calls.size(), 2u);
  EXPECT_EQ(r.calls[0].name, "a");
  EXPECT_EQ(r.calls[0].arguments, "{}");
  EXPECT_EQ(r.calls[1].name, "b");
  EXPECT_EQ(r.calls[1].arguments, R"({"x":1})");  // arguments given as a JSON string
  EXPECT_EQ(r.calls[1].id, "call_1");
  EXPECT_EQ(r.content, "Let me check.");
}

TEST(ToolCallParser, HermesUnclosedBlockAtEndStillParses) {
  auto r = Parse(ToolCallFormat::kHermes, "<tool_call>\n{\"name\": \"a\", \"arguments\": {\"k\": [1, 2]}}");
  ASSERT_EQ(r.calls.size(), 1u);
  EXPECT_EQ(r.calls[0].arguments, R"({"k":[1,2]})");
}

TEST(ToolCallParser, BrokenBlockStaysText) {
  const std::string text = "Hi <tool_call>{\"name\": \"a\", \"arguments\": {</tool_call> bye";
  auto r = Parse(ToolCallFormat::kHermes, text);
  EXPECT_TRUE(r.calls.empty());
  EXPECT_EQ(r.content, text);
}

TEST(ToolCallParser, UndeclaredNameStaysText) {
  const std::string text = "<tool_call>{\"name\": \"rm_rf\", \"arguments\": {}}</tool_call>";
  auto r = Parse(ToolCallFormat::kHermes, text, {"get_weather"});
  EXPECT_TRUE(r.calls.empty());
  EXPECT_EQ(r.content, text);
}

TEST(ToolCallParser, PlainTextIsUntouched) {
  for (auto format : {ToolCallFormat::kHermes, ToolCallFormat::kLlama3, ToolCallFormat::kMistral,
                      ToolCallFormat::kGeneric}) {
    const std::string text = "  The answer is 42 <tool [TOOL <|python\n\n";
    auto r = Parse(format, text);
    EXPECT_TRUE(r.calls.empty());
    EXPECT_EQ(r.content, text) << ToolCallFormatName(format);
  }
}

TEST(ToolCallParser, Llama3JsonAndPythonTag) {
  auto r = Parse(ToolCallFormat::kLlama3, R"({"name": "get_weather", "parameters": {"city": "Oslo"}})");
  ASSERT_EQ(r.calls.size(), 1u);
  EXPECT_EQ(r.calls[0].arguments, R"({"city":"Oslo"})");
  r = Parse(ToolCallFormat::kLlama3,
            "<|python_tag|>{\"name\": \"a\", \"parameters\": {}}; {\"name\": \"b\", \"parameters\": {\"n\": 2}}");
  ASSERT_EQ(r.calls.size(), 2u);
  EXPECT_EQ(r.calls[1].name, "b");
  EXPECT_EQ(r.content, "");
}

TEST(ToolCallParser, OrdinaryJsonAnswerIsNotACall) {
  const std::string text = R"({"name": "Bob", "age": 42})";
  auto r = Parse(ToolCallFormat::kLlama3, text);
  EXPECT_TRUE(r.calls.empty());
  EXPECT_EQ(r.content, text);
}

TEST(ToolCallParser, MistralJsonAndArgsForms) {
  auto r = Parse(ToolCallFormat::kMistral,
                 R"([TOOL_CALLS][{"name": "a", "arguments": {"x": 1}, "id": "abcDEF123"}, {"name": "b", "arguments": {}}])");
  ASSERT_EQ(r.calls.size(), 2u);
  EXPECT_EQ(r.calls[0].id, "abcDEF123");
  EXPECT_EQ(r.calls[1].id, "call_1");
  r = Parse(ToolCallFormat::kMistral, "[TOOL_CALLS]get_weather[ARGS]{\"city\": \"Rome\"}[TOOL_CALLS]b[ARGS]{}");
  ASSERT_EQ(r.calls.size(), 2u);
  EXPECT_EQ(r.calls[0].name, "get_weather");
  EXPECT_EQ(r.calls[0].arguments, R"({"city":"Rome"})");
  EXPECT_EQ(r.calls[1].name, "b");
  r = Parse(ToolCallFormat::kMistral, "[TOOL_CALLS]f[CALL_ID]id9[ARGS]{\"a\": \"}\"}");
  ASSERT_EQ(r.calls.size(), 1u);
  EXPECT_EQ(r.calls[0].id, "id9");
  EXPECT_EQ(r.calls[0].arguments, R"({"a":"}"})");
}

TEST(ToolCallParser, GenericFallbackShapes) {
  for (const char* text : {R"({"name": "f", "arguments": {"q": "x"}})", R"([{"name": "f", "arguments": {"q": "x"}}])",
                           R"({"tool_call": {"name": "f", "arguments": {"q": "x"}}})",
                           R"({"tool_calls": [{"type": "function", "function": {"name": "f", "arguments": "{\"q\":\"x\"}"}}]})",
                           "```json\n{\"name\": \"f\", \"arguments\": {\"q\": \"x\"}}\n```"}) {
    for (auto format : {ToolCallFormat::kHermes, ToolCallFormat::kGeneric}) {
      auto r = Parse(format, text);
      ASSERT_EQ(r.calls.size(), 1u) << text;
      EXPECT_EQ(r.calls[0].name, "f");
      EXPECT_EQ(r.calls[0].arguments, R"({"q":"x"})");
      EXPECT_EQ(r.content, "");
    }
  }
}

TEST(ToolCallParser, ParallelFalseKeepsFirstCall) {
  ToolCallOptions o;
  o.format = ToolCallFormat::kHermes;
  o.parallel = false;
  auto r = ParseToolCalls("<tool_call>{\"name\": \"a\"}</tool_call><tool_call>{\"name\": \"b\"}</tool_call>", o);
  ASSERT_EQ(r.calls.size(), 1u);
  EXPECT_EQ(r.calls[0].name, "a");
}

TEST(ToolCallParser, JsonContainerEndRespectsStrings) {
  EXPECT_EQ(JsonContainerEnd(R"({"a": "}]"} tail)"), 11u);
  EXPECT_EQ(JsonContainerEnd(R"({"a": "\"}"} x)"), 12u);
  EXPECT_EQ(JsonContainerEnd("{\"a\": 1"), std::string_view::npos);
  EXPECT_EQ(JsonContainerEnd("x{}"), std::string_view::npos);
}

// Every prefix of a reply (a stream cut off anywhere) is parsed without
// crashing, and arbitrary bytes never become calls with bad JSON arguments.
TEST(ToolCallParser, CorruptedRepliesNeverCrash) {
  const std::string base =
      "Sure <tool_call>{\"name\": \"a\", \"arguments\": {\"s\": \"x\\\"y\"}}</tool_call>[TOOL_CALLS]n[ARGS]{}"
      "<|python_tag|>{\"name\": \"b\", \"parameters\": {}}";
  uint32_t rng = 12345;
  for (int trial = 0; trial < 2000; ++trial) {
    std::string text = base.substr(0, static_cast<size_t>(trial) % (base.size() + 1));
    rng = rng * 1664525u + 1013904223u;
    if (!text.empty() && trial % 3 == 0) text[(rng >> 8) % text.size()] = static_cast<char>(rng >> 24);
    for (auto format : {ToolCallFormat::kHermes, ToolCallFormat::kLlama3, ToolCallFormat::kMistral,
                        ToolCallFormat::kGeneric}) {
      auto r = Parse(format, text);
      for (const ToolCall& c : r.calls) {
        EXPECT_FALSE(c.name.empty());
        auto args = nlohmann::json::parse(c.arguments, nullptr, false);
        EXPECT_TRUE(args.is_object()) << c.arguments;
      }
    }
  }
}

TEST(ToolCallFormat, SelectedFromRealTemplates) {
  const auto tmpl = [](const char* text) { return SelectToolCallFormat(text, nullptr); };
  EXPECT_EQ(tmpl("{{- '<tool_call>\\n' }}"), ToolCallFormat::kHermes);
  EXPECT_EQ(tmpl("{{- \"[TOOL_CALLS][\" }}"), ToolCallFormat::kMistral);
  EXPECT_EQ(tmpl("<|start_header_id|> {\"name\": function name, \"parameters\": dictionary"),
            ToolCallFormat::kLlama3);
  EXPECT_EQ(tmpl("{% if x %}<|python_tag|>{% endif %}"), ToolCallFormat::kLlama3);
  EXPECT_EQ(tmpl("<|im_start|>"), ToolCallFormat::kGeneric);
  EXPECT_EQ(SelectToolCallFormat("", [](std::string_view t) { return t == "[TOOL_CALLS]"; }),
            ToolCallFormat::kMistral);
}

}  // namespace
}  // namespace jarvis::chat
