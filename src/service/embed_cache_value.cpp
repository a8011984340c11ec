#include "service/embed_cache_value.h"

#include <bit>
#include <cstdint>
#include <cstring>

namespace jarvis {
namespace {

void AppendLe32(std::string& out, float v) {
  const uint32_t bits = std::bit_cast<uint32_t>(v);
  for (int i = 0; i < 4; ++i) out += static_cast<char>((bits >> (8 * i)) & 0xff);
}

float ReadLe32(const char* p) {
  uint32_t bits = 0;
  for (int i = 0; i < 4; ++i) bits |= static_cast<uint32_t>(static_cast<unsigned char>(p[i])) << (8 * i);
  return std::bit_cast<float>(bits);
}

}  // namespace

GenerateResult EmbedResultToCacheValue(const EmbedResult& result) {
  GenerateResult v;
  v.finish = FinishReason::kStop;
  v.tokens = {static_cast<int32_t>(result.embeddings.size()), result.prompt_tokens};
  size_t n = 0;
  for (const auto& e : result.embeddings) n += e.size();
  v.text.reserve(n * 4);
  for (const auto& e : result.embeddings) {
    for (float x : e) AppendLe32(v.text, x);
  }
  v.prompt_tokens = result.prompt_tokens;
  return v;
}

std::optional<EmbedResult> EmbedResultFromCacheValue(const GenerateResult& value) {
  if (value.tokens.size() != 2 || value.tokens[0] <= 0 || value.tokens[1] < 0) return std::nullopt;
  const size_t rows = static_cast<size_t>(value.tokens[0]);
  if (value.text.size() % 4 != 0) return std::nullopt;
  const size_t floats = value.text.size() / 4;
  if (floats == 0 || floats % rows != 0) return std::nullopt;
  const size_t width = floats / rows;
  EmbedResult r;
  r.prompt_tokens = value.tokens[1];
  r.embeddings.resize(rows);
  const char* p = value.text.data();
  for (auto& row : r.embeddings) {
    row.resize(width);
    for (float& x : row) {
      x = ReadLe32(p);
      p += 4;
    }
  }
  return r;
}

}  // namespace jarvis
