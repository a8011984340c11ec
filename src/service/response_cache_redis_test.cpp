// RedisResponseCache against a real redis-server started on a free loopback
// port in a temporary directory (skipped where redis-server is not installed;
// scripts/bootstrap installs it).
#include "service/response_cache_redis.h"

#include <arpa/inet.h>
#include <hiredis/hiredis.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <thread>

#include "service/response_cache_codec.h"

extern char** environ;

namespace jarvis {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

bool HaveRedis() { return std::system("command -v redis-server >/dev/null 2>&1") == 0; }

int FreePort() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(a);
  if (bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
    close(fd);
    return 0;
  }
  close(fd);
  return ntohs(a.sin_port);
}

// A redis-server of the test's own; stopped (SIGTERM, waited for) on Stop().
class RedisProcess {
 public:
  explicit RedisProcess(std::vector<std::string> extra = {}, int port = 0) : extra_(std::move(extra)) {
    dir_ = std::filesystem::temp_directory_path() / ("jarvis-redis-" + std::to_string(getpid()) + "-" +
                                                     std::to_string(Clock::now().time_since_epoch().count()));
    std::filesystem::create_directories(dir_);
    port_ = port != 0 ? port : FreePort();
  }
  ~RedisProcess() {
    Stop();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  bool Start() {
    std::vector<std::string> args = {"redis-server", "--port", std::to_string(port_), "--bind", "127.0.0.1",
                                     "--save", "", "--appendonly", "no", "--dir", dir_.string(),
                                     "--logfile", (dir_ / "redis.log").string()};
    args.insert(args.end(), extra_.begin(), extra_.end());
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    if (posix_spawnp(&pid_, "redis-server", nullptr, nullptr, argv.data(), environ) != 0) return false;
    for (auto deadline = Clock::now() + 5s; Clock::now() < deadline; std::this_thread::sleep_for(10ms)) {
      const std::string pong = Command("PING");
      if (pong == "PONG" || pong.rfind("NOAUTH", 0) == 0) return true;
    }
    return false;
  }
  void Stop() {
    if (pid_ <= 0) return;
    kill(pid_, SIGTERM);
    waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }
  // One command on a fresh connection; the reply as text ("" on failure).
  std::string Command(const std::string& command, const std::vector<std::string>& args = {}) const {
    redisContext* c = redisConnectWithTimeout("127.0.0.1", port_, timeval{1, 0});
    if (c == nullptr || c->err) {
      if (c) redisFree(c);
      return "";
    }
    std::vector<const char*> argv = {command.c_str()};
    std::vector<size_t> lens = {command.size()};
    for (const auto& a : args) {
      argv.push_back(a.data());
      lens.push_back(a.size());
    }
    auto* r = static_cast<redisReply*>(redisCommandArgv(c, static_cast<int>(argv.size()), argv.data(), lens.data()));
    std::string out;
    if (r != nullptr) {
      if (r->type == REDIS_REPLY_STATUS || r->type == REDIS_REPLY_STRING || r->type == REDIS_REPLY_ERROR) {
        out.assign(r->str, r->len);
      } else if (r->type == REDIS_REPLY_INTEGER) {
        out = std::to_string(r->integer);
      }
      freeReplyObject(r);
    }
    redisFree(c);
    return out;
  }
  int port() const { return port_; }

 private:
  std::vector<std::string> extra_;
  std::filesystem::path dir_;
  int port_ = 0;
  pid_t pid_ = -1;
};

RedisCacheOptions Options(int port, std::string password = "") {
  RedisCacheOptions o;
  o.endpoint.host = "127.0.0.1";
  o.endpoint.port = port;
  o.endpoint.password = std::move(password);
  o.key_prefix = "test:";
  o.backoff_min = 20ms;
  o.backoff_max = 200ms;
  return o;
}

CachedResponse Answer(const std::string& text) {
  CachedResponse v;
  v.result.text = text;
  v.result.tokens = {1, 2};
  v.result.finish = FinishReason::kStop;
  v.result.completion_tokens = 2;
  v.events = {{1, text.substr(0, 1)}, {2, text.substr(1)}};
  return v;
}

template <typename Pred>
bool WaitFor(Pred pred, std::chrono::milliseconds limit = 5000ms) {
  for (auto deadline = Clock::now() + limit; Clock::now() < deadline; std::this_thread::sleep_for(5ms)) {
    if (pred()) return true;
  }
  return pred();
}

class RedisCacheTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!HaveRedis()) GTEST_SKIP() << "redis-server not installed (scripts/bootstrap installs it)";
  }
};

