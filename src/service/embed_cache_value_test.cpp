// Embedding results in the response cache: the value round-trips exactly,
// foreign values are refused, and the key tells requests apart.
#include "service/embed_cache_value.h"

#include <gtest/gtest.h>

#include "service/response_cache.h"

namespace jarvis {
namespace {

TEST(EmbedCacheValueTest, RoundTripsExactly) {
  EmbedResult r;
  r.embeddings = {{1.0f, -0.0f, 3.5e-8f}, {0.25f, -2.0f, 1e30f}};
  r.prompt_tokens = 17;
  const GenerateResult v = EmbedResultToCacheValue(r);
  EXPECT_EQ(v.finish, FinishReason::kStop);  // storable: the cache keeps finished results only
  auto back = EmbedResultFromCacheValue(v);
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(back->embeddings, r.embeddings);
  EXPECT_EQ(back->prompt_tokens, 17);
  EXPECT_FALSE(back->from_response_cache);
}

TEST(EmbedCacheValueTest, RefusesValuesThatAreNotEmbeddings) {
  GenerateResult text;
  text.text = "Once upon a time";
  text.tokens = {1, 2, 3};
  EXPECT_FALSE(EmbedResultFromCacheValue(text).has_value());
  GenerateResult ragged;
  ragged.text = std::string(12, '\0');  // 3 floats
  ragged.tokens = {2, 5};               // in 2 rows: not whole
  EXPECT_FALSE(EmbedResultFromCacheValue(ragged).has_value());
  ragged.tokens = {0, 5};
  EXPECT_FALSE(EmbedResultFromCacheValue(ragged).has_value());
  ragged.text.pop_back();  // not whole floats
  ragged.tokens = {1, 5};
  EXPECT_FALSE(EmbedResultFromCacheValue(ragged).has_value());
}

TEST(EmbedCacheValueTest, KeysDifferByInputsTruncateDimensionsAndContext) {
  EmbedRequest a;
  a.texts = {"ab", "c"};
  EmbedRequest b = a;
  b.texts = {"a", "bc"};
  EmbedRequest c = a;
  c.truncate = false;
  EmbedRequest d = a;
  d.dimensions = 64;
  EmbedRequest e;
  e.token_inputs = {{97, 98}, {99}};
  EmbedRequest f = a;
  f.context = 8;  // options.num_ctx: inputs may be cut shorter
  const std::string k = ResponseCache::MakeEmbedKey("m", a);
  EXPECT_EQ(k, ResponseCache::MakeEmbedKey("m", a));
  for (const EmbedRequest* other : {&b, &c, &d, &e, &f}) EXPECT_NE(k, ResponseCache::MakeEmbedKey("m", *other));
  EXPECT_NE(k, ResponseCache::MakeEmbedKey("n", a));
  GenerateRequest g;
  g.prompt = "ab";
  EXPECT_NE(k, ResponseCache::MakeKey("m", g));
}

}  // namespace
}  // namespace jarvis
