// Service::ApplyChatTemplate: the prompt a chat request renders to, for
// POST /apply-template.
#include "chat/chat_formatter.h"
#include "gguf/gguf_reader.h"
#include "service/service.h"
#include "service/service_impl.h"
#include "tokenizer/tokenizer.h"

namespace jarvis {

Result<std::string> Service::ApplyChatTemplate(const GenerateRequest& request, bool add_generation_prompt) const {
  JARVIS_ASSIGN_OR_RETURN(const size_t slot, impl_->ResolveModel(request.model));
  JARVIS_ASSIGN_OR_RETURN(auto gguf, GgufFile::Open(impl_->sources_[slot].path));
  JARVIS_ASSIGN_OR_RETURN(auto tokenizer, Tokenizer::FromGguf(*gguf));
  JARVIS_ASSIGN_OR_RETURN(ChatFormatter formatter,
                          ChatFormatterForModel(*gguf, *tokenizer, impl_->options_.scheduler.chat_template));
  ChatRenderInput input;
  input.messages = request.messages;
  input.tools_json = request.tools_json;
  input.kwargs_json = request.chat_template_kwargs_json;
  input.add_generation_prompt = add_generation_prompt;
  return formatter.Render(input);
}

}  // namespace jarvis
