#include "constrain/token_mask.h"

#include <random>

#include <gtest/gtest.h>

#include "constrain/gbnf_parser.h"
#include "constrain/grammar_constraint.h"
#include "constrain/json_schema_grammar.h"

namespace jarvis::constrain {
namespace {

// A vocabulary of every single byte, some multi-byte pieces that split UTF-8
// characters, and random strings; id 0 is an empty (control) token.
std::vector<std::string> TestVocab(uint64_t seed, int n_random) {
  std::vector<std::string> v{""};
  for (int b = 1; b < 256; ++b) v.emplace_back(1, static_cast<char>(b));
  for (const char* s : {"{\"", "\":", "\", \"", "true", "false", "null", "\xC3", "\xA9\"", "\xE2\x82", "\xAC",
                        "\xE2\x82\xAC", "}", "},", "[{", "  ", "\n  ", "name", "\"name\": \"", "\"age\": 1"}) {
    v.emplace_back(s);
  }
  std::mt19937_64 rng(seed);
  const std::string alphabet = "{}[]\":, 0123456789abcdefnrtul.-e\xC3\xA9\xE2\x82\xAC";
  for (int i = 0; i < n_random; ++i) {
    std::string s;
    const int len = 1 + static_cast<int>(rng() % 6);
    for (int j = 0; j < len; ++j) s += alphabet[rng() % alphabet.size()];
    v.push_back(s);
  }
  return v;
}

// The trie walk must give exactly the tokens a direct per-token check allows.
void ExpectMasksMatchBruteForce(const std::string& gbnf, const std::vector<std::string>& prefixes) {
  auto parsed = ParseGbnf(gbnf);
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  auto grammar = std::make_shared<const Grammar>(std::move(*parsed));
  const std::vector<std::string> vocab = TestVocab(7, 3000);
  TokenTrie trie(vocab, {});
  GrammarMasks masks(grammar, trie);
  GrammarMatcher check(*grammar);
  for (const std::string& prefix : prefixes) {
    MatchState state = check.Initial();
    ASSERT_TRUE(check.AdvanceBytes(&state, prefix)) << prefix;
    const TokenMask& mask = masks.MaskFor(state);
    int allowed = 0;
    for (int32_t id = 0; id < static_cast<int32_t>(vocab.size()); ++id) {
      MatchState s = state;
      const bool want = !vocab[static_cast<size_t>(id)].empty() && check.AdvanceBytes(&s, vocab[static_cast<size_t>(id)]);
      EXPECT_EQ(mask.Allows(id), want) << "prefix '" << prefix << "' token '" << vocab[static_cast<size_t>(id)] << "'";
      allowed += want;
    }
    EXPECT_EQ(mask.n_allowed, allowed);
  }
}

TEST(TokenMaskTest, TrieMasksEqualBruteForceOnJson) {
  auto schema = nlohmann::json::parse(R"({"type":"object","properties":{"name":{"type":"string"},
      "age":{"type":"integer","minimum":0,"maximum":150}},"required":["name","age"]})");
  auto gbnf = JsonSchemaToGbnf(schema);
  ASSERT_TRUE(gbnf.ok()) << gbnf.status().ToString();
  ExpectMasksMatchBruteForce(*gbnf, {"", "{", "{\"age\": 1", "{\"age\": 15", "{\"age\": 150, \"name\": \"a\xC3",
                                      "{\"age\": 150, \"name\": \"\xE2\x82\xAC"});
}

TEST(TokenMaskTest, TrieMasksEqualBruteForceOnGbnf) {
  ExpectMasksMatchBruteForce("root ::= (\"true\" | \"null\" | [0-9]+ \".\"?) \" \"*", {"", "t", "12", "12.", "null  "});
  ExpectMasksMatchBruteForce("root ::= [\\u00e9\\u20ac]* \"}\"", {"", "\xC3\xA9", "\xE2\x82\xAC"});
}

TEST(TokenMaskTest, CacheHitsOnRecurringStates) {
  auto gbnf = JsonSchemaToGbnf(nlohmann::json::parse(R"({"type":"string"})"));
  ASSERT_TRUE(gbnf.ok());
  auto parsed = ParseGbnf(*gbnf);
  ASSERT_TRUE(parsed.ok());
  auto grammar = std::make_shared<const Grammar>(std::move(*parsed));
  const std::vector<std::string> vocab = TestVocab(1, 100);
  TokenTrie trie(vocab, {});
  GrammarMasks masks(grammar, trie);
  GrammarMatcher m(*grammar);
  MatchState s = m.Initial();
  ASSERT_TRUE(m.AdvanceBytes(&s, "\"a"));
  masks.MaskFor(s);
  ASSERT_TRUE(m.AdvanceBytes(&s, "bcd"));
  masks.MaskFor(s);  // inside the string again: the same state
  EXPECT_EQ(masks.misses(), 1u);
  EXPECT_EQ(masks.hits(), 1u);
}

TEST(TokenMaskTest, ConstraintBansTokensAndAllowsEndOnlyWhenComplete) {
  auto parsed = ParseGbnf("root ::= \"ab\" \"c\"?");
  ASSERT_TRUE(parsed.ok());
  auto grammar = std::make_shared<const Grammar>(std::move(*parsed));
  // ids: 0 end token (control), 1 "a", 2 "b", 3 "ab", 4 "c", 5 "x"
  const std::vector<std::string> vocab{"", "a", "b", "ab", "c", "x"};
  TokenTrie trie(vocab, std::vector<int32_t>{0});
  GrammarConstraint c(std::make_shared<GrammarMasks>(grammar, trie), {0});
  std::vector<float> logits(7, 1.0f);  // one entry past the vocabulary
  auto applied = c.Apply(logits);
  ASSERT_TRUE(applied.ok());
  const float inf = std::numeric_limits<float>::infinity();
  EXPECT_EQ(logits, (std::vector<float>{-inf, 1, -inf, 1, -inf, -inf, -inf}));
  EXPECT_EQ(applied->only_token, -1);
  ASSERT_TRUE(c.Accept(1).ok());
  logits.assign(7, 2.0f);
  applied = c.Apply(logits);
  ASSERT_TRUE(applied.ok());
  EXPECT_EQ(applied->only_token, 2);  // "b" is the only way on
  EXPECT_FALSE(c.Accept(5).ok());
  ASSERT_TRUE(c.Accept(2).ok());
  EXPECT_TRUE(c.can_end());
  EXPECT_FALSE(c.complete());
  logits.assign(7, 3.0f);
  ASSERT_TRUE(c.Apply(logits).ok());
  EXPECT_EQ(logits[0], 3.0f);  // the end token: allowed now
  EXPECT_EQ(logits[4], 3.0f);
  EXPECT_EQ(logits[1], -inf);
  ASSERT_TRUE(c.Accept(4).ok());
  EXPECT_TRUE(c.complete());
}

}  // namespace
}  // namespace jarvis::constrain
