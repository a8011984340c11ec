// Model::Load on files people get wrong: each failure is a clear Status that
// names the file and the key or tensor at fault, never a crash.
#include "model/model.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <string>

#include "support/test_paths.h"
#include "support/tiny_model.h"

namespace jarvis {
namespace {

Status LoadSpec(const test::TinyModelSpec& spec, const std::string& name) {
  const std::string path = test::TempPath(name);
  EXPECT_TRUE(test::WriteTinyModel(spec, path).ok());
  auto m = Model::Load(path);
  std::remove(path.c_str());
  return m.ok() ? Status::Ok() : m.status();
}

TEST(ModelLoadTest, StoriesHyperParameters) {
  auto m = Model::Load(test::StoriesModelPath());
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  const HParams& hp = (*m)->hparams();
  EXPECT_EQ(hp.arch, ModelArch::kLlama);
  EXPECT_EQ(hp.n_layer, 5);
  EXPECT_EQ(hp.n_embd, 64);
  EXPECT_EQ(hp.n_head, 8);
  EXPECT_EQ(hp.n_head_kv, 4);
  EXPECT_EQ(hp.n_ff, 172);
  EXPECT_EQ(hp.n_vocab, 512);
  EXPECT_EQ(hp.head_dim, 8);
  EXPECT_FALSE((*m)->weights().tied_embeddings);
}

TEST(ModelLoadTest, UnsupportedArchitecture) {
  test::TinyModelSpec spec;
  spec.arch = "gptneox";
  const Status s = LoadSpec(spec, "arch");
  EXPECT_EQ(s.code(), StatusCode::kUnsupported);
  EXPECT_NE(s.message().find("gptneox"), std::string::npos) << s.message();
}

TEST(ModelLoadTest, MissingTensorIsNamed) {
  test::TinyModelSpec spec;
  spec.omit_tensor = "blk.1.ffn_up.weight";
  const Status s = LoadSpec(spec, "missing");
  EXPECT_EQ(s.code(), StatusCode::kNotFound);
  EXPECT_NE(s.message().find("blk.1.ffn_up.weight"), std::string::npos) << s.message();
}

TEST(ModelLoadTest, WrongShapeIsNamed) {
  test::TinyModelSpec spec;
  spec.n_ff = 128;  // ffn_gate is [64, 128]; swapped it is [128, 64]
  spec.transpose_tensor = "blk.0.ffn_gate.weight";
  const Status s = LoadSpec(spec, "shape");
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("blk.0.ffn_gate.weight"), std::string::npos) << s.message();
}

TEST(ModelLoadTest, WeightTypeWithoutKernelIsNamedWithTheSupportedList) {
  test::TinyModelSpec spec;
  spec.weight_type = GgmlType::kQ2_K;
  spec.n_embd = 256;
  spec.n_ff = 256;
  const Status s = LoadSpec(spec, "q2k");
  EXPECT_EQ(s.code(), StatusCode::kUnsupported);
  EXPECT_NE(s.message().find("q2_k"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("q4_k"), std::string::npos) << s.message();  // the supported list
}

TEST(ModelLoadTest, MissingHyperParameterIsNamed) {
  // A vocabulary-only file has no llama.* keys and no tensors.
  auto m = Model::Load(test::SharedPath("tokenizers/llama3-vocab.gguf"));
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.status().message().find("llama3-vocab.gguf"), std::string::npos) << m.status().message();
}

TEST(ModelLoadTest, NotAFile) {
  EXPECT_EQ(Model::Load("/nonexistent/model.gguf").status().code(), StatusCode::kNotFound);
  EXPECT_FALSE(Model::Load("/tmp").ok());
}

}  // namespace
}  // namespace jarvis
