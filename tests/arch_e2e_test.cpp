// End-to-end, per architecture of the table (model/arch.h): the tiny-<arch>
// `synth` presets load, inspect (showing their windows, soft-caps, rope
// factors), run, give teacher-forced logits and bench through the built
// binary; the real-shape presets plan the tensors (names and shapes) that
// llama.cpp's converters write for those checkpoints.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "support/run_jarvis.h"

namespace {

namespace fs = std::filesystem;
using jarvis::test::JarvisRun;
using jarvis::test::RunJarvis;
using jarvis::test::ShellQuote;

class ArchE2eTest : public ::testing::TestWithParam<std::string> {
 protected:
  static void SetUpTestSuite() {
    dir_ = fs::temp_directory_path() / ("jarvis_arch_e2e_" + std::to_string(::getpid()));
    fs::create_directories(dir_);
  }
  static void TearDownTestSuite() { fs::remove_all(dir_); }
  // The preset's file, synthesized once per test.
  std::string Synth() {
    const std::string path = (dir_ / (GetParam() + ".gguf")).string();
    const JarvisRun r = RunJarvis("synth --preset " + GetParam() + " --type q8_0 --seed 3 --out " + ShellQuote(path));
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return path;
  }
  static fs::path dir_;
};
fs::path ArchE2eTest::dir_;

TEST_P(ArchE2eTest, InspectRunLogitsBench) {
  const std::string model = ShellQuote(Synth());
  const JarvisRun inspect = RunJarvis("inspect " + model + " --json");
  ASSERT_EQ(inspect.exit_code, 0) << inspect.err;
  const auto j = nlohmann::json::parse(inspect.out);
  const auto& g = j["graph"];
  ASSERT_TRUE(g["supported"].get<bool>()) << g.dump();
  const std::string& arch = j["architecture"].get_ref<const std::string&>();
  if (arch == "gemma2") {
    EXPECT_EQ(g["sliding_window"], 8);
    EXPECT_EQ(g["sliding_layers"], nlohmann::json::array({0}));  // of 2 layers: local, global
    EXPECT_EQ(g["attn_softcap"], 50.0);
    EXPECT_EQ(g["final_softcap"], 30.0);
    EXPECT_EQ(g["activation"], "gelu_tanh");
    EXPECT_EQ(g["embedding_scale"], 16.0);
  } else if (arch == "gemma3") {
    EXPECT_EQ(g["sliding_layers"], nlohmann::json::array({0, 1}));  // period 3: layer 2 global
    EXPECT_EQ(g["local_rope_base"], 10000.0);
    EXPECT_TRUE(g["qk_norm"].get<bool>());
  } else if (arch == "phi3") {
    EXPECT_TRUE(g["fused_qkv"].get<bool>());
    EXPECT_EQ(g["sliding_layers"].size(), 2u);
    EXPECT_EQ(g["rope_factors_short"]["count"], 32);  // head_dim 64 / 2
    EXPECT_FALSE(g["rope_factors_long"].is_null());
    EXPECT_GT(g["rope_attn_factor"].get<double>(), 1.0);
    EXPECT_EQ(g["rope_original_context"], 256);  // the preset's original context
  } else {
    EXPECT_EQ(arch, "qwen3");
    EXPECT_EQ(g["head_dim"], 128);
    EXPECT_TRUE(g["qk_norm"].get<bool>());
  }
  const JarvisRun human = RunJarvis("inspect " + model);
  ASSERT_EQ(human.exit_code, 0) << human.err;
  EXPECT_NE(human.out.find("sliding window"), std::string::npos) << human.out;
  EXPECT_NE(human.out.find("soft-caps"), std::string::npos) << human.out;
  if (arch == "phi3") {
    EXPECT_NE(human.out.find("long beyond"), std::string::npos) << human.out;
  }

  const JarvisRun run = RunJarvis("run -m " + model + " -p 'ab cd' -n 8 --temperature 0 -t 1");
  ASSERT_EQ(run.exit_code, 0) << run.err;

  // The last position of --all-positions is the plain run's (teacher forcing
  // in one batch); every logit finite.
  const JarvisRun all = RunJarvis("logits -m " + model + " --tokens 1,300,301,302,303,304 --all-positions --json");
  const JarvisRun last = RunJarvis("logits -m " + model + " --tokens 1,300,301,302,303,304 --json");
  ASSERT_EQ(all.exit_code, 0) << all.err;
  ASSERT_EQ(last.exit_code, 0) << last.err;
  const auto a = nlohmann::json::parse(all.out);
  const auto l = nlohmann::json::parse(last.out);
  ASSERT_EQ(a["positions"].size(), 6u);
  EXPECT_EQ(a["positions"][5]["top"], l["positions"][0]["top"]);
  for (const auto& p : a["positions"]) EXPECT_TRUE(std::isfinite(p["top"][0]["logit"].get<double>()));

  const JarvisRun bench = RunJarvis("bench -m " + model + " -p 16 -n 4 -b 2 -t 1 -r 1 --json");
  ASSERT_EQ(bench.exit_code, 0) << bench.err;
  const auto b = nlohmann::json::parse(bench.out);
  ASSERT_GE(b["results"].size(), 2u) << bench.out;  // pp16, tg4 (, B=2)
  for (const auto& row : b["results"]) EXPECT_GT(row["tokens_per_s_best"].get<double>(), 0.0);
}

INSTANTIATE_TEST_SUITE_P(TinyPresets, ArchE2eTest,
                         ::testing::Values("tiny-qwen3", "tiny-gemma2", "tiny-gemma3", "tiny-phi3"),
                         [](const ::testing::TestParamInfo<std::string>& p) {
                           std::string n = p.param;
                           for (char& c : n) c = c == '-' ? '_' : c;
                           return n;
                         });

// The encoder presets: they load, inspect as embeddings-only with their
// pooling, and refuse to generate with a clear error.
TEST(EncoderPresetTest, InspectShowsAnEncoderThatCannotGenerate) {
  const fs::path dir = fs::temp_directory_path() / ("jarvis_encoder_e2e_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  for (const std::string preset : {"tiny-bert", "tiny-nomic-bert"}) {
    const std::string path = (dir / (preset + ".gguf")).string();
    const JarvisRun synth = RunJarvis("synth --preset " + preset + " --type f16 --seed 3 --out " + ShellQuote(path));
    ASSERT_EQ(synth.exit_code, 0) << synth.err;
    const JarvisRun inspect = RunJarvis("inspect " + ShellQuote(path) + " --json");
    ASSERT_EQ(inspect.exit_code, 0) << inspect.err;
    const auto g = nlohmann::json::parse(inspect.out)["graph"];
    ASSERT_TRUE(g["supported"].get<bool>()) << g.dump();
    EXPECT_EQ(g["kind"], "encoder (embeddings only)");
    EXPECT_EQ(g["pooling"], "mean");
    EXPECT_FALSE(g["causal"].get<bool>());
    EXPECT_EQ(g["activation"], preset == "tiny-bert" ? "gelu_tanh" : "silu");
    const JarvisRun human = RunJarvis("inspect " + ShellQuote(path));
    EXPECT_NE(human.out.find("encoder (embeddings only), pooling mean"), std::string::npos) << human.out;
    const JarvisRun run = RunJarvis("run -m " + ShellQuote(path) + " -p 'the cat' -n 2 -t 1");
    EXPECT_NE(run.exit_code, 0);
    EXPECT_NE(run.err.find("encoder"), std::string::npos) << run.err;
  }
  fs::remove_all(dir);
}

// name -> "[dims]" of a --dry-run plan.
std::map<std::string, std::string> Plan(const std::string& preset) {
  const JarvisRun r = RunJarvis("synth --preset " + preset + " --type q8_0 --dry-run");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  std::map<std::string, std::string> dims;
  std::istringstream lines(r.out);
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind("total", 0) == 0 || line.find('[') == std::string::npos) continue;
    dims[line.substr(0, line.find(' '))] = line.substr(line.find('['), line.find(']') - line.find('[') + 1);
  }
  return dims;
}

