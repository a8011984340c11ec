// End-to-end: the built `jarvis inspect` binary on real and broken files.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "support/run_jarvis.h"
#include "support/test_paths.h"

namespace {

namespace fs = std::filesystem;

using jarvis::test::JarvisRun;
using jarvis::test::ReadFile;
using jarvis::test::ShellQuote;

class CliInspectTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("jarvis_cli_inspect_" + std::to_string(::getpid()));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  JarvisRun Run(const std::string& args) { return jarvis::test::RunJarvis(args); }

  fs::path dir_;
};

TEST_F(CliInspectTest, StoriesJson) {
  JarvisRun r = Run("inspect " + ShellQuote(jarvis::test::StoriesModelPath()) + " --json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err, "");
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["architecture"], "llama");
  EXPECT_EQ(j["block_count"], 5);
  EXPECT_EQ(j["embedding_length"], 64);
  EXPECT_EQ(j["head_count"], 8);
  EXPECT_EQ(j["head_count_kv"], 4);
  EXPECT_EQ(j["gguf_version"], 3);
  EXPECT_EQ(j["vocab"]["size"], 512);
  EXPECT_EQ(j["vocab"]["bos"]["id"], 1);
  EXPECT_EQ(j["chat_template"], false);
  const uint64_t params = j["parameters"];
  EXPECT_GT(params, 250'000u);
  EXPECT_LT(params, 300'000u);
  EXPECT_EQ(j["types"]["f32"]["tensors"], 48);
  EXPECT_EQ(j["file_size"], fs::file_size(jarvis::test::StoriesModelPath()));
  EXPECT_FALSE(j.contains("tensors"));
}

TEST_F(CliInspectTest, TensorsTableAndHumanOutput) {
  JarvisRun r = Run("inspect " + ShellQuote(jarvis::test::StoriesModelPath()) + " --json --tensors");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  ASSERT_EQ(j["tensors"].size(), 48u);
  uint64_t sum = 0;
  for (const auto& t : j["tensors"]) sum += t["elements"].get<uint64_t>();
  EXPECT_EQ(sum, j["parameters"].get<uint64_t>());

  r = Run("inspect " + ShellQuote(jarvis::test::StoriesModelPath()) + " --tensors");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("architecture"), std::string::npos);
  EXPECT_NE(r.out.find("token_embd.weight"), std::string::npos);
  EXPECT_NE(r.out.find("64 x 512"), std::string::npos);
}

// The low-bit mixes: inspect names the file type and each tensor type.
TEST_F(CliInspectTest, NamesTheLowBitMixes) {
  const std::string q3 = (dir_ / "q3_k_m.gguf").string();
  ASSERT_EQ(Run("synth --preset tiny --type q3_k_m --out " + ShellQuote(q3)).exit_code, 0);
  JarvisRun r = Run("inspect " + ShellQuote(q3) + " --json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["file_type"], "MOSTLY_Q3_K_M");
  // tiny: 2 layers; Q3_K_M gives attn_v Q5_K (first two layers), ffn_down and
  // attn_output Q4_K, output Q6_K, the other matrices Q3_K.
  EXPECT_EQ(j["types"]["q3_k"]["tensors"], 9);
  EXPECT_EQ(j["types"]["q4_k"]["tensors"], 4);
  EXPECT_EQ(j["types"]["q5_k"]["tensors"], 2);
  EXPECT_EQ(j["types"]["q6_k"]["tensors"], 1);

  const std::string xs = (dir_ / "iq4_xs.gguf").string();
  ASSERT_EQ(Run("synth --preset tiny --type iq4_xs --out " + ShellQuote(xs)).exit_code, 0);
  r = Run("inspect " + ShellQuote(xs));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("MOSTLY_IQ4_XS"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("iq4_xs"), std::string::npos) << r.out;
}

TEST_F(CliInspectTest, VocabOnlyFile) {
  JarvisRun r = Run("inspect " + ShellQuote(jarvis::test::SharedPath("tokenizers/llama3-vocab.gguf")) + " --json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["tensor_count"], 0);
  EXPECT_EQ(j["parameters"], 0);
  EXPECT_EQ(j["vocab"]["model"], "gpt2");
  EXPECT_EQ(j["vocab"]["size"], 128256);
  EXPECT_EQ(j["chat_template"], true);
}

TEST_F(CliInspectTest, BadInputsFailWithOneLine) {
  auto expect_one_line_failure = [&](const std::string& path) {
    SCOPED_TRACE(path);
    JarvisRun r = Run("inspect " + ShellQuote(path));
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_EQ(r.out, "");
    ASSERT_FALSE(r.err.empty());
    EXPECT_EQ(r.err.find('\n'), r.err.size() - 1) << r.err;
  };
  expect_one_line_failure((dir_ / "missing.gguf").string());
  expect_one_line_failure(dir_.string());  // a directory

  const std::string original = ReadFile(jarvis::test::StoriesModelPath());
  std::ofstream(dir_ / "truncated.gguf", std::ios::binary) << original.substr(0, original.size() / 2);
  expect_one_line_failure((dir_ / "truncated.gguf").string());
  std::ofstream(dir_ / "header_cut.gguf", std::ios::binary) << original.substr(0, 3000);
  expect_one_line_failure((dir_ / "header_cut.gguf").string());
}

}  // namespace

namespace jarvis {
namespace {

// Serve's environment variables belong to serve: a bad JARVIS_PORT must not
// break other commands, and serve itself still reports it.
TEST(CliEnvironmentTest, ServeVariablesDoNotLeakIntoOtherCommands) {
  setenv("JARVIS_PORT", "not-a-port", 1);
  const test::JarvisRun inspect = test::RunJarvis("inspect " + test::ShellQuote(test::StoriesModelPath()));
  const test::JarvisRun serve = test::RunJarvis("serve --no-preload");
  unsetenv("JARVIS_PORT");
  EXPECT_EQ(inspect.exit_code, 0) << inspect.err;
  EXPECT_NE(inspect.out.find("GGUF v3"), std::string::npos);
  EXPECT_NE(serve.exit_code, 0);
  EXPECT_NE(serve.err.find("--port"), std::string::npos) << serve.err;
}

}  // namespace
}  // namespace jarvis
