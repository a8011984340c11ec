// ChatFormatter: turns a conversation (messages, tools, kwargs) into the
// prompt text a model was trained on.
//
// With a Jinja template (the GGUF's tokenizer.chat_template, or a file given
// with --chat-template-file) the template is rendered by this project's
// interpreter (jinja_template.h) with the variables transformers passes:
// messages, tools (when given), add_generation_prompt, bos_token, eos_token,
// strftime_now, plus the request's chat_template_kwargs at the top level.
// A file without a template falls back to the hard-coded families of
// tokenizer/chat_template.h, picked by markers.
//
// Messages reach the template as OpenAI-shaped dicts: role, content (always a
// string), and when set tool_calls (with each function.arguments given as an
// object: a JSON-string argument is parsed, as llama.cpp does, because most
// templates iterate or tojson the arguments), tool_call_id, name,
// reasoning_content.
//
// BOS convention: when the tokenizer adds BOS itself (add_bos), a rendered
// text that starts with the BOS token text has it removed (ForTokenizer), so
// that a template beginning with {{ bos_token }} does not produce two BOS
// tokens; llama.cpp does the same. Render() returns the template's raw output.
//
// Thread safety: immutable after construction; Render may run concurrently.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "chat/jinja_template.h"
#include "jarvis/chat_message.h"
#include "jarvis/status.h"
#include "tokenizer/chat_template.h"

namespace jarvis {

struct ChatRenderInput {
  std::span<const ChatMessage> messages;
  std::string_view tools_json;   // JSON array of tool definitions; empty: none
  std::string_view kwargs_json;  // JSON object of extra template variables; empty: none
  bool add_generation_prompt = true;
};

class ChatFormatter {
 public:
  struct Options {
    std::string bos_text;        // the vocabulary's BOS token text ("" if none)
    std::string eos_text;
    bool tokenizer_adds_bos = false;
    jinja::Clock clock;          // strftime_now; empty: the system clock
    jinja::RenderLimits limits;
  };

  // From Jinja source. InvalidArgument (with the line) if it does not parse.
  static Result<ChatFormatter> FromJinja(std::string_view source, Options options);
  // A hard-coded family (files without a template).
  static ChatFormatter FromFamily(ChatTemplateKind kind, Options options);
  // What a model file asks for: its tokenizer.chat_template when present and
  // parseable (a template that does not parse falls back to the family its
  // markers suggest, and *warning says why), else the family fallback.
  static ChatFormatter ForModelTemplate(std::string_view gguf_template, Options options, std::string* warning);

  // The rendered prompt (raw template output). InvalidArgument with the
  // template's own message when it raises, or for malformed tools/kwargs.
  Result<std::string> Render(const ChatRenderInput& input) const;
  // Render() minus a leading BOS text when the tokenizer adds BOS itself.
  Result<std::string> RenderForTokenizer(const ChatRenderInput& input) const;

  bool uses_jinja() const { return jinja_.has_value(); }
  // "jinja" or the family name ("chatml", ...), for logs and /api/show.
  std::string description() const;

 private:
  ChatFormatter() = default;
  std::optional<jinja::Template> jinja_;
  ChatTemplateKind family_ = ChatTemplateKind::kChatML;
  Options options_;
};

class GgufFile;
class Tokenizer;

// The formatter for a model file: `override_source` (Jinja source from
// --chat-template-file) when non-empty (InvalidArgument if it does not
// parse), else the GGUF's tokenizer.chat_template, else the family fallback
// (a GGUF template that does not parse is logged and the family used). BOS
// and EOS texts and add_bos come from the vocabulary.
Result<ChatFormatter> ChatFormatterForModel(const GgufFile& gguf, const Tokenizer& tokenizer,
                                            const std::string& override_source, jinja::Clock clock = {});

}  // namespace jarvis
