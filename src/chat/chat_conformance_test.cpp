// Byte-for-byte conformance of the Jinja interpreter with python3-jinja2 set
// up as transformers sets it up: every template x context pair in
// ../shared/chat-templates/expected (made by its render_reference.py).
#include <ctime>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "chat/jinja_template.h"
#include "support/test_paths.h"

namespace jarvis::jinja {
namespace {

namespace fs = std::filesystem;

std::string ReadFile(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

// render_reference.py pins strftime_now to 2026-01-15 00:00:00 (local time).
std::chrono::system_clock::time_point ReferenceDate() {
  std::tm tm{};
  tm.tm_year = 2026 - 1900;
  tm.tm_mon = 0;
  tm.tm_mday = 15;
  tm.tm_isdst = -1;
  return std::chrono::system_clock::from_time_t(std::mktime(&tm));
}

TEST(ChatConformance, AllReferenceRendersMatchByteForByte) {
  const fs::path root = test::SharedPath("chat-templates");
  ASSERT_TRUE(fs::exists(root / "templates")) << root;
  RenderOptions options;
  options.clock = ReferenceDate;
  int pairs = 0, passed = 0, errors_expected = 0, error_messages_equal = 0;
  for (const auto& tf : fs::directory_iterator(root / "templates")) {
    const std::string name = tf.path().stem().string();
    const std::string source = ReadFile(tf.path());
    auto tmpl = Template::Parse(source);
    for (const auto& cf : fs::directory_iterator(root / "contexts")) {
      const std::string context_name = cf.path().stem().string();
      const fs::path expected_txt = root / "expected" / name / (context_name + ".txt");
      const fs::path expected_err = root / "expected" / name / (context_name + ".error");
      const bool want_error = fs::exists(expected_err);
      if (!want_error && !fs::exists(expected_txt)) continue;
      ++pairs;
      const std::string where = name + " / " + context_name;
      if (!tmpl.ok()) {
        ADD_FAILURE() << where << ": parse failed: " << tmpl.status().message();
        continue;
      }
      const auto context = nlohmann::ordered_json::parse(ReadFile(cf.path()));
      auto out = tmpl->Render(context, options);
      if (want_error) {
        ++errors_expected;
        std::string message = ReadFile(expected_err);
        if (message.rfind("error: ", 0) == 0) message.erase(0, 7);
        while (!message.empty() && message.back() == '\n') message.pop_back();
        if (out.ok()) {
          ADD_FAILURE() << where << ": rendered, but the reference raised: " << message;
          continue;
        }
        // A message the template raises itself (raise_exception) must come
        // through verbatim; jinja2's own messages should, too.
        if (out.status().message() == message) {
          ++error_messages_equal;
        } else if (source.find(message) != std::string::npos) {
          ADD_FAILURE() << where << ": error '" << out.status().message() << "', the template raised '" << message
                        << "'";
          continue;
        }
        ++passed;
        continue;
      }
      if (!out.ok()) {
        ADD_FAILURE() << where << ": render failed: " << out.status().message();
        continue;
      }
      const std::string expected = ReadFile(expected_txt);
      if (*out != expected) {
        size_t at = 0;
        while (at < out->size() && at < expected.size() && (*out)[at] == expected[at]) ++at;
        const size_t from = at > 60 ? at - 60 : 0;
        ADD_FAILURE() << where << ": differs at byte " << at << "\n--- expected ---\n"
                      << expected.substr(from, 160) << "\n--- got ---\n"
                      << out->substr(from, 160);
        continue;
      }
      ++passed;
    }
  }
  std::printf("conformance: %d/%d pairs (%d expected errors, %d with jinja2's exact message)\n", passed, pairs,
              errors_expected, error_messages_equal);
  EXPECT_EQ(pairs, 360);
  EXPECT_EQ(passed, pairs);
}

}  // namespace
}  // namespace jarvis::jinja
