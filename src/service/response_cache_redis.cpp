#include "service/response_cache_redis.h"

#include <hiredis/hiredis.h>
#include <spdlog/spdlog.h>
#include <sys/time.h>
#include <xxhash.h>

#include <atomic>
#include <charconv>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "service/response_cache_codec.h"

namespace jarvis {
namespace {

using Clock = std::chrono::steady_clock;

struct ContextFree {
  void operator()(redisContext* c) const { redisFree(c); }
};
using Connection = std::unique_ptr<redisContext, ContextFree>;
struct ReplyFree {
  void operator()(redisReply* r) const { freeReplyObject(r); }
};
using Reply = std::unique_ptr<redisReply, ReplyFree>;

timeval ToTimeval(std::chrono::milliseconds ms) {
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(ms.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((ms.count() % 1000) * 1000);
  return tv;
}

Result<std::string> PercentDecode(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out += s[i];
      continue;
    }
    int v = 0;
    if (i + 2 >= s.size()) return Status::InvalidArgument("bad %-escape in the cache URL");
    auto [p, ec] = std::from_chars(s.data() + i + 1, s.data() + i + 3, v, 16);
    if (ec != std::errc() || p != s.data() + i + 3) return Status::InvalidArgument("bad %-escape in the cache URL");
    out += static_cast<char>(v);
    i += 2;
  }
  return out;
}

Result<int> ParseInt(std::string_view s, int lo, int hi, const char* what) {
  int v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || p != s.data() + s.size() || v < lo || v > hi) {
    return Status::InvalidArgument(fmt::format("cache URL: {} must be an integer in {}..{}", what, lo, hi));
  }
  return v;
}

}  // namespace

std::string RedisEndpoint::Describe() const {
  const bool v6 = host.find(':') != std::string::npos;
  return fmt::format("redis://{}{}{}:{}/{}", v6 ? "[" : "", host, v6 ? "]" : "", port, db);
}

Result<RedisEndpoint> ParseRedisUrl(std::string_view url) {
  constexpr std::string_view kScheme = "redis://";
  if (url.substr(0, kScheme.size()) != kScheme) {
    return Status::InvalidArgument("cache URL must start with redis:// (rediss:// TLS is not supported)");
  }
  std::string_view rest = url.substr(kScheme.size());
  RedisEndpoint e;
  if (const size_t at = rest.rfind('@'); at != std::string_view::npos) {
    const std::string_view credentials = rest.substr(0, at);
    rest = rest.substr(at + 1);
    const size_t colon = credentials.find(':');
    if (colon == std::string_view::npos) {
      JARVIS_ASSIGN_OR_RETURN(e.password, PercentDecode(credentials));  // redis://PASSWORD@host
    } else {
      JARVIS_ASSIGN_OR_RETURN(e.user, PercentDecode(credentials.substr(0, colon)));
      JARVIS_ASSIGN_OR_RETURN(e.password, PercentDecode(credentials.substr(colon + 1)));
    }
  }
  std::string_view hostport = rest;
  if (const size_t slash = rest.find('/'); slash != std::string_view::npos) {
    hostport = rest.substr(0, slash);
    const std::string_view db = rest.substr(slash + 1);
    if (!db.empty()) {
      JARVIS_ASSIGN_OR_RETURN(e.db, ParseInt(db, 0, 1 << 20, "the database number"));
    }
  }
  std::string_view port;
  if (!hostport.empty() && hostport.front() == '[') {  // [v6]:port
    const size_t close = hostport.find(']');
    if (close == std::string_view::npos) return Status::InvalidArgument("cache URL: unterminated [IPv6] host");
    e.host = std::string(hostport.substr(1, close - 1));
    const std::string_view after = hostport.substr(close + 1);
    if (!after.empty() && after.front() != ':') return Status::InvalidArgument("cache URL: junk after the host");
    if (!after.empty()) port = after.substr(1);
    if (after.size() == 1) return Status::InvalidArgument("cache URL: empty port");
  } else {
    const size_t colon = hostport.rfind(':');
    e.host = std::string(hostport.substr(0, colon));
    if (colon != std::string_view::npos) {
      port = hostport.substr(colon + 1);
      if (port.empty()) return Status::InvalidArgument("cache URL: empty port");
    }
  }
  if (e.host.empty()) return Status::InvalidArgument("cache URL: no host");
  if (!port.empty()) {
    JARVIS_ASSIGN_OR_RETURN(e.port, ParseInt(port, 1, 65535, "the port"));
  }
  return e;
}

