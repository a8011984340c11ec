#include "engine/sampling.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <set>
#include <vector>

namespace jarvis {
namespace {

constexpr float kInf = std::numeric_limits<float>::infinity();

SamplingParams PlainParams(uint64_t seed = 1) {
  SamplingParams p;  // every filter off: pure temperature sampling
  p.temperature = 1.0f;
  p.top_k = 0;
  p.top_p = 1.0f;
  p.min_p = 0.0f;
  p.seed = seed;
  p.has_seed = true;
  return p;
}

// Draws `n` tokens from fresh copies of `logits` and counts them.
std::vector<int> Histogram(Sampler& s, const std::vector<float>& logits, int n) {
  std::vector<int> counts(logits.size(), 0);
  for (int i = 0; i < n; ++i) {
    std::vector<float> copy = logits;
    const int32_t t = s.Sample(copy);
    EXPECT_GE(t, 0);
    if (t >= 0) ++counts[static_cast<size_t>(t)];
  }
  return counts;
}

std::vector<double> Softmax(const std::vector<float>& logits, double temp) {
  double mx = -1e300, sum = 0;
  for (float l : logits) mx = std::max(mx, double{l});
  std::vector<double> p;
  for (float l : logits) p.push_back(std::exp((l - mx) / temp));
  for (double v : p) sum += v;
  for (double& v : p) v /= sum;
  return p;
}

TEST(SamplingTest, GreedyPicksArgmax) {
  SamplingParams p;
  p.temperature = 0.0f;
  Sampler s(p, 6);
  std::vector<float> logits = {0.1f, -3.0f, 2.5f, 2.4f, -kInf, 1.0f};
  EXPECT_EQ(s.Sample(logits), 2);
}

TEST(SamplingTest, GreedyTieTakesLowestId) {
  SamplingParams p;
  p.temperature = 0.0f;
  Sampler s(p, 5);
  std::vector<float> logits = {1.0f, 3.0f, -2.0f, 3.0f, 3.0f};
  EXPECT_EQ(s.Sample(logits), 1);
}

TEST(SamplingTest, AllBannedReturnsNoToken) {
  SamplingParams p = PlainParams();
  Sampler s(p, 3);
  std::vector<float> logits = {-kInf, -kInf, std::nanf("")};
  EXPECT_EQ(s.Sample(logits), kNoToken);
  p.temperature = 0.0f;
  Sampler g(p, 3);
  logits = {-kInf, -kInf, -kInf};
  EXPECT_EQ(g.Sample(logits), kNoToken);
}

TEST(SamplingTest, TopK1EqualsGreedyAtAnyTemperature) {
  std::vector<float> logits = {0.5f, 1.9f, 2.0f, 2.0f, -1.0f, 1.99f};
  for (float temp : {0.1f, 1.0f, 5.0f, 100.0f}) {
    SamplingParams p = PlainParams(42);
    p.temperature = temp;
    p.top_k = 1;
    Sampler s(p, 6);
    for (int i = 0; i < 200; ++i) {
      std::vector<float> copy = logits;
      ASSERT_EQ(s.Sample(copy), 2) << "temperature " << temp;
    }
  }
}

TEST(SamplingTest, SameSeedSameTokensDifferentSeedDiffers) {
  std::vector<float> logits(1000);
  for (size_t i = 0; i < logits.size(); ++i) logits[i] = std::sin(static_cast<float>(i)) * 2.0f;
  auto run = [&](uint64_t seed) {
    SamplingParams p;  // defaults: top_k 40, top_p 0.95, min_p 0.05, temp 0.8
    p.temperature = 1.5f;
    p.min_p = 0.0f;
    p.seed = seed;
    p.has_seed = true;
    Sampler s(p, 1000);
    std::vector<int32_t> out;
    for (int i = 0; i < 64; ++i) {
      std::vector<float> copy = logits;
      out.push_back(s.Sample(copy));
    }
    return out;
  };
  const auto a = run(1234), b = run(1234), c = run(1235);
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
  EXPECT_GT(std::set<int32_t>(a.begin(), a.end()).size(), 5u);  // really sampling
}

TEST(SamplingTest, ResetReplaysTheSameTokens) {
  std::vector<float> logits = {0.0f, 0.5f, 1.0f, 1.5f};
  Sampler s(PlainParams(7), 4);
  std::vector<int32_t> first, second;
  for (int i = 0; i < 50; ++i) {
    std::vector<float> c = logits;
    first.push_back(s.Sample(c));
  }
  s.Reset();
  for (int i = 0; i < 50; ++i) {
    std::vector<float> c = logits;
    second.push_back(s.Sample(c));
  }
  EXPECT_EQ(first, second);
}

TEST(SamplingTest, PinnedSequenceForSeed) {
  // Guards cross-platform determinism: the RNG and the draw are written by
  // hand, so the tokens must follow from the published algorithms alone. A
  // second copy of splitmix64 + xoshiro256** (Blackman & Vigna) here predicts
  // each draw: with 4 equal logits, token = floor(u * 4) where u is the top 53
  // bits of the 64-bit output scaled to [0, 1).
  std::vector<float> logits = {0.0f, 0.0f, 0.0f, 0.0f};
  Sampler s(PlainParams(2024), 4);
  uint64_t x = 2024, st[4];
  for (uint64_t& w : st) {
    uint64_t z = (x += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    w = z ^ (z >> 31);
  }
  auto rotl = [](uint64_t v, int k) { return (v << k) | (v >> (64 - k)); };
  for (int i = 0; i < 100; ++i) {
    const uint64_t r = rotl(st[1] * 5, 7) * 9;
    const uint64_t t = st[1] << 17;
    st[2] ^= st[0];
    st[3] ^= st[1];
    st[1] ^= st[2];
    st[0] ^= st[3];
    st[2] ^= t;
    st[3] = rotl(st[3], 45);
    const int expected = static_cast<int>((r >> 11) >> 51);  // top 2 of 53 bits
    std::vector<float> c = logits;
    ASSERT_EQ(s.Sample(c), expected) << "draw " << i;
  }
}

TEST(SamplingTest, EmpiricalDistributionMatchesSoftmax) {
  const std::vector<float> logits = {1.0f, 0.2f, -0.5f, 2.0f, 0.0f, 1.3f};
  constexpr int kDraws = 20000;
  for (float temp : {0.7f, 1.0f, 1.8f}) {
    SamplingParams p = PlainParams(99);
    p.temperature = temp;
    Sampler s(p, static_cast<int32_t>(logits.size()));
    const auto counts = Histogram(s, logits, kDraws);
    const auto probs = Softmax(logits, temp);
    double chi2 = 0;
    for (size_t i = 0; i < logits.size(); ++i) {
      const double expected = probs[i] * kDraws;
      chi2 += (counts[i] - expected) * (counts[i] - expected) / expected;
    }
    // 5 degrees of freedom: P(chi2 > 20.5) ~= 0.001. Deterministic seed.
    EXPECT_LT(chi2, 20.5) << "temperature " << temp;
  }
}

TEST(SamplingTest, TopKKeepsOnlyKBest) {
  const std::vector<float> logits = {3.0f, 2.9f, 2.8f, 2.7f, 2.6f, 2.5f};
  SamplingParams p = PlainParams(5);
  p.temperature = 3.0f;  // flatten, so excluded tokens would show up
  p.top_k = 3;
  Sampler s(p, 6);
  const auto counts = Histogram(s, logits, 3000);
  for (size_t i = 0; i < 3; ++i) EXPECT_GT(counts[i], 500) << i;
  for (size_t i = 3; i < 6; ++i) EXPECT_EQ(counts[i], 0) << i;
}

TEST(SamplingTest, TopPExcludesTokensOutsideNucleus) {
  // Probabilities at temperature 1: 0.5, 0.25, 0.125, 0.0625, 0.0625.
  const std::vector<float> logits = {std::log(0.5f), std::log(0.25f), std::log(0.125f),
                                     std::log(0.0625f), std::log(0.0625f)};
  SamplingParams p = PlainParams(11);
  p.temperature = 2.0f;  // applied after top-p: must not widen the nucleus
  p.top_p = 0.8f;        // 0.5 + 0.25 = 0.75 < 0.8 -> third token is needed
  Sampler s(p, 5);
  const auto counts = Histogram(s, logits, 4000);
  EXPECT_GT(counts[0], 0);
  EXPECT_GT(counts[1], 0);
  EXPECT_GT(counts[2], 0);
  EXPECT_EQ(counts[3], 0);
  EXPECT_EQ(counts[4], 0);

  p.top_p = 0.75f;  // exactly reached by two tokens
  Sampler s2(p, 5);
  const auto counts2 = Histogram(s2, logits, 2000);
  EXPECT_GT(counts2[1], 0);
  EXPECT_EQ(counts2[2] + counts2[3] + counts2[4], 0);
}

TEST(SamplingTest, WideNucleusMatchesFullSortReference) {
  // A flat distribution over 5000 tokens: the 0.9 nucleus holds thousands of
  // tokens, so the lazy chunked sort has to run many rounds.
  constexpr int32_t kVocab = 5000;
  std::vector<float> logits(kVocab);
  uint32_t h = 7;
  for (float& l : logits) {
    h = h * 1664525u + 1013904223u;
    l = static_cast<float>(h >> 8) / static_cast<float>(1 << 24);  // [0, 1)
  }
  // Reference nucleus by full sort (logit desc, id asc).
  std::vector<int32_t> order(kVocab);
  for (int32_t i = 0; i < kVocab; ++i) order[static_cast<size_t>(i)] = i;
  std::sort(order.begin(), order.end(), [&](int32_t a, int32_t b) {
    const float la = logits[static_cast<size_t>(a)], lb = logits[static_cast<size_t>(b)];
    return la != lb ? la > lb : a < b;
  });
  const auto probs = Softmax(logits, 1.0);
  std::vector<bool> in_nucleus(kVocab, false);
  double cum = 0;
  size_t nucleus = 0;
  for (int32_t id : order) {
    in_nucleus[static_cast<size_t>(id)] = true;
    ++nucleus;
    cum += probs[static_cast<size_t>(id)];
    if (cum >= 0.9) break;
  }
  ASSERT_GT(nucleus, 1000u);
  ASSERT_LT(nucleus, 4900u);

  SamplingParams p = PlainParams(31);
  p.top_p = 0.9f;
  Sampler s(p, kVocab);
  std::vector<size_t> rank(kVocab);
  for (size_t r = 0; r < order.size(); ++r) rank[static_cast<size_t>(order[r])] = r;
  size_t deepest = 0;
  for (int i = 0; i < 1500; ++i) {
    std::vector<float> copy = logits;
    const int32_t t = s.Sample(copy);
    ASSERT_TRUE(in_nucleus[static_cast<size_t>(t)]) << "token " << t << " outside the nucleus";
    deepest = std::max(deepest, rank[static_cast<size_t>(t)]);
  }
  EXPECT_GT(deepest, nucleus * 9 / 10);  // the far end of the nucleus is reachable
}

TEST(SamplingTest, TopPNormalizesOverTopKSurvivors) {
  // After top_k = 2 the two survivors have p = 2/3 and 1/3 (renormalized), so
  // top_p = 0.6 keeps only the first; over the full set (0.4) it would keep two.
  const std::vector<float> logits = {std::log(0.4f), std::log(0.2f), std::log(0.2f),
                                     std::log(0.2f)};
  SamplingParams p = PlainParams(3);
  p.top_k = 2;
  p.top_p = 0.6f;
  Sampler s(p, 4);
  const auto counts = Histogram(s, logits, 500);
  EXPECT_EQ(counts[0], 500);
}

TEST(SamplingTest, MinPExcludesUnlikelyTokens) {
  // p relative to the max: 1, 0.5, 0.2, 0.09.
  const std::vector<float> logits = {0.0f, std::log(0.5f), std::log(0.2f), std::log(0.09f)};
  SamplingParams p = PlainParams(8);
  p.temperature = 4.0f;
  p.min_p = 0.1f;
  Sampler s(p, 4);
  const auto counts = Histogram(s, logits, 4000);
  EXPECT_GT(counts[0], 0);
  EXPECT_GT(counts[1], 0);
  EXPECT_GT(counts[2], 0);
  EXPECT_EQ(counts[3], 0);
}

TEST(SamplingTest, MinPAndTopPTogether) {
  // top_p alone would keep {0,1,2}; min_p = 0.3 removes token 2 (ratio 0.25).
  const std::vector<float> logits = {std::log(0.5f), std::log(0.25f), std::log(0.125f),
                                     std::log(0.125f)};
  SamplingParams p = PlainParams(21);
  p.temperature = 3.0f;
  p.top_p = 0.8f;
  p.min_p = 0.3f;
  Sampler s(p, 4);
  const auto counts = Histogram(s, logits, 3000);
  EXPECT_GT(counts[0], 0);
  EXPECT_GT(counts[1], 0);
  EXPECT_EQ(counts[2] + counts[3], 0);
}

TEST(SamplingTest, RepeatPenaltyFormula) {
  SamplingParams p = PlainParams();
  p.temperature = 0.0f;
  p.repeat_penalty = 2.0f;
  Sampler s(p, 5);
  s.Accept(1);
  s.Accept(2);
  s.Accept(2);  // repeats do not compound the repeat penalty
  std::vector<float> logits = {1.0f, 4.0f, -3.0f, 0.0f, 5.0f};
  s.Sample(logits);
  EXPECT_FLOAT_EQ(logits[0], 1.0f);
  EXPECT_FLOAT_EQ(logits[1], 2.0f);   // positive: divided
  EXPECT_FLOAT_EQ(logits[2], -6.0f);  // negative: multiplied
  EXPECT_FLOAT_EQ(logits[3], 0.0f);
  EXPECT_FLOAT_EQ(logits[4], 5.0f);
}

TEST(SamplingTest, PresenceAndFrequencyPenaltyFormula) {
  SamplingParams p = PlainParams();
  p.temperature = 0.0f;
  p.presence_penalty = 0.5f;
  p.frequency_penalty = 0.25f;
  p.repeat_penalty = 1.5f;
  Sampler s(p, 4);
  for (int32_t t : {0, 0, 0, 2}) s.Accept(t);
  std::vector<float> logits = {3.0f, 1.0f, -1.0f, 2.0f};
  s.Sample(logits);
  EXPECT_FLOAT_EQ(logits[0], 3.0f / 1.5f - (3 * 0.25f + 0.5f));
  EXPECT_FLOAT_EQ(logits[1], 1.0f);
  EXPECT_FLOAT_EQ(logits[2], -1.0f * 1.5f - (1 * 0.25f + 0.5f));
  EXPECT_FLOAT_EQ(logits[3], 2.0f);
}

TEST(SamplingTest, PenaltyWindowForgetsOldTokens) {
  SamplingParams p = PlainParams();
  p.temperature = 0.0f;
  p.penalty_last_n = 3;
  p.frequency_penalty = 1.0f;
  Sampler s(p, 4);
  for (int32_t t : {0, 0, 1, 2, 3}) s.Accept(t);  // window now {1, 2, 3}
  std::vector<float> logits = {0.0f, 0.0f, 0.0f, 0.0f};
  s.Sample(logits);
  EXPECT_FLOAT_EQ(logits[0], 0.0f);
  EXPECT_FLOAT_EQ(logits[1], -1.0f);
  EXPECT_FLOAT_EQ(logits[2], -1.0f);
  EXPECT_FLOAT_EQ(logits[3], -1.0f);
  s.Reset();
  logits = {0.0f, 0.0f, 0.0f, 0.0f};
  s.Sample(logits);
  EXPECT_FLOAT_EQ(logits[1], 0.0f);
}

TEST(SamplingTest, PenaltyLastNZeroDisables) {
  SamplingParams p = PlainParams();
  p.temperature = 0.0f;
  p.penalty_last_n = 0;
  p.frequency_penalty = 1.0f;
  Sampler s(p, 2);
  s.Accept(0);
  std::vector<float> logits = {1.0f, 0.5f};
  EXPECT_EQ(s.Sample(logits), 0);
  EXPECT_FLOAT_EQ(logits[0], 1.0f);
}

TEST(SamplingTest, LogitBiasAddsAndBans) {
  SamplingParams p = PlainParams(17);
  p.temperature = 1.0f;
  p.logit_bias = {{0, -kInf}, {2, 1.5f}};
  Sampler s(p, 3);
  std::vector<float> logits = {10.0f, 0.0f, 0.0f};
  s.Sample(logits);
  EXPECT_EQ(logits[0], -kInf);
  EXPECT_FLOAT_EQ(logits[2], 1.5f);
  const auto counts = Histogram(s, {10.0f, 0.0f, 0.0f}, 2000);
  EXPECT_EQ(counts[0], 0);
  EXPECT_GT(counts[2], counts[1]);

  p.temperature = 0.0f;
  Sampler g(p, 3);
  std::vector<float> logits2 = {10.0f, 0.0f, 0.0f};
  EXPECT_EQ(g.Sample(logits2), 2);
}

TEST(SamplingTest, ValidateRejectsBadParams) {
  EXPECT_TRUE(SamplingParams{}.Validate().ok());
  auto bad = [](auto mutate) {
    SamplingParams p;
    mutate(p);
    return p.Validate(100).code() == StatusCode::kInvalidArgument;
  };
  EXPECT_TRUE(bad([](SamplingParams& p) { p.temperature = -0.1f; }));
  EXPECT_TRUE(bad([](SamplingParams& p) { p.temperature = std::nanf(""); }));
  EXPECT_TRUE(bad([](SamplingParams& p) { p.temperature = kInf; }));
  EXPECT_TRUE(bad([](SamplingParams& p) { p.top_p = 0.0f; }));
  EXPECT_TRUE(bad([](SamplingParams& p) { p.top_p = 1.01f; }));
  EXPECT_TRUE(bad([](SamplingParams& p) { p.min_p = -0.01f; }));
  EXPECT_TRUE(bad([](SamplingParams& p) { p.min_p = 1.5f; }));
  EXPECT_TRUE(bad([](SamplingParams& p) { p.repeat_penalty = 0.0f; }));
  EXPECT_TRUE(bad([](SamplingParams& p) { p.presence_penalty = kInf; }));
  EXPECT_TRUE(bad([](SamplingParams& p) { p.frequency_penalty = std::nanf(""); }));
  EXPECT_TRUE(bad([](SamplingParams& p) { p.penalty_last_n = -1; }));
  EXPECT_TRUE(bad([](SamplingParams& p) { p.logit_bias = {{-1, 1.0f}}; }));
  EXPECT_TRUE(bad([](SamplingParams& p) { p.logit_bias = {{100, 1.0f}}; }));
  EXPECT_TRUE(bad([](SamplingParams& p) { p.logit_bias = {{5, kInf}}; }));
  EXPECT_FALSE(bad([](SamplingParams& p) {
    p.temperature = 0.0f;
    p.top_p = 1.0f;
    p.min_p = 0.0f;
    p.top_k = 0;
    p.logit_bias = {{5, -kInf}, {99, -2.0f}};
  }));
}

}  // namespace
}  // namespace jarvis
