#include "scheduler/request_prep.h"

#include <string>

namespace jarvis {

Result<std::vector<int32_t>> PrepareRequestTokens(const Model& model, const ChatFormatter& chat,
                                                  const GenerateRequest& request, int32_t n_ctx) {
  const Tokenizer& tok = model.tokenizer();
  const int32_t n_vocab = model.hparams().n_vocab;
  JARVIS_RETURN_IF_ERROR(request.sampling.Validate(n_vocab));

  std::vector<int32_t> ids;
  if (!request.prompt_tokens.empty()) {
    for (int32_t id : request.prompt_tokens) {
      if (id < 0 || id >= n_vocab) {
        return Status::InvalidArgument("prompt token " + std::to_string(id) + " is outside the vocabulary (" +
                                       std::to_string(n_vocab) + ")");
      }
    }
    ids = request.prompt_tokens;
  } else if (!request.messages.empty()) {
    // BOS/EOS may appear as text inside a template (Llama 2 turns); parse_special
    // turns them, and the template's control tokens, back into their ids.
    ChatRenderInput input;
    input.messages = request.messages;
    input.tools_json = request.tools_json;
    input.kwargs_json = request.chat_template_kwargs_json;
    JARVIS_ASSIGN_OR_RETURN(std::string text, chat.RenderForTokenizer(input));
    Tokenizer::EncodeOptions enc;
    enc.add_special = true;
    enc.parse_special = true;
    JARVIS_ASSIGN_OR_RETURN(ids, tok.Encode(text, enc));
  } else {
    if (!request.tools_json.empty() || !request.chat_template_kwargs_json.empty())
      return Status::InvalidArgument("tools and chat_template_kwargs apply to chat messages, not to a raw prompt");
    Tokenizer::EncodeOptions enc;
    enc.add_special = request.add_special;
    enc.parse_special = false;
    JARVIS_ASSIGN_OR_RETURN(ids, tok.Encode(request.prompt, enc));
  }
  if (ids.empty()) return Status::InvalidArgument("the prompt is empty");
  if (static_cast<int64_t>(ids.size()) >= n_ctx) {
    return Status::InvalidArgument("the prompt has " + std::to_string(ids.size()) + " tokens but the context holds " +
                                   std::to_string(n_ctx) + " (including at least one generated token)");
  }
  return ids;
}

}  // namespace jarvis
