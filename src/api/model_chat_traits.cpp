#include "api/model_chat_traits.h"

#include <memory>
#include <string_view>

#include "chat/tool_call_format.h"
#include "gguf/gguf_reader.h"

namespace jarvis::api {
namespace {

// Special-token lookup in the GGUF's vocabulary (none when the file cannot be read).
bool VocabularyHas(const GgufFile* gguf, std::string_view text) {
  if (gguf == nullptr) return false;
  const GgufArray* tokens = gguf->GetArray("tokenizer.ggml.tokens");
  if (tokens == nullptr) return false;
  for (const GgufValue& v : tokens->items) {
    if (auto s = v.as_string(); s && *s == text) return true;
  }
  return false;
}

}  // namespace

Result<ModelChatTraits> ChatTraitsCache::Get(ApiBackend& backend, const ModelInfo& info) {
  const std::string key = info.name + '\0' + info.digest;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (auto it = by_model_.find(key); it != by_model_.end()) return it->second;
  }
  JARVIS_ASSIGN_OR_RETURN(nlohmann::json shown, backend.ShowModel(info.name));
  std::string tmpl;
  if (auto it = shown.find("chat_template"); it != shown.end() && it->is_string()) tmpl = it->get<std::string>();
  std::unique_ptr<GgufFile> gguf;
  if (auto opened = GgufFile::Open(info.path); opened.ok()) gguf = std::move(opened).value();
  ModelChatTraits traits;
  traits.tool_format = chat::SelectToolCallFormat(tmpl, [&](std::string_view t) { return VocabularyHas(gguf.get(), t); });
  traits.reasoning = chat::ReasoningTraitsOfTemplate(tmpl);
  if (!traits.reasoning.thinks) traits.reasoning.thinks = VocabularyHas(gguf.get(), "<think>");
  std::lock_guard<std::mutex> lock(mu_);
  by_model_[key] = traits;
  return traits;
}

}  // namespace jarvis::api
