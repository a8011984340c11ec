// End-to-end: a synthesized model carrying Qwen3's real chat template
// (`jarvis synth --chat-template-file`), rendered by `jarvis template`, by
// `jarvis serve`'s POST /apply-template and /api/show, used by chat requests
// with tools, and overridden with --chat-template-file. Expected prompts are
// python3-jinja2's renders in ../shared/chat-templates/expected.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include <nlohmann/json.hpp>

#include "api/http_test_client.h"
#include "support/run_jarvis.h"
#include "support/serve_process.h"
#include "support/test_paths.h"

namespace jarvis {
namespace {

namespace fs = std::filesystem;
using api::testing::Fetch;
using api::testing::HttpReply;
using test::ShellQuote;

std::string Templates() { return test::SharedPath("chat-templates/templates/"); }
std::string Expected(const std::string& t, const std::string& c) {
  return test::ReadFile(test::SharedPath("chat-templates/expected/" + t + "/" + c + ".txt"));
}
nlohmann::ordered_json Context(const std::string& c) {
  return nlohmann::ordered_json::parse(test::ReadFile(test::SharedPath("chat-templates/contexts/" + c + ".json")));
}

class ChatTemplateE2E : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = fs::temp_directory_path() / ("jarvis_chat_e2e_" + std::to_string(::getpid()));
    fs::create_directories(dir_);
    model_ = (dir_ / "qwen3-tmpl.gguf").string();
    const auto r = test::RunJarvis("synth --preset tiny --type q8_0 --threads 1 --chat-template-file " +
                                   ShellQuote(Templates() + "Qwen-Qwen3-0.6B.jinja") + " --out " + ShellQuote(model_));
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  static void TearDownTestSuite() { fs::remove_all(dir_); }

  static std::string Write(const std::string& name, const std::string& text) {
    const fs::path p = dir_ / name;
    std::ofstream(p, std::ios::binary) << text;
    return p.string();
  }

  static fs::path dir_;
  static std::string model_;
};
fs::path ChatTemplateE2E::dir_;
std::string ChatTemplateE2E::model_;

TEST_F(ChatTemplateE2E, TemplateCommandPrintsTheReferencePrompt) {
  for (const std::string c : {"tools-roundtrip", "no-generation-prompt", "unicode"}) {
    const auto ctx = Context(c);
    std::string args = "template --model " + ShellQuote(model_) + " --messages " +
                       ShellQuote(Write(c + "-m.json", ctx["messages"].dump()));
    if (ctx.contains("tools")) args += " --tools " + ShellQuote(Write(c + "-t.json", ctx["tools"].dump()));
    if (!ctx["add_generation_prompt"].get<bool>()) args += " --no-generation-prompt";
    const auto r = test::RunJarvis(args);
    ASSERT_EQ(r.exit_code, 0) << c << ": " << r.err;
    EXPECT_EQ(r.out, Expected("Qwen-Qwen3-0.6B", c)) << c;
  }
}

TEST_F(ChatTemplateE2E, TemplateCommandReportsTheTemplatesError) {
  const auto ctx = Context("basic");
  const auto r = test::RunJarvis("template --model " + ShellQuote(model_) + " --chat-template-file " +
                                 ShellQuote(Templates() + "google-gemma-2-2b-it.jinja") + " --messages " +
                                 ShellQuote(Write("basic-m.json", ctx["messages"].dump())));
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("System role not supported"), std::string::npos) << r.err;
}

