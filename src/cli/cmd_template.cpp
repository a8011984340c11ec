// `jarvis template`: print the prompt a conversation renders to with a
// model's chat template (the same rendering a chat request gets), e.g.
//   jarvis template --model m.gguf --messages chat.json --tools tools.json
// messages / tools files hold the JSON arrays of the OpenAI request fields.
#include <cstdio>
#include <string>

#include <nlohmann/json.hpp>

#include "api/generation_request.h"
#include "chat/chat_formatter.h"
#include "cli/commands.h"
#include "gguf/gguf_reader.h"
#include "tokenizer/tokenizer.h"

namespace jarvis::cli {
namespace {

struct TemplateFlags {
  std::string model;
  std::string messages_file;
  std::string tools_file;
  std::string kwargs;
  std::string chat_template_file;
  bool no_generation_prompt = false;
};

nlohmann::ordered_json ParseJsonFileOrFail(const std::string& path, const char* flag) {
  const std::string text = ReadTextFileOrFail(path, flag);
  nlohmann::ordered_json j = nlohmann::ordered_json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) Fail(std::string(flag) + ": '" + path + "' is not valid JSON", kExitUsageError);
  return j;
}

void PrintTemplate(const TemplateFlags& f) {
  auto gguf = GgufFile::Open(f.model);
  if (!gguf.ok()) Fail(gguf.status());
  auto tok = Tokenizer::FromGguf(**gguf);
  if (!tok.ok()) Fail(tok.status());
  const std::string source =
      f.chat_template_file.empty() ? "" : ReadTextFileOrFail(f.chat_template_file, "--chat-template-file");
  auto formatter = ChatFormatterForModel(**gguf, **tok, source);
  if (!formatter.ok()) Fail(formatter.status());

  // The same reading and validation as an HTTP request body with these fields.
  nlohmann::ordered_json ordered = nlohmann::ordered_json::object();
  ordered["messages"] = ParseJsonFileOrFail(f.messages_file, "--messages");
  if (!f.tools_file.empty()) ordered["tools"] = ParseJsonFileOrFail(f.tools_file, "--tools");
  if (!f.kwargs.empty()) {
    ordered["chat_template_kwargs"] = nlohmann::ordered_json::parse(f.kwargs, nullptr, false);
    if (ordered["chat_template_kwargs"].is_discarded()) Fail("--kwargs: not valid JSON", kExitUsageError);
  }
  const std::string raw_body = ordered.dump();
  const nlohmann::json body = nlohmann::json::parse(raw_body);
  GenerateRequest r;
  auto messages = api::ReadMessages(body["messages"]);
  if (!messages.ok()) Fail(messages.status());
  r.messages = std::move(messages).value();
  api::JsonFields fields(body);
  if (Status s = api::ReadChatTemplateInputs(fields, &r); !s.ok()) Fail(s);
  api::KeepToolKeyOrder(raw_body, &r);

  ChatRenderInput input;
  input.messages = r.messages;
  input.tools_json = r.tools_json;
  input.kwargs_json = r.chat_template_kwargs_json;
  input.add_generation_prompt = !f.no_generation_prompt;
  auto text = formatter->Render(input);
  if (!text.ok()) Fail(text.status().message(), kExitRuntimeError);
  std::fwrite(text->data(), 1, text->size(), stdout);
  std::fflush(stdout);
}

}  // namespace

void RegisterTemplate(CLI::App& app) {
  auto f = std::make_shared<TemplateFlags>();
  CLI::App* cmd = app.add_subcommand("template", "Print the prompt a conversation renders to with a model's chat template");
  cmd->add_option("-m,--model", f->model, "GGUF model file")->required()->check(CLI::ExistingFile);
  cmd->add_option("--messages", f->messages_file, "JSON file: the messages array (OpenAI shape)")
      ->required()
      ->check(CLI::ExistingFile);
  cmd->add_option("--tools", f->tools_file, "JSON file: the tools array (OpenAI function tools)")
      ->check(CLI::ExistingFile);
  cmd->add_option("--kwargs", f->kwargs, "JSON object of extra template variables, e.g. '{\"enable_thinking\":false}'");
  cmd->add_option("--chat-template-file", f->chat_template_file, "Jinja template used instead of the model's")
      ->check(CLI::ExistingFile);
  cmd->add_flag("--no-generation-prompt", f->no_generation_prompt,
                "Do not append the opening of an assistant turn (add_generation_prompt = false)");
  cmd->callback([f] { PrintTemplate(*f); });
}

}  // namespace jarvis::cli
