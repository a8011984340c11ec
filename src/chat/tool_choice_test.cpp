#include "chat/tool_choice.h"

#include <gtest/gtest.h>

#include "chat/tool_call_stream.h"

namespace jarvis::chat {
namespace {

const nlohmann::json kTools = nlohmann::json::parse(R"([
  {"type": "function", "function": {"name": "get_weather", "description": "d",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}},
  {"type": "function", "function": {"name": "turn_on", "parameters": {"type": "object",
    "properties": {"room": {"enum": ["kitchen", "hall"]}}}}}
])");

TEST(ToolChoice, ReadsToolsAndChoices) {
  auto tools = ReadToolDefinitions(kTools);
  ASSERT_TRUE(tools.ok()) << tools.status().ToString();
  ASSERT_EQ(tools->size(), 2u);
  EXPECT_EQ((*tools)[1].name, "turn_on");
  auto c = ReadToolChoice(nullptr, *tools);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->mode, ToolChoiceMode::kAuto);
  nlohmann::json v = "none";
  EXPECT_EQ(ReadToolChoice(&v, *tools)->mode, ToolChoiceMode::kNone);
  v = "required";
  EXPECT_EQ(ReadToolChoice(&v, *tools)->mode, ToolChoiceMode::kRequired);
  v = {{"type", "function"}, {"function", {{"name", "turn_on"}}}};
  auto named = ReadToolChoice(&v, *tools);
  ASSERT_TRUE(named.ok());
  EXPECT_EQ(named->mode, ToolChoiceMode::kNamed);
  EXPECT_EQ(named->name, "turn_on");
}

TEST(ToolChoice, RejectsBadInput) {
  auto tools = ReadToolDefinitions(kTools);
  ASSERT_TRUE(tools.ok());
  nlohmann::json v = {{"type", "function"}, {"function", {{"name", "launch_rocket"}}}};
  auto s = ReadToolChoice(&v, *tools);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("launch_rocket"), std::string::npos);
  v = "always";
  EXPECT_FALSE(ReadToolChoice(&v, *tools).ok());
  v = "required";
  EXPECT_FALSE(ReadToolChoice(&v, {}).ok());
  v = 3;
  EXPECT_FALSE(ReadToolChoice(&v, *tools).ok());
  for (const char* bad : {R"({})", R"([{"type": "retrieval"}])", R"([{"type": "function", "function": {}}])",
                          R"([{"function": {"name": "a", "parameters": 3}}])",
                          R"([{"function": {"name": "a"}}, {"function": {"name": "a"}}])"}) {
    EXPECT_FALSE(ReadToolDefinitions(nlohmann::json::parse(bad)).ok()) << bad;
  }
}

TEST(ToolChoice, SchemaForNamedToolPerFormat) {
  auto tools = ReadToolDefinitions(kTools);
  ASSERT_TRUE(tools.ok());
  const ToolChoice named{ToolChoiceMode::kNamed, "get_weather"};
  auto hermes = BuildToolCallSchema(*tools, named, ToolCallFormat::kHermes);
  ASSERT_TRUE(hermes.ok());
  EXPECT_EQ(hermes->prefix, "<tool_call>\n");
  EXPECT_EQ(hermes->suffix, "\n</tool_call>");
  EXPECT_EQ(hermes->schema["properties"]["name"]["const"], "get_weather");
  EXPECT_EQ(hermes->schema["properties"]["arguments"], (*tools)[0].parameters);
  EXPECT_EQ(hermes->schema["required"], nlohmann::json({"name", "arguments"}));
  EXPECT_EQ(hermes->schema["additionalProperties"], false);

  auto llama = BuildToolCallSchema(*tools, named, ToolCallFormat::kLlama3);
  ASSERT_TRUE(llama.ok());
  EXPECT_TRUE(llama->schema["properties"].contains("parameters"));
  EXPECT_EQ(llama->prefix, "");

  auto mistral = BuildToolCallSchema(*tools, named, ToolCallFormat::kMistral);
  ASSERT_TRUE(mistral.ok());
  EXPECT_EQ(mistral->prefix, "[TOOL_CALLS]");
  EXPECT_EQ(mistral->schema["type"], "array");
  EXPECT_EQ(mistral->schema["maxItems"], 1);
}

TEST(ToolChoice, RequiredIsAnyOfAllTools) {
  auto tools = ReadToolDefinitions(kTools);
  ASSERT_TRUE(tools.ok());
  auto c = BuildToolCallSchema(*tools, ToolChoice{ToolChoiceMode::kRequired, ""}, ToolCallFormat::kGeneric);
  ASSERT_TRUE(c.ok());
  ASSERT_EQ(c->schema["anyOf"].size(), 2u);
  EXPECT_EQ(c->schema["anyOf"][1]["properties"]["name"]["const"], "turn_on");
  EXPECT_FALSE(BuildToolCallSchema(*tools, ToolChoice{}, ToolCallFormat::kGeneric).ok());
  EXPECT_FALSE(BuildToolCallSchema(*tools, ToolChoice{ToolChoiceMode::kNamed, "x"}, ToolCallFormat::kGeneric).ok());
}

// A reply made of prefix + a value of the schema's shape + suffix parses back
// as exactly that call in every format.
TEST(ToolChoice, ConstrainedShapeParsesBack) {
  auto tools = ReadToolDefinitions(kTools);
  ASSERT_TRUE(tools.ok());
  for (auto format : {ToolCallFormat::kHermes, ToolCallFormat::kLlama3, ToolCallFormat::kMistral,
                      ToolCallFormat::kGeneric}) {
    auto c = BuildToolCallSchema(*tools, ToolChoice{ToolChoiceMode::kNamed, "turn_on"}, format);
    ASSERT_TRUE(c.ok());
    const bool array = c->schema["type"] == "array";
    const nlohmann::json obj = c->schema.value("items", c->schema);
    std::string args_key;
    for (auto it = obj["properties"].begin(); it != obj["properties"].end(); ++it) {
      if (it.key() != "name") args_key = it.key();
    }
    nlohmann::json call = {{"name", "turn_on"}, {args_key, {{"room", "kitchen"}}}};
    const std::string value = array ? nlohmann::json::array({call}).dump() : call.dump();
    ToolCallOptions o;
    o.format = format;
    o.tool_names = {"get_weather", "turn_on"};
    auto reply = ParseToolCalls(c->prefix + value + c->suffix, o);
    ASSERT_EQ(reply.calls.size(), 1u) << ToolCallFormatName(format);
    EXPECT_EQ(reply.calls[0].name, "turn_on");
    EXPECT_EQ(reply.calls[0].arguments, R"({"room":"kitchen"})");
    EXPECT_EQ(reply.content, "");
  }
}

}  // namespace
}  // namespace jarvis::chat
