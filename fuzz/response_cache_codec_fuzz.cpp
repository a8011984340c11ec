// libFuzzer target: DecodeCachedResponse over arbitrary bytes (what a shared
// Redis may hold under a jarvis key) must reject or decode without touching
// memory outside the input and without huge allocations. Raw bytes rarely
// pass the checksum, so the input is also decoded as the payload of a header
// made valid for it, which takes the parser through every field. A decoded
// value is also read as an embedding result (service/embed_cache_value.h),
// whose entries share the cache.
#include <xxhash.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "service/embed_cache_value.h"
#include "service/response_cache_codec.h"

namespace {

volatile size_t g_sink = 0;

void Touch(const std::optional<jarvis::CachedResponse>& r) {
  if (!r) return;
  size_t h = r->result.text.size() + r->result.tokens.size();
  for (const auto& e : r->events) h += e.text.size() + static_cast<size_t>(e.token);
  if (auto embed = jarvis::EmbedResultFromCacheValue(r->result)) {
    for (const auto& v : embed->embeddings) h += v.size();
  }
  g_sink = g_sink + h;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  const size_t key_len = size > 0 ? data[0] % 16 : 0;
  const std::string_view key = in.substr(size > 0 ? 1 : 0, key_len);
  constexpr size_t kMax = 1 << 20;
  Touch(jarvis::DecodeCachedResponse(in, key, kMax));

  // The same bytes as a payload behind a valid header (layout: response_cache_codec.h).
  const std::string_view payload = in.substr(std::min(size, 1 + key_len));
  std::string framed = "JRVC";
  const uint32_t version = jarvis::kResponseCodecVersion;
  const uint64_t length = payload.size();
  const uint64_t checksum = XXH64(payload.data(), payload.size(), jarvis::kResponseCodecChecksumSeed);
  framed.append(reinterpret_cast<const char*>(&version), sizeof(version));
  framed.append(reinterpret_cast<const char*>(&length), sizeof(length));
  framed.append(reinterpret_cast<const char*>(&checksum), sizeof(checksum));
  framed.append(payload);
  Touch(jarvis::DecodeCachedResponse(framed, key, kMax));
  return 0;
}
