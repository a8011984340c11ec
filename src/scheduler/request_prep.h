// Turning a GenerateRequest into a PendingRequest on the submitting thread:
// parameter validation, chat rendering and tokenization.
//
// Thread safety: pure functions over an immutable Model.
#pragma once

#include <cstdint>
#include <vector>

#include "jarvis/request.h"
#include "jarvis/status.h"
#include "model/model.h"
#include "chat/chat_formatter.h"

namespace jarvis {

// The prompt ids of `request`: prompt_tokens as given (each checked against
// the vocabulary); else messages rendered with `chat` (+ generation prompt)
// and tokenized with add_special and parse_special; else prompt tokenized
// with request.add_special and no special parsing. Also validates the
// sampling parameters. InvalidArgument for bad parameters, an empty prompt or
// one with n_ctx tokens or more (at least one must be generated).
Result<std::vector<int32_t>> PrepareRequestTokens(const Model& model, const ChatFormatter& chat,
                                                  const GenerateRequest& request, int32_t n_ctx);

}  // namespace jarvis
