// What the output side of a chat reply needs to know about a model: the
// tool-call format it writes and whether (and how) it thinks. Read from the
// model's chat template (ApiBackend::ShowModel's "chat_template") and, when
// the template does not say, from its vocabulary's special tokens; computed
// once per model file (name + digest) and cached.
//
// Thread safety: ChatTraitsCache may be used from any thread.
#pragma once

#include <map>
#include <mutex>
#include <string>

#include "api/api_backend.h"
#include "chat/reasoning.h"
#include "chat/tool_call.h"

namespace jarvis::api {

struct ModelChatTraits {
  chat::ToolCallFormat tool_format = chat::ToolCallFormat::kGeneric;
  chat::ReasoningTraits reasoning;
};

class ChatTraitsCache {
 public:
  // The backend's errors (NotFound) pass through.
  Result<ModelChatTraits> Get(ApiBackend& backend, const ModelInfo& info);

 private:
  std::mutex mu_;
  std::map<std::string, ModelChatTraits> by_model_;  // GUARDED_BY(mu_); key: name + '\0' + digest
};

}  // namespace jarvis::api
