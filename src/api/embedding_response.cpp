#include "api/embedding_response.h"

#include <algorithm>
#include <bit>
#include <cstdint>

namespace jarvis::api {
namespace {

int64_t Ns(double ms) { return static_cast<int64_t>(ms * 1e6); }

}  // namespace

std::string Base64Floats(std::span<const float> values) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string bytes;
  bytes.reserve(values.size() * 4);
  for (float v : values) {
    const uint32_t bits = std::bit_cast<uint32_t>(v);
    for (int i = 0; i < 4; ++i) bytes += static_cast<char>((bits >> (8 * i)) & 0xff);
  }
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  for (size_t i = 0; i < bytes.size(); i += 3) {
    const size_t n = std::min<size_t>(3, bytes.size() - i);
    uint32_t chunk = 0;
    for (size_t k = 0; k < 3; ++k) {
      chunk = (chunk << 8) | (k < n ? static_cast<unsigned char>(bytes[i + k]) : 0u);
    }
    for (size_t k = 0; k < 4; ++k) out += k <= n ? kAlphabet[(chunk >> (18 - 6 * k)) & 63] : '=';
  }
  return out;
}

nlohmann::json OpenAiEmbeddingJson(const EmbedResult& result, const std::string& model, bool base64) {
  nlohmann::json data = nlohmann::json::array();
  for (size_t i = 0; i < result.embeddings.size(); ++i) {
    const auto& e = result.embeddings[i];
    data.push_back({{"object", "embedding"},
                    {"index", i},
                    {"embedding", base64 ? nlohmann::json(Base64Floats(e)) : nlohmann::json(e)}});
  }
  return {{"object", "list"},
          {"data", std::move(data)},
          {"model", model},
          {"usage", {{"prompt_tokens", result.prompt_tokens}, {"total_tokens", result.prompt_tokens}}}};
}

nlohmann::json OllamaEmbedJson(const EmbedResult& result, const std::string& model, double load_ms) {
  return {{"model", model},
          {"embeddings", result.embeddings},
          {"total_duration", Ns(result.timings.total_ms + load_ms)},
          {"load_duration", Ns(load_ms)},
          {"prompt_eval_count", result.prompt_tokens}};
}

nlohmann::json OllamaLegacyEmbeddingJson(const EmbedResult& result) {
  return {{"embedding", result.embeddings.empty() ? std::vector<float>{} : result.embeddings.front()}};
}

}  // namespace jarvis::api
