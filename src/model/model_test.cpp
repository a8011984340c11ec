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
  EXPECT_EQ(hp.spec, FindArch("llama"));
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
  EXPECT_NE(s.message().find("llama, qwen2, qwen3, gemma2, gemma3, phi3"), std::string::npos) << s.message();
}

Result<std::unique_ptr<Model>> LoadTiny(const test::TinyModelSpec& spec, const std::string& name) {
  const std::string path = test::TempPath(name);
  EXPECT_TRUE(test::WriteTinyModel(spec, path).ok());
  auto m = Model::Load(path);
  std::remove(path.c_str());  // the mapping stays valid
  return m;
}

// Which layers slide, and their rope, as the metadata and the table say.
TEST(ModelLoadTest, SlidingWindowLayersAndLocalRope) {
  test::TinyModelSpec gemma2;
  gemma2.arch = "gemma2";
  gemma2.n_layer = 4;
  auto g2 = LoadTiny(gemma2, "g2");
  ASSERT_TRUE(g2.ok()) << g2.status().ToString();
  const HParams& h2 = (*g2)->hparams();
  EXPECT_EQ(h2.sliding_window, 4096);  // gemma2's default when the key is absent
  for (int i = 0; i < 4; ++i) EXPECT_EQ(h2.layers[static_cast<size_t>(i)].sliding_window, i % 2 == 0) << i;
  EXPECT_FLOAT_EQ(h2.embd_scale, 8.0f);  // sqrt(64)

  test::TinyModelSpec gemma3;
  gemma3.arch = "gemma3";
  gemma3.n_layer = 7;
  gemma3.sliding_window = 512;
  gemma3.rope_base = 1e6f;
  gemma3.rope_linear_factor = 8.0f;
  auto g3 = LoadTiny(gemma3, "g3");
  ASSERT_TRUE(g3.ok()) << g3.status().ToString();
  const HParams& h3 = (*g3)->hparams();
  for (int i = 0; i < 7; ++i) {
    const LayerParams& l = h3.layers[static_cast<size_t>(i)];
    EXPECT_EQ(l.sliding_window, i != 5) << i;  // 5 local : 1 global
    EXPECT_FLOAT_EQ(l.rope.freq_base, i != 5 ? 10000.0f : 1e6f) << i;
    EXPECT_FLOAT_EQ(l.rope.freq_scale, i != 5 ? 1.0f : 0.125f) << i;
  }

  test::TinyModelSpec gemma3_global = gemma3;  // no window in the file: every layer global
  gemma3_global.sliding_window = -1;
  auto g3g = LoadTiny(gemma3_global, "g3g");
  ASSERT_TRUE(g3g.ok());
  for (const LayerParams& l : (*g3g)->hparams().layers) EXPECT_FALSE(l.sliding_window);

  test::TinyModelSpec llama;
  auto l = LoadTiny(llama, "llama-noswa");
  ASSERT_TRUE(l.ok());
  EXPECT_EQ(l.value()->hparams().sliding_window, 0);
  EXPECT_FLOAT_EQ(l.value()->hparams().attn_scale, 1.0f / 4.0f);  // 1/sqrt(16)
}

// Phi-3's fused tensors are bound as row ranges of the one tensor.
TEST(ModelLoadTest, FusedTensorsAreSplitIntoRowRanges) {
  test::TinyModelSpec phi3;
  phi3.arch = "phi3";
  auto m = LoadTiny(phi3, "phi3");
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  const LayerWeights& l = (*m)->weights().layers[1];
  const GgufTensorInfo* qkv = (*m)->gguf().FindTensor("blk.1.attn_qkv.weight");
  const GgufTensorInfo* up = (*m)->gguf().FindTensor("blk.1.ffn_up.weight");
  ASSERT_NE(qkv, nullptr);
  ASSERT_NE(up, nullptr);
  EXPECT_TRUE((*m)->weights().fused_qkv);
  EXPECT_EQ(l.wq.rows, 64);
  EXPECT_EQ(l.wk.rows, 32);
  EXPECT_EQ(l.wq.data, qkv->data);
  EXPECT_EQ(l.wk.data, qkv->data + 64 * l.wq.row_bytes);
  EXPECT_EQ(l.wv.data, qkv->data + 96 * l.wq.row_bytes);
  EXPECT_EQ(l.w_gate.data, up->data);
  EXPECT_EQ(l.w_up.data, up->data + 96 * l.w_gate.row_bytes);
  EXPECT_NE((*m)->weights().rope_factors_short, nullptr);
  EXPECT_EQ((*m)->hparams().rope.freq_factors, (*m)->weights().rope_factors_short);
}

// A file whose tensors do not fit its architecture names the tensor.
TEST(ModelLoadTest, ArchitectureTensorsAreNamed) {
  test::TinyModelSpec qwen3;
  qwen3.arch = "qwen3";
  qwen3.omit_tensor = "blk.1.attn_k_norm.weight";
  const Status s = LoadSpec(qwen3, "qwen3-missing");
  EXPECT_EQ(s.code(), StatusCode::kNotFound);
  EXPECT_NE(s.message().find("blk.1.attn_k_norm.weight"), std::string::npos) << s.message();

  test::TinyModelSpec gemma2;
  gemma2.arch = "gemma2";
  gemma2.omit_tensor = "blk.0.post_ffw_norm.weight";
  EXPECT_NE(LoadSpec(gemma2, "g2-missing").message().find("blk.0.post_ffw_norm.weight"), std::string::npos);

  test::TinyModelSpec phi3;
  phi3.arch = "phi3";
  phi3.omit_tensor = "rope_factors_long.weight";
  EXPECT_NE(LoadSpec(phi3, "phi3-missing").message().find("rope_factors_long.weight"), std::string::npos);
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
  // Q8_K: a type the quantizer writes (it is the K formats' activation
  // block) but no matmul reads.
  spec.weight_type = GgmlType::kQ8_K;
  spec.n_embd = 256;
  spec.n_ff = 256;
  const Status s = LoadSpec(spec, "q8k");
  EXPECT_EQ(s.code(), StatusCode::kUnsupported);
  EXPECT_NE(s.message().find("q8_k"), std::string::npos) << s.message();
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
