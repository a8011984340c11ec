#include "service/model_manager.h"

#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <thread>

namespace jarvis {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using std::chrono::steady_clock;

std::vector<ModelSource> Sources(int n, uint64_t size = 100) {
  std::vector<ModelSource> out;
  for (int i = 0; i < n; ++i) {
    out.push_back({std::string(1, static_cast<char>('a' + i)), "/fake/" + std::to_string(i), size, "d", ""});
  }
  return out;
}

// Counts loads and unloads per model; can be slowed down or made to fail.
struct FakeLoader {
  std::mutex mu;
  std::map<std::string, int> loads, unloads;
  std::atomic<int> live{0};
  milliseconds delay{0};
  std::string fail_name;

  ModelLoader Fn() {
    return [this](const ModelSource& src) -> Result<std::unique_ptr<LoadedModel>> {
      if (delay.count() > 0) std::this_thread::sleep_for(delay);
      {
        std::lock_guard<std::mutex> lock(mu);
        ++loads[src.name];
      }
      if (src.name == fail_name) return Status::Corruption("bad file " + src.name);
      auto m = std::make_unique<LoadedModel>();
      ++live;
      const std::string name = src.name;
      m->payload = std::shared_ptr<void>(new int(0), [this, name](void* p) {
        delete static_cast<int*>(p);
        --live;
        std::lock_guard<std::mutex> lock(mu);
        ++unloads[name];
      });
      return m;
    };
  }
  int Loads(const std::string& n) {
    std::lock_guard<std::mutex> lock(mu);
    return loads[n];
  }
  int Unloads(const std::string& n) {
    std::lock_guard<std::mutex> lock(mu);
    return unloads[n];
  }
};

std::vector<std::string> LoadedNames(ModelManager& m) {
  std::vector<std::string> names;
  for (const auto& st : m.List()) {
    if (st.loaded) names.push_back(st.source.name);
  }
  return names;
}

ModelManagerOptions NoReaper(int32_t max_loaded = 2) {
  ModelManagerOptions o;
  o.max_loaded_models = max_loaded;
  o.start_reaper = false;
  o.keep_alive = std::chrono::minutes(5);
  return o;
}

TEST(ModelManagerTest, LazyLoadAndLeastRecentlyUsedEviction) {
  FakeLoader f;
  ModelManager m(Sources(3), NoReaper(2), f.Fn());
  EXPECT_EQ(m.loaded_count(), 0);  // nothing until first use
  ASSERT_TRUE(m.Acquire("a").ok());
  ASSERT_TRUE(m.Acquire("b").ok());
  ASSERT_TRUE(m.Acquire("a").ok());  // a becomes most recent
  EXPECT_EQ(LoadedNames(m), (std::vector<std::string>{"a", "b"}));
  ASSERT_TRUE(m.Acquire("c").ok());  // evicts b, the least recently used
  EXPECT_EQ(LoadedNames(m), (std::vector<std::string>{"c", "a"}));
  EXPECT_EQ(f.Unloads("b"), 1);
  EXPECT_EQ(f.Loads("a"), 1);
  const auto list = m.List();
  ASSERT_EQ(list.size(), 3u);
  EXPECT_EQ(list[2].source.name, "b");
  EXPECT_EQ(list[2].unload_count, 1);
  EXPECT_FALSE(list[2].loaded);
  EXPECT_EQ(m.over_limit_loads(), 0);
}

TEST(ModelManagerTest, NeverEvictsABusyModel) {
  FakeLoader f;
  ModelManager m(Sources(2), NoReaper(1), f.Fn());
  auto a = m.Acquire("a");
  ASSERT_TRUE(a.ok());
  auto b = m.Acquire("b");  // a is busy: b loads over the limit
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(f.Unloads("a"), 0);
  EXPECT_EQ(m.loaded_count(), 2);
  EXPECT_EQ(m.over_limit_loads(), 1);
  m.ReapNow();  // both busy: nothing to do
  EXPECT_EQ(m.loaded_count(), 2);
  a->Release();
  m.ReapNow();  // a idle and the limit is exceeded: a goes, busy b stays
  EXPECT_EQ(LoadedNames(m), (std::vector<std::string>{"b"}));
  EXPECT_EQ(f.Unloads("a"), 1);
}

TEST(ModelManagerTest, PinnedModelIsNeverEvicted) {
  FakeLoader f;
  ModelManager m(Sources(2), NoReaper(1), f.Fn());
  ASSERT_TRUE(m.Load("a", std::nullopt, /*pin=*/true).ok());
  ASSERT_TRUE(m.Acquire("b").ok());  // a pinned: b over the limit
  m.ReapNow();                       // the idle, unpinned b goes
  EXPECT_EQ(LoadedNames(m), (std::vector<std::string>{"a"}));
  EXPECT_TRUE(m.List()[0].pinned);
  ASSERT_TRUE(m.Unload("a").ok());  // an explicit unload unpins
  EXPECT_EQ(m.loaded_count(), 0);
}

TEST(ModelManagerTest, KeepAliveExpiryWithInjectedClock) {
  steady_clock::time_point now{};
  FakeLoader f;
  ModelManagerOptions o = NoReaper(3);
  o.keep_alive = seconds(60);
  o.clock = [&now] { return now; };
  ModelManager m(Sources(3), o, f.Fn());
  ASSERT_TRUE(m.Acquire("a").ok());                       // default: 60 s
  ASSERT_TRUE(m.Load("b", milliseconds(0)).ok());          // 0: unload when idle
  ASSERT_TRUE(m.Load("c", milliseconds(-1)).ok());         // negative: forever
  auto list = m.List();
  for (const auto& st : list) {
    if (st.source.name == "a") {
      ASSERT_TRUE(st.expires_at.has_value());
      EXPECT_EQ(*st.expires_at, now + seconds(60));
    }
    if (st.source.name == "c") {
      EXPECT_FALSE(st.expires_at.has_value());
    }
  }
  m.ReapNow();
  EXPECT_EQ(LoadedNames(m), (std::vector<std::string>{"c", "a"}));  // b went at once
  now += seconds(59);
  m.ReapNow();
  EXPECT_EQ(m.loaded_count(), 2);
  now += seconds(1);
  m.ReapNow();
  EXPECT_EQ(LoadedNames(m), (std::vector<std::string>{"c"}));
  now += std::chrono::hours(1000);
  m.ReapNow();
  EXPECT_EQ(LoadedNames(m), (std::vector<std::string>{"c"}));
}

TEST(ModelManagerTest, KeepAliveIsCountedFromTheLastUseAndBusyModelsDoNotExpire) {
  steady_clock::time_point now{};
  FakeLoader f;
  ModelManagerOptions o = NoReaper(2);
  o.keep_alive = seconds(10);
  o.clock = [&now] { return now; };
  ModelManager m(Sources(1), o, f.Fn());
  auto lease = m.Acquire("a");
  ASSERT_TRUE(lease.ok());
  now += seconds(100);  // a long request
  m.ReapNow();
  EXPECT_EQ(m.loaded_count(), 1);
  lease->Release();  // last use: t = 100
  now += seconds(9);
  m.ReapNow();
  EXPECT_EQ(m.loaded_count(), 1);
  now += seconds(1);
  m.ReapNow();
  EXPECT_EQ(m.loaded_count(), 0);
}

TEST(ModelManagerTest, ReaperThreadUnloadsIdleZeroKeepAliveModel) {
  FakeLoader f;
  ModelManagerOptions o;
  o.keep_alive = milliseconds(0);
  o.reaper_interval = seconds(60);  // only the release notification can wake it in time
  ModelManager m(Sources(1), o, f.Fn());
  {
    auto lease = m.Acquire("a");
    ASSERT_TRUE(lease.ok());
  }
  const auto give_up = steady_clock::now() + seconds(5);
  while (m.loaded_count() > 0 && steady_clock::now() < give_up) std::this_thread::sleep_for(milliseconds(2));
  EXPECT_EQ(m.loaded_count(), 0);
  EXPECT_EQ(f.Unloads("a"), 1);
}

TEST(ModelManagerTest, ConcurrentFirstRequestsShareOneLoad) {
  FakeLoader f;
  f.delay = milliseconds(100);
  ModelManager m(Sources(1), NoReaper(), f.Fn());
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&] {
      auto lease = m.Acquire("a");
      if (lease.ok() && *lease) ++ok;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 8);
  EXPECT_EQ(f.Loads("a"), 1);
  EXPECT_EQ(m.List()[0].load_count, 1);
  EXPECT_GE(m.List()[0].load_ms, 100.0);
}

