#include "constrain/gbnf_parser.h"

#include <gtest/gtest.h>

#include "constrain/grammar_matcher.h"

namespace jarvis::constrain {
namespace {

// Whether `text` is a complete sentence of `gbnf`.
bool Accepts(const std::string& gbnf, const std::string& text) {
  auto g = ParseGbnf(gbnf);
  EXPECT_TRUE(g.ok()) << g.status().ToString();
  if (!g.ok()) return false;
  GrammarMatcher m(*g);
  MatchState s = m.Initial();
  return m.AdvanceBytes(&s, text) && s.can_end();
}

std::string ErrorOf(const std::string& gbnf) {
  auto g = ParseGbnf(gbnf);
  return g.ok() ? "" : g.status().message();
}

TEST(GbnfParserTest, LiteralsAlternationAndGroups) {
  const std::string g = "root ::= \"yes\" | \"no\" | (\"may\" \"be\")";
  EXPECT_TRUE(Accepts(g, "yes"));
  EXPECT_TRUE(Accepts(g, "no"));
  EXPECT_TRUE(Accepts(g, "maybe"));
  EXPECT_FALSE(Accepts(g, "ye"));
  EXPECT_FALSE(Accepts(g, "yesno"));
}

TEST(GbnfParserTest, Repetitions) {
  EXPECT_TRUE(Accepts("root ::= \"a\"*", ""));
  EXPECT_TRUE(Accepts("root ::= \"a\"*", "aaaa"));
  EXPECT_FALSE(Accepts("root ::= \"a\"+", ""));
  EXPECT_TRUE(Accepts("root ::= \"a\"+", "aaa"));
  EXPECT_TRUE(Accepts("root ::= \"ab\"? \"c\"", "c"));
  EXPECT_TRUE(Accepts("root ::= \"ab\"? \"c\"", "abc"));
  EXPECT_FALSE(Accepts("root ::= \"ab\"? \"c\"", "ac"));
  const std::string bounded = "root ::= [0-9]{2,4}";
  EXPECT_FALSE(Accepts(bounded, "1"));
  EXPECT_TRUE(Accepts(bounded, "12"));
  EXPECT_TRUE(Accepts(bounded, "1234"));
  EXPECT_FALSE(Accepts(bounded, "12345"));
  EXPECT_TRUE(Accepts("root ::= \"x\"{3}", "xxx"));
  EXPECT_FALSE(Accepts("root ::= \"x\"{3}", "xx"));
  EXPECT_TRUE(Accepts("root ::= \"x\"{2,}", "xxxxxx"));
  EXPECT_FALSE(Accepts("root ::= \"x\"{2,}", "x"));
}

TEST(GbnfParserTest, CharClassesEscapesAndComments) {
  const std::string g = R"(# a comment line
root ::= [a-zA-Z_] [^"\\\n]* "\x21" # trailing comment
)";
  EXPECT_TRUE(Accepts(g, "_hello world!"));
  EXPECT_FALSE(Accepts(g, "9abc!"));
  EXPECT_FALSE(Accepts(g, "a\"b!"));
  EXPECT_TRUE(Accepts("root ::= \"\\u00e9\\t\"", "\xC3\xA9\t"));
  EXPECT_TRUE(Accepts("root ::= [\\u0400-\\u04FF]+", "\xD0\x9F\xD1\x80\xD0\xB8"));  // "При"
  EXPECT_TRUE(Accepts("root ::= . . .", "a\xE2\x82\xAC" "b"));                     // "a€b": three characters
  EXPECT_FALSE(Accepts("root ::= .", "\xE2\x82"));                                 // unfinished character
}

TEST(GbnfParserTest, MultiLineRulesAndReferences) {
  const std::string g = R"(
root   ::= greeting ws name
greeting ::= (
    "hello"
  | "hi"
)
ws ::= " "+
name ::= [A-Z] [a-z]*
  | "world"
)";
  EXPECT_TRUE(Accepts(g, "hello  Bob"));
  EXPECT_TRUE(Accepts(g, "hi world"));
  EXPECT_FALSE(Accepts(g, "hey Bob"));
}

TEST(GbnfParserTest, RecursionThatConsumesIsAllowed) {
  const std::string g = "root ::= \"(\" root \")\" | \"x\"";
  EXPECT_TRUE(Accepts(g, "((x))"));
  EXPECT_FALSE(Accepts(g, "((x)"));
}

TEST(GbnfParserTest, ErrorsNameTheProblem) {
  EXPECT_NE(ErrorOf("root ::= foo").find("'foo' is used but not defined"), std::string::npos);
  EXPECT_NE(ErrorOf("start ::= \"a\"").find("no rule named 'root'"), std::string::npos);
  EXPECT_NE(ErrorOf("root ::= root \"a\" | \"b\"").find("left-recursive"), std::string::npos);
  // Through a nullable prefix.
  EXPECT_NE(ErrorOf("root ::= e root \"a\" | \"b\"\ne ::= \"\"").find("left-recursive"), std::string::npos);
  EXPECT_NE(ErrorOf("root ::= a\na ::= b\nb ::= a").find("left-recursive"), std::string::npos);
  EXPECT_NE(ErrorOf("root ::= \"a\"\nroot ::= \"b\"").find("defined twice"), std::string::npos);
  EXPECT_NE(ErrorOf("root ::= \"abc").find("unterminated literal"), std::string::npos);
  EXPECT_NE(ErrorOf("root ::= [a-").find("line 1"), std::string::npos);
  EXPECT_NE(ErrorOf("root ::= [z-a]").find("reversed"), std::string::npos);
  EXPECT_NE(ErrorOf("root ::= \"a\"{5,2}").find("n < m"), std::string::npos);
  EXPECT_NE(ErrorOf("root ::= \"a\"{99999}").find("repetition count"), std::string::npos);
  EXPECT_NE(ErrorOf("root ::= * \"a\"").find("follows nothing"), std::string::npos);
  EXPECT_NE(ErrorOf("root ::= \"\\q\"").find("unknown escape"), std::string::npos);
  EXPECT_NE(ErrorOf("root ::= (\"a\"").find("expected ')'"), std::string::npos);
  EXPECT_NE(ErrorOf(std::string(300, '(')).find("expected a rule name"), std::string::npos);
  EXPECT_NE(ErrorOf("root ::= " + std::string(300, '(') + "\"a\"" + std::string(300, ')')).find("nest deeper"),
            std::string::npos);
  GrammarLimits small;
  small.max_rules = 10;
  auto r = ParseGbnf("root ::= \"a\"{0,50}", small);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("more than 10 rules"), std::string::npos);
}

TEST(GbnfParserTest, AmbiguityAndDepthAreBounded) {
  // Deep nesting: stacks grow with "(" until the bound, then overflow() is reported.
  auto g = ParseGbnf("root ::= \"(\" root \")\" | \"x\"");
  ASSERT_TRUE(g.ok());
  GrammarMatcher m(*g);
  MatchState s = m.Initial();
  m.AdvanceBytes(&s, std::string(kMaxStackDepth + 10, '('));
  EXPECT_TRUE(m.overflow());
}

}  // namespace
}  // namespace jarvis::constrain

namespace jarvis::constrain {
namespace {

TEST(GbnfParserTest, ExponentiallyAmbiguousGrammarOverflowsInsteadOfHanging) {
  auto g = ParseGbnf("root ::= (\"\" | \"\"){0,200} \"x\"");
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  GrammarMatcher m(*g);
  m.Initial();
  EXPECT_TRUE(m.overflow());
}

}  // namespace
}  // namespace jarvis::constrain