TEST(RedisUrlTest, ParsesHostPortDbAndCredentials) {
  auto e = ParseRedisUrl("redis://cache.local:6380/3");
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  EXPECT_EQ(e->host, "cache.local");
  EXPECT_EQ(e->port, 6380);
  EXPECT_EQ(e->db, 3);
  EXPECT_TRUE(e->password.empty());
  e = ParseRedisUrl("redis://:s%40cret@10.0.0.1");
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->host, "10.0.0.1");
  EXPECT_EQ(e->port, 6379);
  EXPECT_EQ(e->password, "s@cret");
  EXPECT_TRUE(e->user.empty());
  EXPECT_EQ(e->Describe(), "redis://10.0.0.1:6379/0");  // no credentials
  e = ParseRedisUrl("redis://jarvis:pw@[::1]:7000/");
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->user, "jarvis");
  EXPECT_EQ(e->password, "pw");
  EXPECT_EQ(e->host, "::1");
  EXPECT_EQ(e->port, 7000);
  EXPECT_EQ(e->Describe(), "redis://[::1]:7000/0");
  for (const char* bad : {"http://x:1", "redis://", "redis://:pw@", "redis://h:", "redis://h:0", "redis://h:70000",
                          "redis://h:1/x", "redis://h/-1", "redis://[::1", "redis://%zz@h", "redis://h:1x"}) {
    EXPECT_FALSE(ParseRedisUrl(bad).ok()) << bad;
  }
}

TEST_F(RedisCacheTest, AnAnswerStoredByOneReplicaIsFoundByAnother) {
  RedisProcess redis;
  ASSERT_TRUE(redis.Start());
  RedisResponseCache a(Options(redis.port()));
  RedisResponseCache b(Options(redis.port()));
  ASSERT_TRUE(WaitFor([&] { return a.Stats().connected && b.Stats().connected; }));
  EXPECT_FALSE(b.Lookup("k1").has_value());
  a.Store("k1", Answer("hello"));
  ASSERT_TRUE(WaitFor([&] { return a.Stats().stores == 1; }));
  auto hit = b.Lookup("k1");
  ASSERT_TRUE(hit.has_value());
  EXPECT_EQ(hit->result.text, "hello");
  ASSERT_EQ(hit->events.size(), 2u);
  EXPECT_EQ(hit->events[1].text, "ello");
  EXPECT_EQ(b.Stats().hits, 1);
  EXPECT_EQ(b.Stats().misses, 1);
  // TTL is Redis's expiry; another prefix is another namespace.
  const int64_t pttl = std::stoll(redis.Command("PTTL", {a.RedisKey("k1")}));
  EXPECT_GT(pttl, 0);
  EXPECT_LE(pttl, 300000);
  RedisCacheOptions other = Options(redis.port());
  other.key_prefix = "other:";
  RedisResponseCache c(other);
  ASSERT_TRUE(WaitFor([&] { return c.Stats().connected; }));
  EXPECT_FALSE(c.Lookup("k1").has_value());
}

TEST_F(RedisCacheTest, CorruptOrForeignValuesAreIgnored) {
  RedisProcess redis;
  ASSERT_TRUE(redis.Start());
  RedisResponseCache cache(Options(redis.port()));
  ASSERT_TRUE(WaitFor([&] { return cache.Stats().connected; }));
  ASSERT_EQ(redis.Command("SET", {cache.RedisKey("k1"), "not a jarvis value"}), "OK");
  EXPECT_FALSE(cache.Lookup("k1").has_value());
  // A valid value, but for another key, copied under this one.
  ASSERT_EQ(redis.Command("SET", {cache.RedisKey("k2"), EncodeCachedResponse("k3", Answer("x"))}), "OK");
  EXPECT_FALSE(cache.Lookup("k2").has_value());
  // Truncated.
  std::string cut = EncodeCachedResponse("k4", Answer("hello"));
  cut.pop_back();
  ASSERT_EQ(redis.Command("SET", {cache.RedisKey("k4"), cut}), "OK");
  EXPECT_FALSE(cache.Lookup("k4").has_value());
  // Huge: only the first max_value_bytes + 64 KiB + 1 bytes are read.
  ASSERT_EQ(redis.Command("SET", {cache.RedisKey("k5"), std::string(3 << 20, 'x')}), "OK");
  EXPECT_FALSE(cache.Lookup("k5").has_value());
  EXPECT_EQ(cache.Stats().invalid, 4);
  // Another type under the key: a command error, not an outage.
  ASSERT_EQ(redis.Command("HSET", {cache.RedisKey("k6"), "f", "v"}), "1");
  EXPECT_FALSE(cache.Lookup("k6").has_value());
  EXPECT_EQ(cache.Stats().errors, 1);
  EXPECT_EQ(cache.Stats().hits, 0);
  EXPECT_TRUE(cache.Stats().connected);
  // Still usable.
  cache.Store("k7", Answer("fine"));
  ASSERT_TRUE(WaitFor([&] { return cache.Stats().stores == 1; }));
  EXPECT_TRUE(cache.Lookup("k7").has_value());
}