TEST_F(ChatTemplateE2E, ServeAppliesShowsAndUsesTheModelsTemplate) {
  test::ServeProcess p;
  const uint16_t port = p.Start({}, {"--port", "0", "--model", model_, "--threads", "1", "--parallel", "1"});
  ASSERT_NE(port, 0);
  ASSERT_TRUE(test::WaitHealthy(port));

  const auto ctx = Context("tools-roundtrip");
  nlohmann::ordered_json body = {{"messages", ctx["messages"]}, {"tools", ctx["tools"]}};
  HttpReply applied = Fetch(port, "POST", "/apply-template", body.dump());
  ASSERT_EQ(applied.status, 200) << applied.body;
  EXPECT_EQ(nlohmann::json::parse(applied.body)["prompt"], Expected("Qwen-Qwen3-0.6B", "tools-roundtrip"));

  const auto off = Context("thinking-off");  // enable_thinking: false
  nlohmann::ordered_json kwargs_body = {{"messages", off["messages"]},
                                        {"chat_template_kwargs", {{"enable_thinking", false}}}};
  applied = Fetch(port, "POST", "/apply-template", kwargs_body.dump());
  ASSERT_EQ(applied.status, 200) << applied.body;
  EXPECT_EQ(nlohmann::json::parse(applied.body)["prompt"], Expected("Qwen-Qwen3-0.6B", "thinking-off"));
  body["tools"] = "not an array";
  EXPECT_EQ(Fetch(port, "POST", "/apply-template", body.dump()).status, 400);

  HttpReply show = Fetch(port, "POST", "/api/show", R"({"model":"qwen3-tmpl"})");
  ASSERT_EQ(show.status, 200) << show.body;
  EXPECT_EQ(nlohmann::json::parse(show.body)["template"], test::ReadFile(Templates() + "Qwen-Qwen3-0.6B.jinja"));

  // A chat request with a developer message, an assistant tool call (arguments
  // as a JSON string, as the OpenAI client sends) and a tool result renders and
  // runs (the tiny model's 512-token context leaves no room for the tools list).
  nlohmann::json chat = nlohmann::json::parse(R"({"model": "qwen3-tmpl", "max_tokens": 4, "temperature": 0,
    "messages": [{"role": "developer", "content": "s"}, {"role": "user", "content": "u"},
      {"role": "assistant", "content": null, "tool_calls": [{"id": "c1", "type": "function",
        "function": {"name": "f", "arguments": "{\"a\": 1}"}}]},
      {"role": "tool", "tool_call_id": "c1", "content": "ok"}]})");
  HttpReply reply = Fetch(port, "POST", "/v1/chat/completions", chat.dump());
  EXPECT_EQ(reply.status, 200) << reply.body;
  chat["tools"] = nlohmann::json::array({{{"type", "retrieval"}}});
  reply = Fetch(port, "POST", "/v1/chat/completions", chat.dump());
  EXPECT_EQ(reply.status, 400) << reply.body;
  EXPECT_NE(reply.body.find("tools[0].type"), std::string::npos) << reply.body;
  EXPECT_EQ(p.Signal(SIGTERM), 0);
}

TEST_F(ChatTemplateE2E, ServeChatTemplateFileOverridesAndTemplateErrorsAre400) {
  test::ServeProcess p;
  const uint16_t port = p.Start({}, {"--port", "0", "--model", model_, "--threads", "1", "--parallel", "1",
                                     "--chat-template-file", Templates() + "google-gemma-2-2b-it.jinja"});
  ASSERT_NE(port, 0);
  ASSERT_TRUE(test::WaitHealthy(port));
  HttpReply reply = Fetch(port, "POST", "/v1/chat/completions",
                          R"({"messages":[{"role":"system","content":"s"},{"role":"user","content":"u"}],"max_tokens":2})");
  EXPECT_EQ(reply.status, 400) << reply.body;
  EXPECT_NE(reply.body.find("System role not supported"), std::string::npos) << reply.body;
  reply = Fetch(port, "POST", "/api/chat",
                R"({"model":"qwen3-tmpl","messages":[{"role":"user","content":"u"}],"stream":false,"options":{"num_predict":2}})");
  EXPECT_EQ(reply.status, 200) << reply.body;
  HttpReply applied = Fetch(port, "POST", "/apply-template", R"({"messages":[{"role":"user","content":"hi"}]})");
  ASSERT_EQ(applied.status, 200) << applied.body;
  const std::string prompt = nlohmann::json::parse(applied.body)["prompt"];
  const std::string tail = "<start_of_turn>user\nhi<end_of_turn>\n<start_of_turn>model\n";  // after bos_token
  ASSERT_GE(prompt.size(), tail.size());
  EXPECT_EQ(prompt.substr(prompt.size() - tail.size()), tail);
  EXPECT_EQ(p.Signal(SIGTERM), 0);
}

}  // namespace
}  // namespace jarvis