TEST(ModelManagerTest, FailedLoadIsSharedByItsWaitersAndRetriedLater) {
  FakeLoader f;
  f.delay = milliseconds(50);
  f.fail_name = "a";
  ModelManager m(Sources(1), NoReaper(), f.Fn());
  std::atomic<int> corrupt{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&] {
      auto lease = m.Acquire("a");
      if (!lease.ok() && lease.status().code() == StatusCode::kCorruption) ++corrupt;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(corrupt.load(), 4);
  EXPECT_LE(f.Loads("a"), 2);  // a thread arriving after the failure may retry
  const int before = f.Loads("a");
  EXPECT_FALSE(m.Acquire("a").ok());
  EXPECT_EQ(f.Loads("a"), before + 1);
  EXPECT_EQ(m.loaded_count(), 0);
}

TEST(ModelManagerTest, MemoryBudgetEvictsLeastRecentlyUsed) {
  FakeLoader f;
  ModelManagerOptions o = NoReaper(0);  // no count limit
  o.memory_budget_bytes = 250;          // room for two 100-byte models
  ModelManager m(Sources(3, 100), o, f.Fn());
  ASSERT_TRUE(m.Acquire("a").ok());
  ASSERT_TRUE(m.Acquire("b").ok());
  ASSERT_TRUE(m.Acquire("c").ok());
  EXPECT_EQ(LoadedNames(m), (std::vector<std::string>{"c", "b"}));
}

TEST(ModelManagerTest, UnloadWaitsForTheModelToBeIdle) {
  FakeLoader f;
  ModelManager m(Sources(2), NoReaper(), f.Fn());
  auto lease = m.Acquire("a");
  ASSERT_TRUE(lease.ok());
  ASSERT_TRUE(m.Unload("a").ok());
  EXPECT_EQ(m.loaded_count(), 1);  // busy: still there
  EXPECT_TRUE(m.List()[0].unload_requested);
  lease->Release();
  m.ReapNow();
  EXPECT_EQ(m.loaded_count(), 0);
  EXPECT_EQ(m.Unload("zzz").code(), StatusCode::kNotFound);
  EXPECT_TRUE(m.Unload("b").ok());  // not loaded: nothing to do
  // A later request loads it again.
  ASSERT_TRUE(m.Acquire("a").ok());
  EXPECT_EQ(f.Loads("a"), 2);
}

TEST(ModelManagerTest, ResolveAndShutdown) {
  FakeLoader f;
  ModelManager m(Sources(2), NoReaper(), f.Fn());
  EXPECT_EQ(*m.Resolve(""), 0u);
  EXPECT_EQ(*m.Resolve("b"), 1u);
  EXPECT_EQ(m.Acquire("nope").status().code(), StatusCode::kNotFound);
  ASSERT_TRUE(m.Acquire("").ok());
  EXPECT_EQ(f.live.load(), 1);
  m.Shutdown(milliseconds(0));
  EXPECT_EQ(f.live.load(), 0);
  EXPECT_EQ(m.Acquire("a").status().code(), StatusCode::kCancelled);
}

}  // namespace
}  // namespace jarvis
