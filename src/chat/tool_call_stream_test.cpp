// Streaming == whole: a reply cut into pieces at every byte position (and fed
// byte by byte) gives the same reasoning, content and calls as parsed whole.
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "chat/assistant_output.h"
#include "chat/tool_call_format.h"
#include "support/test_paths.h"

namespace jarvis::chat {
namespace {

void ExpectSame(const AssistantReply& a, const AssistantReply& b, const std::string& what) {
  EXPECT_EQ(a.reasoning, b.reasoning) << what;
  EXPECT_EQ(a.content, b.content) << what;
  ASSERT_EQ(a.calls.size(), b.calls.size()) << what;
  for (size_t i = 0; i < a.calls.size(); ++i) {
    EXPECT_EQ(a.calls[i].id, b.calls[i].id) << what;
    EXPECT_EQ(a.calls[i].name, b.calls[i].name) << what;
    EXPECT_EQ(a.calls[i].arguments, b.calls[i].arguments) << what;
  }
}

AssistantReply Stream(const std::vector<std::string_view>& pieces, const AssistantOutputOptions& o) {
  AssistantOutputParser parser(o);
  std::vector<OutputEvent> events;
  for (std::string_view p : pieces) parser.Push(p, &events);
  parser.Finish(&events);
  AssistantReply r;
  Append(&r, events);
  return r;
}

void CheckEverySplit(const std::string& text, const AssistantOutputOptions& o) {
  const AssistantReply whole = ParseAssistantReply(text, o);
  for (size_t cut = 0; cut <= text.size(); ++cut) {
    const std::string_view t(text);
    ExpectSame(Stream({t.substr(0, cut), t.substr(cut)}, o), whole, "cut at " + std::to_string(cut) + ": " + text);
  }
  std::vector<std::string_view> bytes;
  for (size_t i = 0; i < text.size(); ++i) bytes.push_back(std::string_view(text).substr(i, 1));
  ExpectSame(Stream(bytes, o), whole, "byte by byte: " + text);
}

TEST(AssistantOutputStream, EverySplitMatchesWhole) {
  const std::vector<std::pair<ToolCallFormat, std::string>> cases = {
      {ToolCallFormat::kHermes, "I'll look.\n<tool_call>\n{\"name\": \"a\", \"arguments\": {\"x\": \"<tool_call>\"}}\n"
                                "</tool_call>\n<tool_call>{\"name\": \"b\"}</tool_call>\nDone \n"},
      {ToolCallFormat::kHermes, "<tool_call>{\"name\": \"a\", \"arguments\": {</tool_call> text"},
      {ToolCallFormat::kHermes, "  plain <tool text with < and {braces}\n"},
      {ToolCallFormat::kLlama3, "<|python_tag|>{\"name\": \"a\", \"parameters\": {\"q\": 1}}"},
      {ToolCallFormat::kLlama3, "\n{\"name\": \"a\", \"parameters\": {}}; {\"name\": \"b\", \"parameters\": {}}"},
      {ToolCallFormat::kLlama3, "{\"not\": \"a call\"}"},
      {ToolCallFormat::kMistral, "Ok [TOOL_CALLS][{\"name\": \"a\", \"arguments\": {}}]"},
      {ToolCallFormat::kMistral, "[TOOL_CALLS]a[ARGS]{\"k\": \"v\"}[TOOL_CALLS]b[ARGS]{}"},
      {ToolCallFormat::kMistral, "[TOOL_C is not a marker"},
      {ToolCallFormat::kGeneric, "```json\n{\"name\": \"f\", \"arguments\": {}}\n```"},
      {ToolCallFormat::kGeneric, "```python\nprint(1)\n```"},
  };
  for (const auto& [format, text] : cases) {
    AssistantOutputOptions o;
    o.parse_tool_calls = true;
    o.tools.format = format;
    CheckEverySplit(text, o);
  }
}

TEST(AssistantOutputStream, ReasoningThenToolCall) {
  AssistantOutputOptions o;
  o.split_reasoning = true;
  o.parse_tool_calls = true;
  o.tools.format = ToolCallFormat::kHermes;
  const std::string text =
      "<think>\nThe user wants weather.\n</think>\n\n<tool_call>\n{\"name\": \"w\", \"arguments\": {}}\n</tool_call>";
  const AssistantReply r = ParseAssistantReply(text, o);
  EXPECT_EQ(r.reasoning, "The user wants weather.");
  EXPECT_EQ(r.content, "");
  ASSERT_EQ(r.calls.size(), 1u);
  EXPECT_EQ(r.calls[0].name, "w");
  CheckEverySplit(text, o);
}

TEST(AssistantOutputStream, ReasoningSplitCases) {
  struct Case {
    bool opened;
    std::string text, reasoning, content;
  };
  const std::vector<Case> cases = {
      {false, "<think>\nhmm  \n</think>\n\nAnswer.", "hmm", "Answer."},
      {false, "\n<think></think>Answer", "", "Answer"},
      {false, "No thinking here.", "", "No thinking here."},
      {false, "<thin", "", "<thin"},
      {false, "<think>never closed  ", "never closed", ""},
      {true, "so 2+2=4.\n</think>\n\n4", "so 2+2=4.", "4"},
      {true, "<think>\nx</think>y", "x", "y"},
      {true, "all thought", "all thought", ""},
  };
  for (const Case& c : cases) {
    AssistantOutputOptions o;
    o.split_reasoning = true;
    o.reasoning_opened_in_prompt = c.opened;
    const AssistantReply r = ParseAssistantReply(c.text, o);
    EXPECT_EQ(r.reasoning, c.reasoning) << c.text;
    EXPECT_EQ(r.content, c.content) << c.text;
    CheckEverySplit(c.text, o);
  }
}

std::string ReadTemplate(const std::string& name) {
  std::ifstream in(test::SharedPath("chat-templates/templates/" + name + ".jinja"));
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST(ChatTemplateTraits, RealTemplates) {
  const std::string qwen3 = ReadTemplate("Qwen-Qwen3-0.6B");
  const std::string r1 = ReadTemplate("deepseek-ai-DeepSeek-R1-Distill-Llama-8B");
  const std::string llama31 = ReadTemplate("meta-llama-Llama-3.1-8B-Instruct");
  const std::string nemo = ReadTemplate("mistralai-Mistral-Nemo-Instruct-2407");
  const std::string small32 = ReadTemplate("Mistral-Small-3.2-24B-Instruct-2506");
  const std::string gemma = ReadTemplate("google-gemma-2-2b-it");
  ASSERT_FALSE(qwen3.empty() || r1.empty() || llama31.empty() || nemo.empty() || gemma.empty());
  EXPECT_EQ(SelectToolCallFormat(qwen3, nullptr), ToolCallFormat::kHermes);
  EXPECT_EQ(SelectToolCallFormat(llama31, nullptr), ToolCallFormat::kLlama3);
  EXPECT_EQ(SelectToolCallFormat(nemo, nullptr), ToolCallFormat::kMistral);
  EXPECT_EQ(SelectToolCallFormat(small32, nullptr), ToolCallFormat::kMistral);
  EXPECT_EQ(SelectToolCallFormat(gemma, nullptr), ToolCallFormat::kGeneric);
  EXPECT_TRUE(ReasoningTraitsOfTemplate(qwen3).thinks);
  EXPECT_FALSE(ReasoningTraitsOfTemplate(qwen3).opens_in_prompt);  // only the enable_thinking=false block
  EXPECT_TRUE(ReasoningTraitsOfTemplate(r1).thinks);
  EXPECT_TRUE(ReasoningTraitsOfTemplate(r1).opens_in_prompt);  // ends the prompt with "<think>\n"
  EXPECT_FALSE(ReasoningTraitsOfTemplate(llama31).thinks);
}

}  // namespace
}  // namespace jarvis::chat
