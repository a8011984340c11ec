// RedisResponseCache: the response cache's shared level. Replicas that point
// at one Redis answer each other's deterministic requests: a result computed
// by one replica is stored under its cache key and found by every other.
//
// Redis is an optimisation, never a dependency of a request:
//  - Lookups run on the caller's thread (the HTTP worker pool, never the
//    scheduler thread) on one of a few pooled connections, bounded by a short
//    command timeout. With no idle connection, or while Redis is down, a
//    lookup does no I/O at all and reports a miss ("skipped").
//  - Stores are queued (bounded; dropped when full) and written by one
//    background thread, so completing a request never waits for Redis.
//  - The first failure (refused, timeout, I/O error) marks Redis down: the
//    pool is dropped, one warning is logged, and the background thread
//    reconnects with exponential backoff; Redis errors that leave the
//    connection usable (e.g. OOM when full) are counted, warned about at
//    most once a minute, and change nothing else.
//  - Values are self-validating (response_cache_codec.h); anything that does
//    not decode for the key is counted as invalid and ignored.
// Entries expire by Redis's own TTL (SET ... PX). The Redis key is
// `<prefix>response:<hex XXH3-128 of the full cache key>`.
//
// Thread safety: every method may be called from any thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "jarvis/status.h"
#include "service/response_cache.h"

namespace jarvis {

// Parsed `redis://[[USER]:PASSWORD@]HOST[:PORT][/DB]` (PORT 6379, DB 0 by
// default; USER and PASSWORD may be %-encoded).
struct RedisEndpoint {
  std::string host;
  int port = 6379;
  int db = 0;
  std::string user;      // empty: AUTH PASSWORD (or no AUTH without a password)
  std::string password;  // secret: never logged or reported
  // "redis://HOST:PORT/DB" without the credentials, for logs and stats.
  std::string Describe() const;
};
Result<RedisEndpoint> ParseRedisUrl(std::string_view url);

struct RedisCacheOptions {
  RedisEndpoint endpoint;
  std::string key_prefix = "jarvis:";  // several deployments may share one Redis
  std::chrono::milliseconds ttl{std::chrono::seconds(300)};
  size_t max_value_bytes = size_t{1} << 20;  // larger answers stay local only
  std::chrono::milliseconds connect_timeout{200};
  std::chrono::milliseconds command_timeout{50};
  std::chrono::milliseconds backoff_min{100};
  std::chrono::milliseconds backoff_max{5000};
  int read_connections = 4;   // concurrent lookups; more are skipped
  size_t max_pending_stores = 256;
};

struct RedisCacheStats {
  std::string endpoint;   // RedisEndpoint::Describe()
  bool connected = false;
  int64_t hits = 0;
  int64_t misses = 0;     // asked, not there
  int64_t skipped = 0;    // not asked: Redis down or every connection busy
  int64_t errors = 0;     // failed commands and connection attempts
  int64_t invalid = 0;    // values under our key that did not decode: ignored
  int64_t stores = 0;     // values written
  int64_t dropped_stores = 0;  // not written: queue full, too large, or Redis down
  int64_t reconnects = 0; // successful (re)connections
};

class RedisResponseCache {
 public:
  // Starts the background thread, which connects; never fails because Redis
  // is unreachable (the cache then skips until it is back).
  explicit RedisResponseCache(RedisCacheOptions options);
  ~RedisResponseCache();  // stops the thread; pending stores are dropped
  RedisResponseCache(const RedisResponseCache&) = delete;
  RedisResponseCache& operator=(const RedisResponseCache&) = delete;

  // A valid entry for the full cache key, or nullopt (miss, skip, error or
  // invalid value). Blocks at most about command_timeout.
  std::optional<CachedResponse> Lookup(const std::string& key);
  // Queues the entry for writing; returns at once.
  void Store(const std::string& key, CachedResponse value);
  RedisCacheStats Stats() const;
  // The Redis key for a full cache key.
  std::string RedisKey(std::string_view key) const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace jarvis