TEST_F(RedisCacheTest, RedisDownSkipsAtOnceAndSharingResumesWhenItIsBack) {
  auto redis = std::make_unique<RedisProcess>();
  ASSERT_TRUE(redis->Start());
  const int port = redis->port();
  RedisResponseCache cache(Options(port));
  ASSERT_TRUE(WaitFor([&] { return cache.Stats().connected; }));
  redis->Stop();
  const auto t0 = Clock::now();
  EXPECT_FALSE(cache.Lookup("k1").has_value());  // finds the connection dead
  EXPECT_FALSE(cache.Lookup("k1").has_value());  // skipped: no I/O while down
  EXPECT_LT(Clock::now() - t0, 1s);
  EXPECT_FALSE(cache.Stats().connected);
  EXPECT_GE(cache.Stats().errors, 1);
  EXPECT_GE(cache.Stats().skipped, 1);
  cache.Store("k1", Answer("dropped"));  // dropped, not queued forever
  EXPECT_GE(cache.Stats().dropped_stores, 1);

  // Same port, new server: the background thread reconnects with backoff.
  RedisProcess again({}, port);
  ASSERT_TRUE(again.Start());
  const bool reconnected = WaitFor([&] { return cache.Stats().connected; });
  cache.Store("k2", Answer("again"));
  const bool stored = WaitFor([&] { return cache.Stats().stores >= 1; });
  auto hit = cache.Lookup("k2");
  ASSERT_TRUE(reconnected);
  ASSERT_TRUE(stored);
  ASSERT_TRUE(hit.has_value());
  EXPECT_EQ(hit->result.text, "again");
  EXPECT_GE(cache.Stats().reconnects, 2);
}

TEST_F(RedisCacheTest, ASlowRedisCostsALookupOnlyTheCommandTimeout) {
  RedisProcess redis({"--enable-debug-command", "yes"});
  ASSERT_TRUE(redis.Start());
  RedisResponseCache cache(Options(redis.port()));
  ASSERT_TRUE(WaitFor([&] { return cache.Stats().connected; }));
  std::thread sleeper([&] { redis.Command("DEBUG", {"SLEEP", "1.5"}); });
  std::this_thread::sleep_for(200ms);  // let DEBUG SLEEP take the server
  const auto t0 = Clock::now();
  EXPECT_FALSE(cache.Lookup("k1").has_value());
  const auto took = Clock::now() - t0;
  sleeper.join();
  EXPECT_LT(took, 1000ms);  // 50 ms timeout; the server itself is stuck for 1.5 s
  EXPECT_GE(cache.Stats().errors, 1);
  // Back to normal once Redis answers again.
  ASSERT_TRUE(WaitFor([&] { return cache.Stats().connected; }));
  EXPECT_FALSE(cache.Lookup("k1").has_value());
  EXPECT_EQ(cache.Stats().misses, 1);
}

TEST_F(RedisCacheTest, AFullRedisRefusesStoresWithoutTakingLookupsDown) {
  RedisProcess redis({"--maxmemory-policy", "noeviction"});
  ASSERT_TRUE(redis.Start());
  RedisResponseCache cache(Options(redis.port()));
  ASSERT_TRUE(WaitFor([&] { return cache.Stats().connected; }));
  // Full: any write is refused with OOM once the memory in use exceeds the limit.
  ASSERT_EQ(redis.Command("CONFIG", {"SET", "maxmemory", "1"}), "OK");
  ASSERT_EQ(redis.Command("SET", {"probe", "x"}).rfind("OOM", 0), 0u);
  cache.Store("k1", Answer("no room"));
  ASSERT_TRUE(WaitFor([&] { return cache.Stats().errors >= 1; }));
  EXPECT_EQ(cache.Stats().stores, 0);
  EXPECT_TRUE(cache.Stats().connected);
  EXPECT_FALSE(cache.Lookup("k1").has_value());
  EXPECT_EQ(cache.Stats().misses, 1);
}

TEST_F(RedisCacheTest, PasswordsAreSentAndAWrongOneNeverConnects) {
  RedisProcess redis({"--requirepass", "s3cret"});
  ASSERT_TRUE(redis.Start());
  RedisResponseCache good(Options(redis.port(), "s3cret"));
  ASSERT_TRUE(WaitFor([&] { return good.Stats().connected; }));
  good.Store("k1", Answer("secret"));
  ASSERT_TRUE(WaitFor([&] { return good.Stats().stores == 1; }));
  EXPECT_TRUE(good.Lookup("k1").has_value());
  RedisResponseCache bad(Options(redis.port(), "wrong"));
  ASSERT_TRUE(WaitFor([&] { return bad.Stats().errors >= 2; }));
  EXPECT_FALSE(bad.Stats().connected);
  EXPECT_FALSE(bad.Lookup("k1").has_value());
  EXPECT_EQ(bad.Stats().endpoint.find("wrong"), std::string::npos);
}

}  // namespace
}  // namespace jarvis
