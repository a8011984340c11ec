#include "constrain/json_schema_grammar.h"

#include <gtest/gtest.h>

#include "constrain/gbnf_parser.h"
#include "constrain/grammar_matcher.h"

namespace jarvis::constrain {
namespace {

using nlohmann::json;

class SchemaGrammar {
 public:
  explicit SchemaGrammar(const std::string& schema) {
    auto gbnf = JsonSchemaToGbnf(json::parse(schema));
    EXPECT_TRUE(gbnf.ok()) << gbnf.status().ToString();
    if (!gbnf.ok()) return;
    auto g = ParseGbnf(*gbnf);
    EXPECT_TRUE(g.ok()) << g.status().ToString() << "\n" << *gbnf;
    if (g.ok()) grammar_ = std::make_unique<Grammar>(std::move(*g));
  }
  bool Accepts(const std::string& text) const {
    if (!grammar_) return false;
    GrammarMatcher m(*grammar_);
    MatchState s = m.Initial();
    return m.AdvanceBytes(&s, text) && s.can_end();
  }

 private:
  std::unique_ptr<Grammar> grammar_;
};

TEST(JsonSchemaGrammarTest, Primitives) {
  SchemaGrammar s(R"({"type":"string"})");
  EXPECT_TRUE(s.Accepts(R"("hi \"there\" \u00e9 \n")"));
  EXPECT_FALSE(s.Accepts(R"("bad \q")"));
  EXPECT_FALSE(s.Accepts("\"raw\nnewline\""));
  SchemaGrammar n(R"({"type":"number"})");
  for (const char* ok : {"0", "-1.5", "3e10", "12.25E-3"}) EXPECT_TRUE(n.Accepts(ok)) << ok;
  for (const char* bad : {"01", "1.", ".5", "+1", "--1"}) EXPECT_FALSE(n.Accepts(bad)) << bad;
  SchemaGrammar b(R"({"type":["boolean","null"]})");
  EXPECT_TRUE(b.Accepts("true"));
  EXPECT_TRUE(b.Accepts("null"));
  EXPECT_FALSE(b.Accepts("1"));
}

TEST(JsonSchemaGrammarTest, IntegerRanges) {
  struct Case {
    const char* schema;
    int lo, hi;
  } cases[] = {{R"({"type":"integer","minimum":0,"maximum":150})", 0, 150},
               {R"({"type":"integer","minimum":-42,"maximum":7})", -42, 7},
               {R"({"type":"integer","minimum":-300,"maximum":-12})", -300, -12},
               {R"({"type":"integer","minimum":95,"maximum":1203})", 95, 1203},
               {R"({"type":"integer","exclusiveMinimum":9,"exclusiveMaximum":20})", 10, 19}};
  for (const Case& c : cases) {
    SchemaGrammar g(c.schema);
    for (int v = c.lo - 50; v <= c.hi + 50; ++v) {
      EXPECT_EQ(g.Accepts(std::to_string(v)), v >= c.lo && v <= c.hi) << c.schema << " " << v;
    }
    std::string leading_zero = "0";
    leading_zero += std::to_string(c.hi);
    EXPECT_FALSE(g.Accepts(leading_zero));
  }
  SchemaGrammar min_only(R"({"type":"integer","minimum":18})");
  EXPECT_TRUE(min_only.Accepts("18"));
  EXPECT_TRUE(min_only.Accepts("123456789"));
  EXPECT_FALSE(min_only.Accepts("17"));
  EXPECT_FALSE(min_only.Accepts("-5"));
  SchemaGrammar max_only(R"({"type":"integer","maximum":-3})");
  EXPECT_TRUE(max_only.Accepts("-3"));
  EXPECT_TRUE(max_only.Accepts("-4000"));
  EXPECT_FALSE(max_only.Accepts("-2"));
  EXPECT_FALSE(max_only.Accepts("0"));
}

TEST(JsonSchemaGrammarTest, ObjectsRequiredOptionalAndOrder) {
  SchemaGrammar g(R"({"type":"object","properties":{"a":{"type":"integer"},"b":{"type":"string"},
      "c":{"type":"boolean"}},"required":["b"],"additionalProperties":false})");
  EXPECT_TRUE(g.Accepts(R"({"b":"x"})"));
  EXPECT_TRUE(g.Accepts(R"({"a":1,"b":"x","c":true})"));
  EXPECT_TRUE(g.Accepts("{ \"a\": 1,\n  \"b\": \"x\" }"));
  EXPECT_FALSE(g.Accepts(R"({"a":1})"));              // b is required
  EXPECT_FALSE(g.Accepts(R"({"b":"x","d":1})"));      // not declared
  EXPECT_FALSE(g.Accepts(R"({"b":"x",})"));
  SchemaGrammar all_optional(R"({"properties":{"x":{"type":"null"},"y":{"const":5}}})");
  EXPECT_TRUE(all_optional.Accepts("{}"));
  EXPECT_TRUE(all_optional.Accepts(R"({"y":5})"));
  EXPECT_TRUE(all_optional.Accepts(R"({"x":null,"y":5})"));
  EXPECT_FALSE(all_optional.Accepts(R"({"y":6})"));
  SchemaGrammar map(R"({"type":"object","additionalProperties":{"type":"integer"}})");
  EXPECT_TRUE(map.Accepts(R"({"any":1,"other":-2})"));
  EXPECT_FALSE(map.Accepts(R"({"any":"1"})"));
}

TEST(JsonSchemaGrammarTest, ArraysStringsEnumsAnyOfRefs) {
  SchemaGrammar a(R"({"type":"array","items":{"enum":["red","green",3]},"minItems":1,"maxItems":2})");
  EXPECT_TRUE(a.Accepts(R"(["red"])"));
  EXPECT_TRUE(a.Accepts(R"(["green", 3])"));
  EXPECT_FALSE(a.Accepts("[]"));
  EXPECT_FALSE(a.Accepts(R"(["red","red","red"])"));
  EXPECT_FALSE(a.Accepts(R"(["blue"])"));
  SchemaGrammar s(R"({"type":"string","minLength":2,"maxLength":3})");
  EXPECT_FALSE(s.Accepts(R"("a")"));
  EXPECT_TRUE(s.Accepts("\"\xC3\xA9\xC3\xA9\""));  // characters, not bytes
  EXPECT_FALSE(s.Accepts(R"("abcd")"));
  SchemaGrammar any(R"({"anyOf":[{"type":"integer"},{"type":"array","items":{"type":"integer"}}]})");
  EXPECT_TRUE(any.Accepts("5"));
  EXPECT_TRUE(any.Accepts("[1, 2]"));
  EXPECT_FALSE(any.Accepts("\"5\""));
  SchemaGrammar tree(R"({"$ref":"#/$defs/node","$defs":{"node":{"type":"object","properties":{
      "v":{"type":"integer"},"kids":{"type":"array","items":{"$ref":"#/$defs/node"}}},"required":["v"]}}})");
  // Properties come in key order ("kids" before "v").
  EXPECT_TRUE(tree.Accepts(R"({"kids":[{"v":2},{"kids":[],"v":3}],"v":1})"));
  EXPECT_FALSE(tree.Accepts(R"({"kids":[{"w":2}],"v":1})"));
  EXPECT_FALSE(tree.Accepts(R"({"kids":[]})"));  // v is required
}

