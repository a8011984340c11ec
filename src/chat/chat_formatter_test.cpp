#include "chat/chat_formatter.h"

#include <ctime>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "support/test_paths.h"

namespace jarvis {
namespace {

constexpr const char* kSimple =
    "{{ bos_token }}{% for m in messages %}<{{ m.role }}>{{ m.content }}{% endfor %}"
    "{% if add_generation_prompt %}<assistant>{% endif %}";

ChatFormatter::Options Opts(bool adds_bos) {
  ChatFormatter::Options o;
  o.bos_text = "<s>";
  o.eos_text = "</s>";
  o.tokenizer_adds_bos = adds_bos;
  return o;
}

std::string ReadFile(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

TEST(ChatFormatter, RendersMessagesAndStripsALeadingBosOnlyWhenTheTokenizerAddsOne) {
  const std::vector<ChatMessage> messages = {{"system", "S"}, {"user", "U"}};
  ChatRenderInput in;
  in.messages = messages;
  auto f = ChatFormatter::FromJinja(kSimple, Opts(true));
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(*f->Render(in), "<s><system>S<user>U<assistant>");
  EXPECT_EQ(*f->RenderForTokenizer(in), "<system>S<user>U<assistant>");
  in.add_generation_prompt = false;
  EXPECT_EQ(*f->RenderForTokenizer(in), "<system>S<user>U");
  auto keeps = ChatFormatter::FromJinja(kSimple, Opts(false));
  EXPECT_EQ(*keeps->RenderForTokenizer(in), "<s><system>S<user>U");
}

TEST(ChatFormatter, ToolCallArgumentsGivenAsAJsonStringReachTheTemplateAsAnObject) {
  std::vector<ChatMessage> messages = {{"user", "go"}, {"assistant", ""}};
  messages[1].tool_calls_json =
      R"([{"id":"c1","type":"function","function":{"name":"set_light","arguments":"{\"room\":\"kitchen\"}"}}])";
  ChatRenderInput in;
  in.messages = messages;
  auto f = ChatFormatter::FromJinja(
      "{% for m in messages %}{% for c in m.tool_calls | default([]) %}{{ c.function.name }}:"
      "{{ c.function.arguments.room }}:{{ c.function.arguments | tojson }}{% endfor %}{% endfor %}",
      Opts(false));
  ASSERT_TRUE(f.ok());
  auto out = f->Render(in);
  ASSERT_TRUE(out.ok()) << out.status().message();
  EXPECT_EQ(*out, R"(set_light:kitchen:{"room": "kitchen"})");
}

TEST(ChatFormatter, KwargsAndToolsAreTemplateVariables) {
  const std::vector<ChatMessage> messages = {{"user", "hi"}};
  ChatRenderInput in;
  in.messages = messages;
  in.tools_json = R"([{"type":"function","function":{"name":"f"}}])";
  in.kwargs_json = R"({"enable_thinking": false})";
  auto f = ChatFormatter::FromJinja("{{ tools[0].function.name }} {{ enable_thinking }}", Opts(false));
  EXPECT_EQ(*f->Render(in), "f False");
  in.kwargs_json = R"({"messages": []})";
  EXPECT_EQ(f->Render(in).status().code(), StatusCode::kInvalidArgument);
  in.kwargs_json = "[1]";
  EXPECT_EQ(f->Render(in).status().code(), StatusCode::kInvalidArgument);
}

TEST(ChatFormatter, TemplateErrorsCarryTheTemplatesMessage) {
  const std::vector<ChatMessage> messages = {{"system", "x"}};
  ChatRenderInput in;
  in.messages = messages;
  auto f = ChatFormatter::FromJinja("{{ raise_exception('System role not supported') }}", Opts(false));
  auto out = f->Render(in);
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(out.status().message().find("System role not supported"), std::string::npos);
  EXPECT_FALSE(ChatFormatter::FromJinja("{% if %}", Opts(false)).ok());
}

TEST(ChatFormatter, StrftimeNowUsesTheInjectedClock) {
  ChatFormatter::Options o = Opts(false);
  std::tm tm{};
  tm.tm_year = 2030 - 1900;
  tm.tm_mon = 4;
  tm.tm_mday = 2;
  tm.tm_hour = 12;
  tm.tm_isdst = -1;
  const auto t = std::chrono::system_clock::from_time_t(std::mktime(&tm));
  o.clock = [t] { return t; };
  auto f = ChatFormatter::FromJinja("{{ strftime_now('%d %B %Y') }}", o);
  const std::vector<ChatMessage> messages = {{"user", "x"}};
  ChatRenderInput in;
  in.messages = messages;
  EXPECT_EQ(*f->Render(in), "02 May 2030");
}

TEST(ChatFormatter, FilesWithoutATemplateUseTheFamilyFallbackAndRefuseTools) {
  std::string warning;
  ChatFormatter f = ChatFormatter::ForModelTemplate("", Opts(true), &warning);
  EXPECT_FALSE(f.uses_jinja());
  EXPECT_TRUE(warning.empty());
  const std::vector<ChatMessage> messages = {{"user", "hi"}};
  ChatRenderInput in;
  in.messages = messages;
  EXPECT_EQ(*f.Render(in), "<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n");
  in.tools_json = "[]";
  EXPECT_EQ(f.Render(in).status().code(), StatusCode::kInvalidArgument);
  // A template that does not parse falls back to the family its markers name.
  ChatFormatter broken = ChatFormatter::ForModelTemplate("<|start_header_id|>{% if %}", Opts(true), &warning);
  EXPECT_FALSE(broken.uses_jinja());
  EXPECT_EQ(broken.description(), "llama3");
  EXPECT_NE(warning.find("does not parse"), std::string::npos);
}

// The message model end to end: ChatMessage fields built from the reference
// conversation render Qwen3's real template exactly as jinja2 did.
TEST(ChatFormatter, Qwen3ToolRoundTripFromChatMessagesMatchesTheReference) {
  const std::string dir = test::SharedPath("chat-templates");
  const auto context = nlohmann::ordered_json::parse(ReadFile(dir + "/contexts/tools-roundtrip.json"));
  std::vector<ChatMessage> messages;
  for (const auto& m : context["messages"]) {
    ChatMessage msg{m["role"].get<std::string>(), m["content"].get<std::string>()};
    if (m.contains("tool_calls")) msg.tool_calls_json = m["tool_calls"].dump();
    if (m.contains("tool_call_id")) msg.tool_call_id = m["tool_call_id"].get<std::string>();
    if (m.contains("name")) msg.name = m["name"].get<std::string>();
    messages.push_back(std::move(msg));
  }
  const std::string tools = context["tools"].dump();
  auto f = ChatFormatter::FromJinja(ReadFile(dir + "/templates/Qwen-Qwen3-0.6B.jinja"), Opts(false));
  ASSERT_TRUE(f.ok());
  ChatRenderInput in;
  in.messages = messages;
  in.tools_json = tools;
  auto out = f->Render(in);
  ASSERT_TRUE(out.ok()) << out.status().message();
  EXPECT_EQ(*out, ReadFile(dir + "/expected/Qwen-Qwen3-0.6B/tools-roundtrip.txt"));
}

}  // namespace
}  // namespace jarvis