// The shapes of the published checkpoints as llama.cpp converts them.
TEST(ArchPresetTest, RealShapesPlanTheConvertersTensors) {
  auto qwen3 = Plan("qwen3-0.6b");
  EXPECT_EQ(qwen3.size(), 1u + 28u * 11u + 1u);  // tied embeddings
  EXPECT_EQ(qwen3["blk.0.attn_q.weight"], "[1024, 2048]");  // 16 heads of 128
  EXPECT_EQ(qwen3["blk.0.attn_k.weight"], "[1024, 1024]");
  EXPECT_EQ(qwen3["blk.27.attn_q_norm.weight"], "[128]");
  EXPECT_EQ(qwen3["token_embd.weight"], "[1024, 151936]");

  auto gemma2 = Plan("gemma2-2b");
  EXPECT_EQ(gemma2.size(), 1u + 26u * 11u + 1u);
  EXPECT_EQ(gemma2["blk.0.attn_q.weight"], "[2304, 2048]");  // 8 heads of 256
  EXPECT_EQ(gemma2["blk.0.post_attention_norm.weight"], "[2304]");
  EXPECT_EQ(gemma2["blk.25.post_ffw_norm.weight"], "[2304]");
  EXPECT_EQ(gemma2["blk.0.ffn_gate.weight"], "[2304, 9216]");

  auto gemma3 = Plan("gemma3-1b");
  EXPECT_EQ(gemma3.size(), 1u + 26u * 13u + 1u);
  EXPECT_EQ(gemma3["blk.0.attn_k.weight"], "[1152, 256]");  // 1 KV head of 256
  EXPECT_EQ(gemma3["blk.0.attn_k_norm.weight"], "[256]");
  EXPECT_EQ(gemma3["token_embd.weight"], "[1152, 262144]");

  auto phi3 = Plan("phi3-mini");
  EXPECT_EQ(phi3.size(), 1u + 32u * 6u + 2u);
  EXPECT_EQ(phi3["blk.0.attn_qkv.weight"], "[3072, 9216]");
  EXPECT_EQ(phi3["blk.0.ffn_up.weight"], "[3072, 16384]");  // gate and up
  EXPECT_EQ(phi3["blk.0.ffn_down.weight"], "[8192, 3072]");
  EXPECT_EQ(phi3.count("blk.0.ffn_gate.weight"), 0u);
  EXPECT_EQ(phi3["output.weight"], "[3072, 32064]");

  // Encoders: no output head; nomic-bert fused QKV and SwiGLU without biases,
  // bert separate Q/K/V, biases everywhere, absolute positions.
  auto nomic = Plan("nomic-embed-text-v1.5");
  EXPECT_EQ(nomic.size(), 4u + 12u * 9u);
  EXPECT_EQ(nomic["token_types.weight"], "[768, 2]");
  EXPECT_EQ(nomic["token_embd.weight"], "[768, 30522]");
  EXPECT_EQ(nomic["blk.0.attn_qkv.weight"], "[768, 2304]");
  EXPECT_EQ(nomic["blk.11.ffn_gate.weight"], "[768, 3072]");
  EXPECT_EQ(nomic["blk.11.layer_output_norm.bias"], "[768]");
  EXPECT_EQ(nomic.count("output.weight") + nomic.count("output_norm.weight") + nomic.count("blk.0.attn_q.bias"), 0u);
  auto minilm = Plan("all-minilm-l6-v2");
  EXPECT_EQ(minilm.size(), 5u + 6u * 16u);
  EXPECT_EQ(minilm["position_embd.weight"], "[384, 512]");
  EXPECT_EQ(minilm["blk.0.attn_q.bias"], "[384]");
  EXPECT_EQ(minilm["blk.5.ffn_up.weight"], "[384, 1536]");
  EXPECT_EQ(minilm["blk.5.ffn_down.bias"], "[384]");
  EXPECT_EQ(minilm.count("blk.0.ffn_gate.weight") + minilm.count("output_norm.weight"), 0u);
}

}  // namespace
