// `jarvis perplexity` on the real stories260K model over a short story written
// for this test (tests/data/short_story.txt), and on its q8_0 / q4_0
// quantizations made with `jarvis quantize`: a trained model predicts such text
// well (a broken forward pass scores near the vocabulary size, 512), q8_0 stays
// within noise of f32, and q4_0 is measurably but mildly worse.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "support/run_jarvis.h"
#include "support/test_paths.h"
#include "support/tiny_model.h"

namespace jarvis {
namespace {

const std::string kStory = std::string(JARVIS_SOURCE_DIR) + "/tests/data/short_story.txt";


double Perplexity(const std::string& model) {
  const test::JarvisRun r = test::RunJarvis("perplexity -m " + test::ShellQuote(model) + " -f " +
                                            test::ShellQuote(kStory) + " -c 128 -t 2");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  const std::string& out = r.out;
  const size_t at = out.find("PPL = ");
  EXPECT_NE(at, std::string::npos) << out;
  return at == std::string::npos ? 0.0 : std::atof(out.c_str() + at + 6);
}

TEST(PerplexityTest, StoriesModelAndItsQuantizations) {
  const double f32 = Perplexity(test::StoriesModelPath());
  EXPECT_GT(f32, 1.5);
  EXPECT_LT(f32, 8.0);

  const std::string q8 = test::TempPath("ppl-q8_0");
  const std::string q4 = test::TempPath("ppl-q4_0");
  const std::string stories = test::ShellQuote(test::StoriesModelPath());
  ASSERT_EQ(test::RunJarvis("quantize " + stories + " " + q8 + " q8_0").exit_code, 0);
  ASSERT_EQ(test::RunJarvis("quantize " + stories + " " + q4 + " q4_0").exit_code, 0);
  const double p8 = Perplexity(q8);
  const double p4 = Perplexity(q4);
  std::remove(q8.c_str());
  std::remove(q4.c_str());
  EXPECT_NEAR(p8 / f32, 1.0, 0.02);
  EXPECT_GT(p4, f32 * 1.01);
  EXPECT_LT(p4, f32 * 1.3);
}

TEST(PerplexityTest, TextShorterThanOneChunkIsAnError) {
  const test::JarvisRun r = test::RunJarvis("perplexity -m " + test::ShellQuote(test::StoriesModelPath()) +
                                            " -f " + test::ShellQuote(kStory) + " -c 4096");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("chunk"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace jarvis
