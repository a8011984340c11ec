#include "service/response_cache_codec.h"

#include <gtest/gtest.h>

#include <random>

namespace jarvis {
namespace {

CachedResponse Sample() {
  CachedResponse v;
  v.result.text = "Once upon a time, there was a cat.";
  v.result.tokens = {12, 7, 99, 2};
  v.result.finish = FinishReason::kStop;
  v.result.prompt_tokens = 5;
  v.result.cached_prompt_tokens = 2;
  v.result.completion_tokens = 4;
  v.events = {{12, "Once"}, {7, " upon"}, {99, ""}, {2, " a time, there was a cat."}};
  TokenLogprob lp;
  lp.token = 12;
  lp.piece = "Once";
  lp.logprob = -0.25f;
  lp.top = {{12, "Once", -0.25f}, {40, "\xe2\x96", -2.5f}};
  v.result.logprobs = {lp, TokenLogprob{7, " upon", -1.0f, {}}};
  return v;
}

constexpr size_t kMax = 1 << 20;

TEST(ResponseCacheCodecTest, RoundTripsEveryStoredField) {
  const CachedResponse in = Sample();
  const std::string bytes = EncodeCachedResponse("key-1", in);
  auto out = DecodeCachedResponse(bytes, "key-1", kMax);
  ASSERT_TRUE(out.has_value());
  EXPECT_EQ(out->result.text, in.result.text);
  EXPECT_EQ(out->result.tokens, in.result.tokens);
  EXPECT_EQ(out->result.finish, in.result.finish);
  EXPECT_EQ(out->result.prompt_tokens, 5);
  EXPECT_EQ(out->result.cached_prompt_tokens, 2);
  EXPECT_EQ(out->result.completion_tokens, 4);
  ASSERT_EQ(out->events.size(), in.events.size());
  for (size_t i = 0; i < in.events.size(); ++i) {
    EXPECT_EQ(out->events[i].token, in.events[i].token);
    EXPECT_EQ(out->events[i].text, in.events[i].text);
  }
  ASSERT_EQ(out->result.logprobs.size(), 2u);
  EXPECT_EQ(out->result.logprobs[0].piece, "Once");
  EXPECT_EQ(out->result.logprobs[0].logprob, -0.25f);
  ASSERT_EQ(out->result.logprobs[0].top.size(), 2u);
  EXPECT_EQ(out->result.logprobs[0].top[1].token, 40);
  EXPECT_EQ(out->result.logprobs[0].top[1].piece, "\xe2\x96");
  EXPECT_EQ(out->result.logprobs[1].token, 7);
  EXPECT_TRUE(out->result.logprobs[1].top.empty());
  CachedResponse empty;
  empty.result.finish = FinishReason::kLength;
  EXPECT_TRUE(DecodeCachedResponse(EncodeCachedResponse("", empty), "", kMax).has_value());
}

TEST(ResponseCacheCodecTest, AValueForAnotherKeyIsNeverServed) {
  const std::string bytes = EncodeCachedResponse("key-1", Sample());
  EXPECT_FALSE(DecodeCachedResponse(bytes, "key-2", kMax).has_value());
  EXPECT_FALSE(DecodeCachedResponse(bytes, "key-", kMax).has_value());
}

TEST(ResponseCacheCodecTest, EverySingleByteCorruptionIsRejected) {
  const std::string good = EncodeCachedResponse("key-1", Sample());
  for (size_t i = 0; i < good.size(); ++i) {
    for (uint8_t flip : {0x01, 0x80, 0xff}) {
      std::string bad = good;
      bad[i] = static_cast<char>(bad[i] ^ flip);
      EXPECT_FALSE(DecodeCachedResponse(bad, "key-1", kMax).has_value()) << "byte " << i << " ^ " << int(flip);
    }
  }
}

TEST(ResponseCacheCodecTest, TruncatedExtendedOrOversizedValuesAreRejected) {
  const std::string good = EncodeCachedResponse("key-1", Sample());
  for (size_t n = 0; n < good.size(); ++n) {
    EXPECT_FALSE(DecodeCachedResponse(good.substr(0, n), "key-1", kMax).has_value()) << n;
  }
  EXPECT_FALSE(DecodeCachedResponse(good + "x", "key-1", kMax).has_value());
  EXPECT_FALSE(DecodeCachedResponse(good, "key-1", good.size() - 1).has_value());
  EXPECT_TRUE(DecodeCachedResponse(good, "key-1", good.size()).has_value());
}

TEST(ResponseCacheCodecTest, UnfinishedResultsAndOtherVersionsAreRejected) {
  CachedResponse v = Sample();
  v.result.finish = FinishReason::kCancelled;
  EXPECT_FALSE(DecodeCachedResponse(EncodeCachedResponse("k", v), "k", kMax).has_value());
  v.result.finish = FinishReason::kError;
  EXPECT_FALSE(DecodeCachedResponse(EncodeCachedResponse("k", v), "k", kMax).has_value());
  std::string other_version = EncodeCachedResponse("k", Sample());
  other_version[4] = static_cast<char>(kResponseCodecVersion + 1);  // the version follows the magic
  EXPECT_FALSE(DecodeCachedResponse(other_version, "k", kMax).has_value());
}

// Random and random-prefixed bytes never decode (and never crash: the
// sanitizer presets run this too).
TEST(ResponseCacheCodecTest, GarbageIsRejected) {
  std::mt19937 rng(7);
  const std::string good = EncodeCachedResponse("key-1", Sample());
  for (int i = 0; i < 2000; ++i) {
    std::string junk(rng() % 200, '\0');
    for (char& c : junk) c = static_cast<char>(rng());
    if (i % 2 == 1) junk = good.substr(0, 24) + junk;  // a valid header, then noise
    EXPECT_FALSE(DecodeCachedResponse(junk, "key-1", kMax).has_value());
  }
}

}  // namespace
}  // namespace jarvis