class RedisResponseCache::Impl {
 public:
  explicit Impl(RedisCacheOptions options) : o_(std::move(options)), backoff_(o_.backoff_min) {
    worker_ = std::thread([this] { Run(); });
  }
  ~Impl() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    worker_.join();
  }

  std::string RedisKey(std::string_view key) const {
    const XXH128_hash_t h = XXH3_128bits(key.data(), key.size());
    return fmt::format("{}response:{:016x}{:016x}", o_.key_prefix, h.high64, h.low64);
  }

  std::optional<CachedResponse> Lookup(const std::string& key) {
    Connection c;
    uint64_t generation = 0;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!up_ || idle_.empty()) {
        ++skipped_;
        return std::nullopt;
      }
      c = std::move(idle_.back());
      idle_.pop_back();
      generation = generation_;
    }
    const std::string rkey = RedisKey(key);
    // GETRANGE reads at most one byte more than a valid value may have, so a
    // huge foreign value costs no more than that. A missing key reads as "".
    Reply reply(static_cast<redisReply*>(redisCommand(c.get(), "GETRANGE %b 0 %lld", rkey.data(), rkey.size(),
                                                      static_cast<long long>(MaxStoredBytes()))));
    std::optional<CachedResponse> found;
    if (!reply) {
      ++errors_;
      MarkDown(c->errstr);
      return std::nullopt;
    }
    if (reply->type == REDIS_REPLY_NIL || (reply->type == REDIS_REPLY_STRING && reply->len == 0)) {
      ++misses_;
    } else if (reply->type == REDIS_REPLY_STRING) {
      found = DecodeCachedResponse(std::string_view(reply->str, reply->len), key, MaxStoredBytes());
      ++(found ? hits_ : invalid_);
    } else {
      ++errors_;
      WarnLimited(fmt::format("GETRANGE failed: {}", reply->type == REDIS_REPLY_ERROR ? reply->str : "unexpected reply"));
    }
    Return(std::move(c), generation);
    return found;
  }

  void Store(const std::string& key, CachedResponse value) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!up_ || pending_.size() >= o_.max_pending_stores) {
        ++dropped_stores_;
        return;
      }
      pending_.emplace_back(key, std::move(value));
    }
    cv_.notify_all();
  }

  RedisCacheStats Stats() const {
    RedisCacheStats s;
    s.endpoint = o_.endpoint.Describe();
    {
      std::lock_guard<std::mutex> lock(mu_);
      s.connected = up_;
    }
    s.hits = hits_;
    s.misses = misses_;
    s.skipped = skipped_;
    s.errors = errors_;
    s.invalid = invalid_;
    s.stores = stores_;
    s.dropped_stores = dropped_stores_;
    s.reconnects = reconnects_;
    return s;
  }

 private:
  // The header and the repeated key come on top of the answer itself.
  size_t MaxStoredBytes() const { return o_.max_value_bytes + 64 * 1024; }

  Result<Connection> Connect() const {
    const RedisEndpoint& e = o_.endpoint;
    Connection c(redisConnectWithTimeout(e.host.c_str(), e.port, ToTimeval(o_.connect_timeout)));
    if (!c) return Status::IoError("out of memory");
    if (c->err) return Status::IoError(c->errstr);
    redisSetTimeout(c.get(), ToTimeval(o_.command_timeout));
    auto command_ok = [&c](Reply r) -> Status {
      if (!r) return Status::IoError(c->errstr);
      if (r->type == REDIS_REPLY_ERROR) return Status::IoError(r->str);
      return Status::Ok();
    };
    if (!e.password.empty()) {
      // The password goes only into the command; errors name the command, not it.
      Reply r(static_cast<redisReply*>(
          e.user.empty() ? redisCommand(c.get(), "AUTH %b", e.password.data(), e.password.size())
                         : redisCommand(c.get(), "AUTH %b %b", e.user.data(), e.user.size(), e.password.data(),
                                        e.password.size())));
      if (Status s = command_ok(std::move(r)); !s.ok()) return Status::IoError("AUTH: " + s.message());
    }
    if (e.db != 0) {
      if (Status s = command_ok(Reply(static_cast<redisReply*>(redisCommand(c.get(), "SELECT %d", e.db))));
          !s.ok()) {
        return Status::InvalidArgument("SELECT: " + s.message());
      }
    }
    return c;
  }

  void Return(Connection c, uint64_t generation) {
    std::lock_guard<std::mutex> lock(mu_);
    if (up_ && generation == generation_) idle_.push_back(std::move(c));
  }

  void MarkDown(const std::string& reason) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!up_) return;
      up_ = false;
      ++generation_;
      idle_.clear();
      dropped_stores_ += static_cast<int64_t>(pending_.size());
      pending_.clear();
      backoff_ = o_.backoff_min;
      next_attempt_ = Clock::now() + backoff_;
      last_warning_ = Clock::now();  // failed reconnections stay quiet for a minute
      warned_once_ = true;
    }
    spdlog::warn("response cache: {} unavailable ({}); answering from the local cache and the model, reconnecting",
                 o_.endpoint.Describe(), reason);
    cv_.notify_all();
  }

  // At most one warning a minute for errors that do not take Redis down
  // (e.g. OOM when it is full) and for failed reconnections.
  void WarnLimited(const std::string& what) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      const auto now = Clock::now();
      if (warned_once_ && now - last_warning_ < std::chrono::minutes(1)) return;
      warned_once_ = true;
      last_warning_ = now;
    }
    spdlog::warn("response cache: {}: {}", o_.endpoint.Describe(), what);
  }

  void TryConnect() {
    Result<Connection> writer = Connect();
    std::vector<Connection> readers;
    for (int i = 0; writer.ok() && i < o_.read_connections; ++i) {
      Result<Connection> r = Connect();
      if (!r.ok()) {
        writer = r.status();
        break;
      }
      readers.push_back(std::move(r).value());
    }
    if (!writer.ok()) {
      ++errors_;
      {
        std::lock_guard<std::mutex> lock(mu_);
        next_attempt_ = Clock::now() + backoff_;
        backoff_ = std::min(backoff_ * 2, o_.backoff_max);
      }
      WarnLimited(fmt::format("cannot connect ({}); answering without the shared cache, retrying",
                              writer.status().message()));
      return;
    }
    writer_ = std::move(writer).value();
    bool after_trouble = false;
    {
      std::lock_guard<std::mutex> lock(mu_);
      idle_ = std::move(readers);
      up_ = true;
      backoff_ = o_.backoff_min;
      after_trouble = warned_once_;
    }
    if (reconnects_++ > 0 || after_trouble) spdlog::info("response cache: {} connected", o_.endpoint.Describe());
  }

  void Write(const std::string& key, const CachedResponse& value) {
    const std::string bytes = EncodeCachedResponse(key, value);
    if (bytes.size() > MaxStoredBytes() || value.result.text.size() > o_.max_value_bytes) {
      ++dropped_stores_;
      return;
    }
    const std::string rkey = RedisKey(key);
    Reply reply(static_cast<redisReply*>(redisCommand(writer_.get(), "SET %b %b PX %lld", rkey.data(), rkey.size(),
                                                      bytes.data(), bytes.size(),
                                                      static_cast<long long>(o_.ttl.count()))));
    if (!reply) {
      ++errors_;
      ++dropped_stores_;
      MarkDown(writer_->errstr);
    } else if (reply->type == REDIS_REPLY_ERROR) {
      ++errors_;
      ++dropped_stores_;
      WarnLimited(fmt::format("SET failed: {}", reply->str));
    } else {
      ++stores_;
    }
  }

  void Run() {
    std::unique_lock<std::mutex> lock(mu_);
    while (!stop_) {
      if (!up_) {
        if (Clock::now() < next_attempt_) {
          cv_.wait_until(lock, next_attempt_, [this] { return stop_; });
          continue;
        }
        writer_.reset();
        lock.unlock();
        TryConnect();
        lock.lock();
        continue;
      }
      if (pending_.empty()) {
        cv_.wait(lock, [this] { return stop_ || !up_ || !pending_.empty(); });
        continue;
      }
      auto [key, value] = std::move(pending_.front());
      pending_.pop_front();
      lock.unlock();
      Write(key, value);
      lock.lock();
    }
  }

  const RedisCacheOptions o_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;                 // guarded by mu_
  bool up_ = false;                   // guarded by mu_
  uint64_t generation_ = 0;           // guarded by mu_; bumped when Redis goes down
  std::vector<Connection> idle_;      // guarded by mu_: read connections not in use
  std::deque<std::pair<std::string, CachedResponse>> pending_;  // guarded by mu_
  std::chrono::milliseconds backoff_;  // guarded by mu_
  Clock::time_point next_attempt_{};  // guarded by mu_
  Clock::time_point last_warning_{};  // guarded by mu_
  bool warned_once_ = false;          // guarded by mu_
  Connection writer_;                 // the worker thread's own
  std::atomic<int64_t> hits_{0}, misses_{0}, skipped_{0}, errors_{0}, invalid_{0}, stores_{0}, dropped_stores_{0},
      reconnects_{0};
  std::thread worker_;  // last: starts after everything above exists
};

RedisResponseCache::RedisResponseCache(RedisCacheOptions options)
    : impl_(std::make_unique<Impl>(std::move(options))) {}
RedisResponseCache::~RedisResponseCache() = default;
std::optional<CachedResponse> RedisResponseCache::Lookup(const std::string& key) { return impl_->Lookup(key); }
void RedisResponseCache::Store(const std::string& key, CachedResponse value) { impl_->Store(key, std::move(value)); }
RedisCacheStats RedisResponseCache::Stats() const { return impl_->Stats(); }
std::string RedisResponseCache::RedisKey(std::string_view key) const { return impl_->RedisKey(key); }

}  // namespace jarvis
