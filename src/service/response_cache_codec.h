// The byte format of a response-cache entry stored outside the process (the
// Redis backend). Bytes read back from a shared store are untrusted: another
// deployment, an older jarvis, a truncated write or an operator's SET may have
// put anything under the key. A value is served only if it decodes completely
// under this layout:
//
//   "JRVC" | u32 format version | u64 payload length | u64 XXH64(payload) | payload
//   payload = key | text | tokens | finish | prompt/cached/completion counts | events
//
// (integers little-endian as the machine writes them; strings and arrays are
// length-prefixed). The payload repeats the full cache key, so a value stored
// under a colliding or copied Redis key is rejected, never served.
//
// When GenerateResult gains a field that a cached answer must carry, add it
// to the payload and bump kResponseCodecVersion.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "service/response_cache.h"

namespace jarvis {

inline constexpr uint32_t kResponseCodecVersion = 2;  // 2: log-probabilities
inline constexpr uint64_t kResponseCodecChecksumSeed = 0x6a61727669732d72;  // "jarvis-r"

// The stored form of `value` under the full cache key `key`.
std::string EncodeCachedResponse(std::string_view key, const CachedResponse& value);

// The response, or nullopt when `bytes` is not a complete, intact value for
// `key` (wrong magic or version, bad length or checksum, another key, an
// unfinished result, trailing bytes) or is larger than `max_bytes`.
std::optional<CachedResponse> DecodeCachedResponse(std::string_view bytes, std::string_view key, size_t max_bytes);

}  // namespace jarvis
