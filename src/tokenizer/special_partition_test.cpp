#include "tokenizer/special_partition.h"

#include <gtest/gtest.h>

namespace jarvis {
namespace {

// A vocabulary of a few special tokens (ids 0..) and nothing else.
class PartitionTest : public ::testing::Test {
 protected:
  void Build(const std::vector<std::pair<std::string, uint16_t>>& tokens) {
    std::vector<std::string_view> texts;
    std::vector<uint16_t> attrs;
    for (const auto& [text, a] : tokens) {
      texts.push_back(text);
      attrs.push_back(a);
    }
    ASSERT_TRUE(vocab_.SetTokens(texts, std::vector<float>(texts.size()), attrs).ok());
    vocab_.FinishSpecialTokens();
  }
  // Fragments as strings: "[id]" for a token, the text otherwise.
  std::vector<std::string> Parts(std::string_view text, bool parse_special) {
    std::vector<std::string> out;
    for (const Fragment& f : PartitionSpecialTokens(vocab_, text, parse_special)) {
      if (f.token >= 0) {
        std::string part = "[";  // built in steps: GCC 12 misreports -Wrestrict on "[" + ...
        part += std::to_string(f.token);
        part += ']';
        out.push_back(part);
      } else {
        out.emplace_back(f.text);
      }
    }
    return out;
  }
  Vocab vocab_;
};

using Strings = std::vector<std::string>;

TEST_F(PartitionTest, ControlOnlyWithParseSpecialUserDefinedAlways) {
  Build({{"<c>", kAttrControl}, {"<u>", kAttrUserDefined}, {"n", kAttrNormal}});
  EXPECT_EQ(Parts("a<c>b<u>c", false), (Strings{"a<c>b", "[1]", "c"}));
  EXPECT_EQ(Parts("a<c>b<u>c", true), (Strings{"a", "[0]", "b", "[1]", "c"}));
  EXPECT_EQ(Parts("<u><u>", false), (Strings{"[1]", "[1]"}));
  EXPECT_TRUE(Parts("", true).empty());
  EXPECT_EQ(Parts("plain n", true), (Strings{"plain n"}));
}

TEST_F(PartitionTest, LongerTokensFirst) {
  Build({{"<a>", kAttrControl}, {"<a><b>", kAttrControl}, {"<b>", kAttrControl}});
  EXPECT_EQ(Parts("<a><b><b>", true), (Strings{"[1]", "[2]"}));
}

TEST_F(PartitionTest, LstripAndRstripSwallowWhitespace) {
  Build({{"<l>", kAttrControl | kAttrLstrip}, {"<r>", kAttrControl | kAttrRstrip}});
  EXPECT_EQ(Parts("a \t<l> b", true), (Strings{"a", "[0]", " b"}));
  EXPECT_EQ(Parts("a <r> \n b", true), (Strings{"a ", "[1]", "b"}));
  EXPECT_EQ(Parts("<r>   ", true), (Strings{"[1]"}));
}

}  // namespace
}  // namespace jarvis