TEST(JsonSchemaGrammarTest, UnsupportedKeywordsAreNamed) {
  for (const char* kw : {"pattern", "format", "minProperties", "uniqueItems", "allOf", "not", "prefixItems"}) {
    json schema = {{"type", "string"}, {kw, 1}};
    auto r = JsonSchemaToGbnf(schema);
    ASSERT_FALSE(r.ok()) << kw;
    EXPECT_NE(r.status().message().find(std::string("'") + kw + "'"), std::string::npos) << r.status().message();
  }
  auto nested = JsonSchemaToGbnf(json::parse(R"({"properties":{"a":{"type":"string","pattern":"x+"}}})"));
  ASSERT_FALSE(nested.ok());
  EXPECT_NE(nested.status().message().find("'pattern'"), std::string::npos);
  EXPECT_FALSE(JsonSchemaToGbnf(json::parse(R"({"type":"number","minimum":1.5})")).ok());
  EXPECT_FALSE(JsonSchemaToGbnf(json::parse(R"({"$ref":"#/$defs/missing"})")).ok());
  EXPECT_FALSE(JsonSchemaToGbnf(json::parse(R"({"type":"integer","minimum":5,"maximum":1})")).ok());
}

TEST(JsonSchemaGrammarTest, ValueBetweenLiterals) {
  auto gbnf = JsonValueBetweenLiteralsGbnf("<tool_call>\n", json::parse(R"({"type":"object","properties":{
      "name":{"const":"light"},"arguments":{"type":"object","properties":{"on":{"type":"boolean"}},
      "required":["on"]}},"required":["name","arguments"]})"), "\n</tool_call>");
  ASSERT_TRUE(gbnf.ok()) << gbnf.status().ToString();
  auto g = ParseGbnf(*gbnf);
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  GrammarMatcher m(*g);
  MatchState s = m.Initial();
  ASSERT_TRUE(m.AdvanceBytes(&s, "<tool_call>\n{\"arguments\": {\"on\": true}, \"name\": \"light\"}\n</tool_call>"));
  EXPECT_TRUE(s.complete());
  MatchState bad = m.Initial();
  EXPECT_FALSE(m.AdvanceBytes(&bad, "{\"arguments\""));
}

TEST(JsonSchemaGrammarTest, JsonObjectGrammar) {
  auto g = ParseGbnf(JsonObjectGbnf());
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  GrammarMatcher m(*g);
  MatchState s = m.Initial();
  EXPECT_TRUE(m.AdvanceBytes(&s, R"({"a": [1, {"b": null}], "c": "d"})"));
  EXPECT_TRUE(s.complete());
  MatchState t = m.Initial();
  EXPECT_FALSE(m.AdvanceBytes(&t, "[1]"));
}

}  // namespace
}  // namespace jarvis::constrain
