#include "engine/kv_cache.h"

#include <gtest/gtest.h>

#include <cstring>
#include <numeric>
#include <random>
#include <vector>

namespace jarvis {
namespace {

constexpr int32_t kBs = 4;

std::unique_ptr<KvCache> MakeCache(int32_t n_blocks) {
  KvLayout layout;
  layout.n_layer = 1;
  layout.n_embd_kv = 4;
  layout.block_size = kBs;
  layout.type = KvType::kF32;
  auto kv = KvCache::Create(layout, n_blocks);
  EXPECT_TRUE(kv.ok());
  return std::move(*kv);
}

std::vector<int32_t> Iota(int32_t n, int32_t start = 100) {
  std::vector<int32_t> v(static_cast<size_t>(n));
  std::iota(v.begin(), v.end(), start);
  return v;
}

// A sequence holding `tokens`, all computed and committed.
int32_t Prefill(KvCache& kv, const std::vector<int32_t>& tokens, bool use_cache = true) {
  const int32_t seq = kv.CreateSequence();
  if (use_cache) {
    EXPECT_TRUE(kv.AttachPrefix(seq, kv.MatchPrefix(tokens)).ok());
  }
  EXPECT_TRUE(kv.Reserve(seq, static_cast<int32_t>(tokens.size())).ok());
  kv.CommitTokens(seq, tokens);
  return seq;
}

TEST(KvCacheTest, ReserveAndFreeAccounting) {
  auto kv = MakeCache(8);
  EXPECT_EQ(kv->free_blocks(), 8);
  const int32_t a = kv->CreateSequence();
  ASSERT_TRUE(kv->Reserve(a, 5).ok());  // 2 blocks
  EXPECT_EQ(kv->block_table(a).size(), 2u);
  EXPECT_EQ(kv->used_blocks(), 2);
  ASSERT_TRUE(kv->Reserve(a, 8).ok());  // still 2
  EXPECT_EQ(kv->used_blocks(), 2);
  ASSERT_TRUE(kv->Reserve(a, 9).ok());
  EXPECT_EQ(kv->used_blocks(), 3);
  ASSERT_TRUE(kv->Truncate(a, 4).ok());
  EXPECT_EQ(kv->used_blocks(), 1);
  kv->FreeSequence(a);
  EXPECT_EQ(kv->used_blocks(), 0);
  EXPECT_EQ(kv->free_blocks(), 8);
  EXPECT_EQ(kv->cached_blocks(), 0);  // nothing committed
}

TEST(KvCacheTest, ExhaustionIsResourceExhaustedAndChangesNothing) {
  auto kv = MakeCache(4);
  const int32_t a = kv->CreateSequence();
  ASSERT_TRUE(kv->Reserve(a, 12).ok());
  const int32_t b = kv->CreateSequence();
  const Status s = kv->Reserve(b, 8);
  EXPECT_EQ(s.code(), StatusCode::kResourceExhausted);
  EXPECT_TRUE(kv->block_table(b).empty());
  EXPECT_EQ(kv->used_blocks(), 3);
  EXPECT_TRUE(kv->Reserve(b, 4).ok());
  EXPECT_EQ(kv->free_blocks(), 0);
}

TEST(KvCacheTest, PrefixIsSharedAndRefCounted) {
  auto kv = MakeCache(16);
  const std::vector<int32_t> prompt = Iota(10);  // blocks 0,1 full; 2 tokens in block 2
  const int32_t a = Prefill(*kv, prompt);
  const std::vector<int32_t> table_a(kv->block_table(a).begin(), kv->block_table(a).end());
  EXPECT_TRUE(kv->is_registered(table_a[0]));
  EXPECT_TRUE(kv->is_registered(table_a[1]));
  EXPECT_FALSE(kv->is_registered(table_a[2]));  // partial

  std::vector<int32_t> other = Iota(8);
  other.push_back(7);
  other.push_back(8);
  other.push_back(9);
  PrefixMatch m = kv->MatchPrefix(other);
  ASSERT_EQ(m.n_tokens, 8);
  EXPECT_EQ(m.blocks, (std::vector<int32_t>{table_a[0], table_a[1]}));
  const int32_t b = kv->CreateSequence();
  ASSERT_TRUE(kv->AttachPrefix(b, m).ok());
  EXPECT_EQ(kv->ref_count(table_a[0]), 2);
  EXPECT_EQ(kv->used_blocks(), 3);  // attaching took no new block
  ASSERT_TRUE(kv->Reserve(b, 11).ok());
  EXPECT_NE(kv->block_table(b)[2], table_a[2]);  // new tokens go to a new block
  EXPECT_EQ(kv->used_blocks(), 4);
  EXPECT_EQ(kv->stats().prefix_hits, 1);
  EXPECT_EQ(kv->stats().cached_tokens, 8);

  kv->FreeSequence(a);
  EXPECT_EQ(kv->ref_count(table_a[0]), 1);
  EXPECT_EQ(kv->cached_blocks(), 0);
  kv->FreeSequence(b);
  EXPECT_EQ(kv->used_blocks(), 0);
  EXPECT_EQ(kv->cached_blocks(), 2);  // the two registered blocks stay cached
  EXPECT_EQ(kv->free_blocks(), 16);
}

TEST(KvCacheTest, NeverMatchesTheWholePrompt) {
  auto kv = MakeCache(8);
  const std::vector<int32_t> prompt = Iota(8);
  kv->FreeSequence(Prefill(*kv, prompt));
  EXPECT_EQ(kv->MatchPrefix(prompt).n_tokens, 4);  // the last token must be computed
  std::vector<int32_t> longer = prompt;
  longer.push_back(1);
  EXPECT_EQ(kv->MatchPrefix(longer).n_tokens, 8);
  EXPECT_EQ(kv->MatchPrefix(std::vector<int32_t>{}).n_tokens, 0);
}

TEST(KvCacheTest, HashChainDependsOnTheWholePrefix) {
  auto kv = MakeCache(8);
  // Block 1 has the same tokens in both prompts, but block 0 differs.
  std::vector<int32_t> p1 = {1, 2, 3, 4, 50, 51, 52, 53, 9};
  std::vector<int32_t> p2 = {1, 2, 3, 5, 50, 51, 52, 53, 9};
  kv->FreeSequence(Prefill(*kv, p1));
  EXPECT_EQ(kv->MatchPrefix(p1).n_tokens, 8);
  EXPECT_EQ(kv->MatchPrefix(p2).n_tokens, 0);
  // A prompt that shares only block 0 matches only block 0.
  std::vector<int32_t> p3 = {1, 2, 3, 4, 50, 51, 52, 54, 9};
  EXPECT_EQ(kv->MatchPrefix(p3).n_tokens, 4);
}

TEST(KvCacheTest, EvictsLeastRecentlyUsedOnlyWhenFreeBlocksRunOut) {
  auto kv = MakeCache(6);
  // Three cached one-block prefixes, freed in the order A, B, C.
  const std::vector<int32_t> a = {1, 1, 1, 1, 0}, b = {2, 2, 2, 2, 0}, c = {3, 3, 3, 3, 0};
  for (const auto* p : {&a, &b, &c}) {
    const int32_t s = Prefill(*kv, std::vector<int32_t>(p->begin(), p->begin() + 4));
    kv->FreeSequence(s);
  }
  EXPECT_EQ(kv->cached_blocks(), 3);
  // Touch A again: it becomes the most recently used.
  const int32_t s = kv->CreateSequence();
  ASSERT_TRUE(kv->AttachPrefix(s, kv->MatchPrefix(a)).ok());
  kv->FreeSequence(s);
  // Three never-used blocks are free: taking them evicts nothing.
  const int32_t big = kv->CreateSequence();
  ASSERT_TRUE(kv->Reserve(big, 12).ok());
  EXPECT_EQ(kv->stats().evictions, 0);
  EXPECT_EQ(kv->MatchPrefix(b).n_tokens, 4);
  // One more block evicts B (the oldest), then C, and A last.
  ASSERT_TRUE(kv->Reserve(big, 16).ok());
  EXPECT_EQ(kv->stats().evictions, 1);
  EXPECT_EQ(kv->MatchPrefix(b).n_tokens, 0);
  EXPECT_EQ(kv->MatchPrefix(c).n_tokens, 4);
  EXPECT_EQ(kv->MatchPrefix(a).n_tokens, 4);
  ASSERT_TRUE(kv->Reserve(big, 20).ok());
  EXPECT_EQ(kv->MatchPrefix(c).n_tokens, 0);
  EXPECT_EQ(kv->MatchPrefix(a).n_tokens, 4);
  ASSERT_TRUE(kv->Reserve(big, 24).ok());
  EXPECT_EQ(kv->MatchPrefix(a).n_tokens, 0);
  EXPECT_EQ(kv->stats().evictions, 3);
  EXPECT_EQ(kv->Reserve(big, 28).code(), StatusCode::kResourceExhausted);
}

TEST(KvCacheTest, ReferencedBlocksAreNeverEvicted) {
  auto kv = MakeCache(3);
  const int32_t a = Prefill(*kv, Iota(8));  // two registered blocks, held
  const int32_t b = kv->CreateSequence();
  EXPECT_EQ(kv->Reserve(b, 8).code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(kv->MatchPrefix(Iota(9)).n_tokens, 8);
  kv->FreeSequence(a);
  ASSERT_TRUE(kv->Reserve(b, 8).ok());  // now it may evict
  EXPECT_GE(kv->stats().evictions, 1);
}

TEST(KvCacheTest, FreeingEvictsChainsFromTheirEnd) {
  auto kv = MakeCache(4);
  kv->FreeSequence(Prefill(*kv, Iota(12)));  // three blocks cached, one free
  const int32_t s = kv->CreateSequence();
  ASSERT_TRUE(kv->Reserve(s, 8).ok());  // takes the free block, evicts one cached
  EXPECT_EQ(kv->MatchPrefix(Iota(13)).n_tokens, 8);  // the chain lost its last block
}

TEST(KvCacheTest, DuplicatePrefixStaysPrivate) {
  auto kv = MakeCache(8);
  const std::vector<int32_t> p = Iota(5);
  const int32_t a = Prefill(*kv, p, /*use_cache=*/false);
  const int32_t b = Prefill(*kv, p, /*use_cache=*/false);  // computed twice, concurrently
  const int32_t block_b = kv->block_table(b)[0];
  EXPECT_FALSE(kv->is_registered(block_b));
  kv->FreeSequence(b);
  EXPECT_EQ(kv->cached_blocks(), 0);
  kv->FreeSequence(a);
  EXPECT_EQ(kv->cached_blocks(), 1);
}

TEST(KvCacheTest, TruncateIntoSharedBlockCopiesIt) {
  auto kv = MakeCache(8);
  const int32_t a = Prefill(*kv, Iota(9));
  const int32_t shared = kv->block_table(a)[1];
  // Mark the shared block's bytes to check the copy.
  const size_t bytes = kv->layout().block_bytes();
  std::memset(kv->view().base + static_cast<size_t>(shared) * bytes, 0x5a, bytes);
  const int32_t b = kv->CreateSequence();
  ASSERT_TRUE(kv->AttachPrefix(b, kv->MatchPrefix(Iota(9))).ok());
  ASSERT_TRUE(kv->Truncate(b, 6).ok());
  const int32_t copy = kv->block_table(b)[1];
  EXPECT_NE(copy, shared);
  EXPECT_EQ(kv->ref_count(shared), 1);
  EXPECT_EQ(std::memcmp(kv->view().base + static_cast<size_t>(copy) * bytes,
                        kv->view().base + static_cast<size_t>(shared) * bytes, bytes), 0);
  // Truncating the sole owner's registered block unregisters it instead.
  ASSERT_TRUE(kv->Truncate(a, 6).ok());
  EXPECT_FALSE(kv->is_registered(shared));
  EXPECT_EQ(kv->MatchPrefix(Iota(9)).n_tokens, 4);
  kv->FreeSequence(a);
  kv->FreeSequence(b);
  EXPECT_EQ(kv->used_blocks(), 0);
}

TEST(KvCacheTest, BlockCopiesAreReportedToTheListener) {
  auto kv = MakeCache(8);
  std::vector<std::pair<int32_t, int32_t>> copies;
  kv->set_block_copy_listener([&](int32_t src, int32_t dst) {
    copies.emplace_back(src, dst);
    return Status::Ok();
  });
  const int32_t a = Prefill(*kv, Iota(9));
  const int32_t shared = kv->block_table(a)[1];
  const int32_t b = kv->CreateSequence();
  ASSERT_TRUE(kv->AttachPrefix(b, kv->MatchPrefix(Iota(9))).ok());
  ASSERT_TRUE(kv->Truncate(b, 6).ok());
  ASSERT_EQ(copies.size(), 1u);
  EXPECT_EQ(copies[0].first, shared);
  EXPECT_EQ(copies[0].second, kv->block_table(b)[1]);
  // No copy, no call: truncating the sole owner, or at a block boundary.
  ASSERT_TRUE(kv->Truncate(a, 6).ok());
  ASSERT_TRUE(kv->Truncate(b, 4).ok());
  EXPECT_EQ(copies.size(), 1u);
}

TEST(KvCacheTest, FailingCopyListenerChangesNothing) {
  auto kv = MakeCache(8);
  int calls = 0;
  kv->set_block_copy_listener([&](int32_t, int32_t) {
    ++calls;
    return Status::ResourceExhausted("device memory");
  });
  const int32_t a = Prefill(*kv, Iota(9));
  const int32_t b = kv->CreateSequence();
  ASSERT_TRUE(kv->AttachPrefix(b, kv->MatchPrefix(Iota(9))).ok());
  const std::vector<int32_t> table(kv->block_table(b).begin(), kv->block_table(b).end());
  const int32_t used = kv->used_blocks();
  const int32_t free_before = kv->free_blocks();
  const Status st = kv->Truncate(b, 6);
  EXPECT_EQ(st.code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(std::vector<int32_t>(kv->block_table(b).begin(), kv->block_table(b).end()), table);
  EXPECT_EQ(kv->used_blocks(), used);
  EXPECT_EQ(kv->free_blocks(), free_before);
  EXPECT_EQ(kv->ref_count(table[1]), 2);
  kv->FreeSequence(a);
  kv->FreeSequence(b);
  EXPECT_EQ(kv->used_blocks(), 0);
}

TEST(KvCacheTest, NoLeaksAfterManyCycles) {
  auto kv = MakeCache(32);
  std::mt19937 rng(7);
  std::vector<int32_t> live;
  for (int i = 0; i < 3000; ++i) {
    if (!live.empty() && (rng() % 3 == 0 || live.size() > 6)) {
      const size_t k = rng() % live.size();
      kv->FreeSequence(live[k]);
      live.erase(live.begin() + static_cast<std::ptrdiff_t>(k));
      continue;
    }
    // Prompts from a small family so prefixes repeat.
    std::vector<int32_t> p(1 + rng() % 20);
    for (size_t j = 0; j < p.size(); ++j) p[j] = static_cast<int32_t>(j < 8 ? rng() % 2 : rng() % 5);
    const int32_t s = kv->CreateSequence();
    const PrefixMatch m = kv->MatchPrefix(p);
    if (kv->FreeBlocksAfterAttach(m) < (static_cast<int32_t>(p.size()) + kBs - 1) / kBs -
                                           static_cast<int32_t>(m.blocks.size())) {
      kv->FreeSequence(s);
      continue;
    }
    ASSERT_TRUE(kv->AttachPrefix(s, m).ok());
    ASSERT_TRUE(kv->Reserve(s, static_cast<int32_t>(p.size())).ok());
    kv->CommitTokens(s, p);
    live.push_back(s);
  }
  for (int32_t s : live) kv->FreeSequence(s);
  EXPECT_EQ(kv->used_blocks(), 0);
  EXPECT_EQ(kv->free_blocks(), kv->n_blocks());
  EXPECT_GT(kv->stats().prefix_hits, 0);
  EXPECT_GT(kv->stats().evictions, 0);
  kv->ClearPrefixCache();
  EXPECT_EQ(kv->cached_blocks(), 0);
  // Every block can be taken again.
  const int32_t s = kv->CreateSequence();
  EXPECT_TRUE(kv->Reserve(s, 32 * kBs).ok());
}

}  // namespace
}  // namespace jarvis
