#include "service/response_cache.h"

#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <limits>
#include <set>

namespace jarvis {
namespace {

using std::chrono::seconds;
using std::chrono::steady_clock;

// If one of these fails, a field was added: put it into MakeKey and into
// KeyChangesWithEveryField below, then update the size.
static_assert(sizeof(SamplingParams) == 72, "SamplingParams changed: update ResponseCache::MakeKey and this test");

GenerateRequest BaseRequest() {
  GenerateRequest r;
  r.prompt = "Once upon a time";
  r.sampling.temperature = 0.0f;
  r.max_tokens = 16;
  return r;
}

GenerateResult Result(const std::string& text, FinishReason finish = FinishReason::kStop) {
  GenerateResult r;
  r.text = text;
  r.tokens = {1, 2, 3};
  r.finish = finish;
  r.prompt_tokens = 5;
  r.completion_tokens = 3;
  return r;
}

TEST(ResponseCacheTest, OnlyDeterministicOptedInRequestsAreCacheable) {
  GenerateRequest r = BaseRequest();
  EXPECT_TRUE(ResponseCache::IsCacheable(r));  // greedy
  r.sampling.temperature = 0.8f;
  EXPECT_FALSE(ResponseCache::IsCacheable(r));  // random seed each time
  r.sampling.has_seed = true;
  EXPECT_TRUE(ResponseCache::IsCacheable(r));  // explicit seed
  r.use_response_cache = false;
  EXPECT_FALSE(ResponseCache::IsCacheable(r));
}

TEST(ResponseCacheTest, KeyChangesWithEveryField) {
  const std::string digest = "abcd";
  std::vector<std::pair<std::string, std::function<void(GenerateRequest&)>>> mutations = {
      {"prompt", [](GenerateRequest& r) { r.prompt += "!"; }},
      {"messages", [](GenerateRequest& r) { r.messages = {{"user", "Once upon a time"}}; }},
      {"prompt_tokens", [](GenerateRequest& r) { r.prompt_tokens = {1, 2}; }},
      {"add_special", [](GenerateRequest& r) { r.add_special = false; }},
      {"temperature", [](GenerateRequest& r) { r.sampling.temperature = -1.0f; }},
      {"top_k", [](GenerateRequest& r) { r.sampling.top_k = 41; }},
      {"top_p", [](GenerateRequest& r) { r.sampling.top_p = 0.9f; }},
      {"min_p", [](GenerateRequest& r) { r.sampling.min_p = 0.1f; }},
      {"repeat_penalty", [](GenerateRequest& r) { r.sampling.repeat_penalty = 1.1f; }},
      {"penalty_last_n", [](GenerateRequest& r) { r.sampling.penalty_last_n = 32; }},
      {"presence_penalty", [](GenerateRequest& r) { r.sampling.presence_penalty = 0.5f; }},
      {"frequency_penalty", [](GenerateRequest& r) { r.sampling.frequency_penalty = 0.5f; }},
      {"logit_bias", [](GenerateRequest& r) { r.sampling.logit_bias = {{5, -1.0f}}; }},
      {"logit_bias -inf", [](GenerateRequest& r) {
         r.sampling.logit_bias = {{5, -std::numeric_limits<float>::infinity()}};
       }},
      {"seed", [](GenerateRequest& r) { r.sampling.seed = 7; }},
      {"has_seed", [](GenerateRequest& r) { r.sampling.has_seed = true; }},
      {"max_tokens", [](GenerateRequest& r) { r.max_tokens = 17; }},
      {"stop", [](GenerateRequest& r) { r.stop = {"\n"}; }},
      {"stop order", [](GenerateRequest& r) { r.stop = {"b", "a"}; }},
      {"ignore_eos", [](GenerateRequest& r) { r.ignore_eos = true; }},
      {"grammar", [](GenerateRequest& r) { r.grammar = "root ::= \"a\""; }},
      {"grammar other", [](GenerateRequest& r) { r.grammar = "root ::= \"b\""; }},
      {"logprobs", [](GenerateRequest& r) { r.logprobs = 0; }},
      {"top logprobs", [](GenerateRequest& r) { r.logprobs = 3; }},
      {"tools_json", [](GenerateRequest& r) { r.tools_json = R"([{"type":"function"}])"; }},
      {"chat_template_kwargs_json", [](GenerateRequest& r) { r.chat_template_kwargs_json = R"({"a":1})"; }},
  };
  GenerateRequest with_stops = BaseRequest();
  with_stops.stop = {"a", "b"};
  ResponseCacheOptions opt;
  ResponseCache cache(opt);
  const GenerateRequest base = BaseRequest();
  const std::string base_key = ResponseCache::MakeKey(digest, base);
  ASSERT_TRUE(cache.Insert(base_key, Result("base")));
  ASSERT_TRUE(cache.Insert(ResponseCache::MakeKey(digest, with_stops), Result("stops")));
  std::set<std::string> keys = {base_key, ResponseCache::MakeKey(digest, with_stops)};
  for (const auto& [field, mutate] : mutations) {
    GenerateRequest r = BaseRequest();
    mutate(r);
    const std::string key = ResponseCache::MakeKey(digest, r);
    EXPECT_NE(key, base_key) << field;
    EXPECT_TRUE(keys.insert(key).second) << field << " collides with another mutation";
    EXPECT_FALSE(cache.Lookup(key).has_value()) << field;
  }
  // The model digest is part of the key; an identical request hits.
  EXPECT_FALSE(cache.Lookup(ResponseCache::MakeKey("other-model", base)).has_value());
  auto hit = cache.Lookup(ResponseCache::MakeKey(digest, BaseRequest()));
  ASSERT_TRUE(hit.has_value());
  EXPECT_EQ(hit->result.text, "base");
  // Fields that do not change the output are not part of the key.
  GenerateRequest same = BaseRequest();
  same.deadline = steady_clock::now();
  same.on_token = [](const TokenEvent&) { return true; };
  EXPECT_EQ(ResponseCache::MakeKey(digest, same), base_key);
  // -0 samples like +0.
  same.sampling.temperature = -0.0f;
  EXPECT_EQ(ResponseCache::MakeKey(digest, same), base_key);
}

TEST(ResponseCacheTest, KeyPartsAreDelimited) {
  GenerateRequest a = BaseRequest(), b = BaseRequest();
  a.messages = {{"user", "ab"}, {"assistant", "c"}};
  b.messages = {{"user", "a"}, {"assistant", "bc"}};
  EXPECT_NE(ResponseCache::MakeKey("d", a), ResponseCache::MakeKey("d", b));
  a.stop = {"ab"};
  b.messages = a.messages;
  b.stop = {"a", "b"};
  EXPECT_NE(ResponseCache::MakeKey("d", a), ResponseCache::MakeKey("d", b));
  EXPECT_NE(ResponseCache::MakeKey("ab", BaseRequest()), ResponseCache::MakeKey("a", BaseRequest()));
}

TEST(ResponseCacheTest, EntriesExpireAfterTtl) {
  steady_clock::time_point now{};
  ResponseCacheOptions opt;
  opt.ttl = seconds(300);
  opt.clock = [&now] { return now; };
  ResponseCache cache(opt);
  ASSERT_TRUE(cache.Insert("k1", Result("one")));
  now += seconds(100);
  ASSERT_TRUE(cache.Insert("k2", Result("two")));
  now += seconds(199);  // t = 299
  EXPECT_TRUE(cache.Lookup("k1").has_value());  // a hit does not extend the TTL
  now += seconds(1);    // t = 300: k1 expires
  EXPECT_FALSE(cache.Lookup("k1").has_value());
  EXPECT_TRUE(cache.Lookup("k2").has_value());
  ResponseCacheStats s = cache.Stats();
  EXPECT_EQ(s.expirations, 1);
  EXPECT_EQ(s.entries, 1u);
  now += seconds(100);  // t = 400: k2 expires, seen by Stats() without a lookup
  s = cache.Stats();
  EXPECT_EQ(s.expirations, 2);
  EXPECT_EQ(s.entries, 0u);
  EXPECT_EQ(s.bytes, 0u);
  EXPECT_EQ(s.hits, 2);
  EXPECT_EQ(s.misses, 1);
}

TEST(ResponseCacheTest, ByteBoundEvictsLeastRecentlyUsed) {
  // Equal-sized entries: keys and texts of the same length.
  const GenerateResult r = Result("0123456789");
  ResponseCache probe;
  ASSERT_TRUE(probe.Insert("kA", r));
  const size_t entry_bytes = probe.Stats().bytes;
  EXPECT_GE(entry_bytes, ResponseCache::kEntryOverheadBytes + 2 + 10 + 12);

  ResponseCacheOptions opt;
  opt.capacity_bytes = 3 * entry_bytes + entry_bytes / 2;  // room for three
  ResponseCache cache(opt);
  ASSERT_TRUE(cache.Insert("kA", r));
  ASSERT_TRUE(cache.Insert("kB", r));
  ASSERT_TRUE(cache.Insert("kC", r));
  ASSERT_TRUE(cache.Lookup("kA").has_value());  // order now (most recent first): A C B
  ASSERT_TRUE(cache.Insert("kD", r));           // evicts B
  EXPECT_FALSE(cache.Lookup("kB").has_value());
  ASSERT_TRUE(cache.Insert("kE", r));  // order was D A C (lookups above missed): evicts C
  EXPECT_FALSE(cache.Lookup("kC").has_value());
  EXPECT_TRUE(cache.Lookup("kA").has_value());
  EXPECT_TRUE(cache.Lookup("kD").has_value());
  EXPECT_TRUE(cache.Lookup("kE").has_value());
  ResponseCacheStats s = cache.Stats();
  EXPECT_EQ(s.evictions, 2);
  EXPECT_EQ(s.entries, 3u);
  EXPECT_EQ(s.bytes, 3 * entry_bytes);
  EXPECT_LE(s.bytes, opt.capacity_bytes);
  // Replacing a key does not double-count it.
  ASSERT_TRUE(cache.Insert("kE", r));
  EXPECT_EQ(cache.Stats().bytes, 3 * entry_bytes);
  // An entry larger than the whole cache is refused and evicts nothing.
  EXPECT_FALSE(cache.Insert("huge", Result(std::string(opt.capacity_bytes, 'x'))));
  EXPECT_EQ(cache.Stats().entries, 3u);
  EXPECT_EQ(cache.Stats().rejected, 1);
}

TEST(ResponseCacheTest, UnfinishedResultsAreNeverStored) {
  ResponseCache cache;
  EXPECT_FALSE(cache.Insert("c", Result("partial", FinishReason::kCancelled)));
  GenerateResult err = Result("", FinishReason::kError);
  err.error = Status::Internal("boom");
  EXPECT_FALSE(cache.Insert("e", err));
  EXPECT_TRUE(cache.Insert("l", Result("long", FinishReason::kLength)));
  EXPECT_FALSE(cache.Lookup("c").has_value());
  EXPECT_FALSE(cache.Lookup("e").has_value());
  EXPECT_TRUE(cache.Lookup("l").has_value());
  EXPECT_EQ(cache.Stats().rejected, 2);
}

TEST(ResponseCacheTest, DisabledCacheStoresNothing) {
  ResponseCacheOptions opt;
  opt.ttl = seconds(0);
  ResponseCache cache(opt);
  EXPECT_FALSE(cache.enabled());
  EXPECT_FALSE(cache.Insert("k", Result("x")));
  EXPECT_FALSE(cache.Lookup("k").has_value());
}

TEST(ResponseCacheTest, HitReturnsStoredResultAndStreamPieces) {
  ResponseCache cache;
  std::vector<TokenEvent> events = {{1, "Once"}, {2, ""}, {3, " upon"}};
  GenerateResult r = Result("Once upon");
  ASSERT_TRUE(cache.Insert("k", r, events));
  auto hit = cache.Lookup("k");
  ASSERT_TRUE(hit.has_value());
  EXPECT_EQ(hit->result.text, "Once upon");
  EXPECT_EQ(hit->result.tokens, r.tokens);
  EXPECT_EQ(hit->result.finish, FinishReason::kStop);
  ASSERT_EQ(hit->events.size(), 3u);
  EXPECT_EQ(hit->events[2].text, " upon");
  cache.Clear();
  EXPECT_FALSE(cache.Lookup("k").has_value());
  EXPECT_EQ(cache.Stats().bytes, 0u);
}

}  // namespace
}  // namespace jarvis
