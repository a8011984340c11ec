// ResponseCache: exact-match cache of completed generations.
//
// Key: the model's content digest (plus whatever engine settings the caller
// folds into it) and the normalised request: the prompt (token ids, chat
// messages as role + content, or raw text), add_special, EVERY SamplingParams
// field (floats by bit pattern, -0 folded into +0; logit_bias in order), seed
// and has_seed, max_tokens, stop strings (in order), ignore_eos, tools_json,
// chat_template_kwargs_json and grammar. Each part is
// length-prefixed, so no two different requests share a key. The full key is
// stored and compared (no hash collisions).
//
// Embedding requests (jarvis/embed.h) share the cache: MakeEmbedKey keys
// them on the model digest, the inputs (texts or token arrays, in order),
// truncate and dimensions; their value is an EmbedResult packed into a
// GenerateResult (service/embed_cache_value.h). Embeddings are deterministic,
// so every request with use_response_cache = true is cacheable.
//
// Only deterministic requests are cacheable: temperature <= 0 (greedy) or an
// explicit seed, and use_response_cache = true. Only results that finished
// normally (stop, length) are stored; cancelled and failed ones never are.
// Entries expire `ttl` after insertion (a hit does not extend it); the total
// size is bounded by `capacity_bytes`, evicting least recently used entries.
// An entry's size is its payload (key, text, token ids, streamed pieces) plus
// a fixed overhead of kEntryOverheadBytes for the bookkeeping.
//
// Thread safety: every method may be called from any thread (one mutex).
#pragma once

#include <chrono>
#include <cstdint>
#include <list>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "jarvis/embed.h"
#include "jarvis/request.h"
#include "util/perf_monitor.h"  // SteadyClockFn

namespace jarvis {

struct ResponseCacheOptions {
  std::chrono::milliseconds ttl{std::chrono::seconds(300)};  // <= 0: disabled
  size_t capacity_bytes = size_t{64} << 20;                  // 0: disabled
  SteadyClockFn clock;  // empty: steady_clock::now (tests inject one)
};

struct ResponseCacheStats {
  int64_t hits = 0;
  int64_t misses = 0;
  int64_t insertions = 0;
  int64_t evictions = 0;    // dropped to make room (LRU)
  int64_t expirations = 0;  // dropped because their TTL passed
  int64_t rejected = 0;     // not stored: unfinished result or larger than the capacity
  size_t bytes = 0;
  size_t entries = 0;
  size_t capacity_bytes = 0;
  double ttl_seconds = 0.0;
  double hit_rate = 0.0;  // hits / (hits + misses), 0 when none
};

// What a hit gives back: the result and the streamed pieces, to replay.
struct CachedResponse {
  GenerateResult result;
  std::vector<TokenEvent> events;
};

class ResponseCache {
 public:
  static constexpr size_t kEntryOverheadBytes = 256;

  explicit ResponseCache(ResponseCacheOptions options = {});
  ResponseCache(const ResponseCache&) = delete;
  ResponseCache& operator=(const ResponseCache&) = delete;

  bool enabled() const { return options_.ttl.count() > 0 && options_.capacity_bytes > 0; }

  // Deterministic (temperature <= 0 or has_seed) and not opted out.
  static bool IsCacheable(const GenerateRequest& request);
  // The normalised identity of `request` for the model `model_digest`.
  static std::string MakeKey(std::string_view model_digest, const GenerateRequest& request);
  static std::string MakeEmbedKey(std::string_view model_digest, const EmbedRequest& request);

  // A live entry (counted as a hit; becomes most recently used) or nullopt
  // (counted as a miss).
  std::optional<CachedResponse> Lookup(const std::string& key);
  // Stores a finished result (replacing an entry with the same key). False
  // (counted as rejected) when disabled, unfinished (cancelled, error) or
  // larger than the capacity.
  bool Insert(const std::string& key, const GenerateResult& result, std::vector<TokenEvent> events = {});
  void Clear();
  // Drops expired entries first, so bytes and entries are live figures.
  ResponseCacheStats Stats();

 private:
  using TimePoint = std::chrono::steady_clock::time_point;
  struct Entry {
    std::string key;
    CachedResponse value;
    size_t bytes = 0;
    TimePoint expires;
    std::multimap<TimePoint, std::string_view>::iterator expiry_it;
  };
  TimePoint Now() const;
  void PurgeExpiredLocked(TimePoint now);
  void EraseLocked(std::list<Entry>::iterator it);

  const ResponseCacheOptions options_;
  std::mutex mu_;
  std::list<Entry> lru_;  // front: most recently used
  std::unordered_map<std::string_view, std::list<Entry>::iterator> index_;  // views into Entry::key
  std::multimap<TimePoint, std::string_view> expiry_;
  ResponseCacheStats stats_;  // counters; bytes/entries kept live
};

}  // namespace jarvis
