#include "api/api_keys.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "api/api.h"

namespace jarvis::api {
namespace {

std::string WriteTemp(const std::string& text) {
  const std::string path = (std::filesystem::temp_directory_path() /
                            ("jarvis_keys_" + std::to_string(getpid()) + "_" + std::to_string(text.size())))
                               .string();
  std::ofstream(path) << text;
  return path;
}

TEST(ApiKeysTest, ReadsKeysSkippingCommentsAndBlankLines) {
  const std::string path = WriteTemp("# team keys\n\n  alpha-1 \r\nbeta-2\n\t# old: gamma\n");
  auto keys = ReadApiKeyFile(path);
  ASSERT_TRUE(keys.ok()) << keys.status().ToString();
  EXPECT_EQ(*keys, (std::vector<std::string>{"alpha-1", "beta-2"}));
  std::remove(path.c_str());
}

TEST(ApiKeysTest, ErrorsNameTheFile) {
  EXPECT_EQ(ReadApiKeyFile("/nonexistent/keys").status().code(), StatusCode::kNotFound);
  const std::string empty = WriteTemp("# nothing\n");
  auto none = ReadApiKeyFile(empty);
  ASSERT_FALSE(none.ok());
  EXPECT_NE(none.status().message().find(empty), std::string::npos);
  std::remove(empty.c_str());
  const std::string spaced = WriteTemp("Bearer abc\n");
  EXPECT_EQ(ReadApiKeyFile(spaced).status().code(), StatusCode::kInvalidArgument);
  std::remove(spaced.c_str());
}

TEST(ApiKeysTest, AnyBearerMatchesOnlyWholeKeys) {
  const std::vector<std::string> keys = {"k1", "key-two"};
  EXPECT_TRUE(AnyBearerMatches("Bearer k1", keys));
  EXPECT_TRUE(AnyBearerMatches("bearer key-two", keys));
  EXPECT_FALSE(AnyBearerMatches("Bearer k", keys));
  EXPECT_FALSE(AnyBearerMatches("Bearer key-two2", keys));
  EXPECT_FALSE(AnyBearerMatches("k1", keys));
  EXPECT_FALSE(AnyBearerMatches("Bearer k1", {}));
}

}  // namespace
}  // namespace jarvis::api
