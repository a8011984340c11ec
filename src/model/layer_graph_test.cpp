// LayerGraph against a recording LayerOps: the op sequence each architecture's
// layer gets (what both the CPU and the CUDA ops then run), the per-layer
// attention parameters, and the rope factor set chosen by the run's context.
#include "model/layer_graph.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "model/model.h"
#include "support/tiny_model.h"

namespace jarvis {
namespace {

// Records every call as one line; computes nothing.
class RecordingOps final : public LayerOps {
 public:
  void MatMul(int32_t layer, TensorRole weight, Act, Act, int32_t rows) override {
    Log(layer, "matmul " + Role(weight) + " rows " + std::to_string(rows));
  }
  void RmsNorm(int32_t layer, TensorRole weight, Act, Act, int64_t width, int32_t rows, float) override {
    Log(layer, "norm " + Role(weight) + " " + std::to_string(rows) + "x" + std::to_string(width));
  }
  void AddBias(int32_t layer, TensorRole bias, Act, int64_t, int32_t) override { Log(layer, "bias " + Role(bias)); }
  void Rope(Act x, int32_t n_heads, int32_t, const RopeParams& rope) override {
    ropes.push_back(rope);
    Log(-1, std::string("rope ") + (x == Act::kQ ? "q" : "k") + " heads " + std::to_string(n_heads));
  }
  void StoreKvAndAttend(int32_t layer, const AttentionParams& params) override {
    attention.push_back(params);
    Log(layer, "attend");
  }
  void GatedActivation(FfnActivation activation, Act, Act, int64_t) override {
    Log(-1, activation == FfnActivation::kGeluTanh ? "gelu*up" : "silu*up");
  }
  void AttendWithinBatch(const AttentionParams& params, bool causal) override {
    attention.push_back(params);
    Log(-1, causal ? "attend within batch causal" : "attend within batch");
  }
  void LayerNorm(int32_t layer, TensorRole weight, TensorRole bias, Act, Act, int64_t width, int32_t rows,
                 float) override {
    Log(layer, "layernorm " + Role(weight) + "+" + Role(bias) + " " + std::to_string(rows) + "x" +
                   std::to_string(width));
  }
  void Activation(FfnActivation activation, Act, int64_t) override {
    Log(-1, activation == FfnActivation::kGeluTanh ? "gelu" : "silu");
  }
  void Add(Act, Act, int64_t) override { Log(-1, "residual"); }
  void Softcap(Act, int64_t, float cap) override { Log(-1, "softcap " + std::to_string(cap)); }
  void NormLogitRows(Act, Act, int64_t, float) override { Log(-1, "norm logit rows"); }

  std::vector<std::string> calls;
  std::vector<RopeParams> ropes;
  std::vector<AttentionParams> attention;

  int Count(const std::string& call) const {
    int n = 0;
    for (const std::string& c : calls) n += c == call;
    return n;
  }

 private:
  static std::string Role(TensorRole r) { return std::to_string(static_cast<int>(r)); }
  void Log(int32_t layer, const std::string& what) {
    calls.push_back(layer >= 0 ? "L" + std::to_string(layer) + " " + what : what);
  }
};

std::unique_ptr<Model> LoadTiny(const test::TinyModelSpec& spec, const std::string& name) {
  const std::string path = test::TempPath("graph-" + name);
  EXPECT_TRUE(test::WriteTinyModel(spec, path).ok());
  auto m = Model::Load(path);
  std::remove(path.c_str());  // mapped: the file may go
  EXPECT_TRUE(m.ok()) << m.status().ToString();
  return m.ok() ? std::move(m).value() : nullptr;
}

std::string R(TensorRole r) { return std::to_string(static_cast<int>(r)); }

TEST(LayerGraphTest, LlamaLayerIsThePlainPreNormBlock) {
  test::TinyModelSpec s;
  auto model = LoadTiny(s, "llama");
  ASSERT_NE(model, nullptr);
  LayerGraph graph(*model, 64);
  RecordingOps ops;
  graph.RunLayers(ops, 3, 1, 2);
  using T = TensorRole;
  const std::vector<std::string> want = {
      "L1 norm " + R(T::kAttnNorm) + " 3x64", "L1 matmul " + R(T::kAttnQ) + " rows 3",
      "L1 matmul " + R(T::kAttnK) + " rows 3", "L1 matmul " + R(T::kAttnV) + " rows 3",
      "rope q heads 4", "rope k heads 2", "L1 attend", "L1 matmul " + R(T::kAttnOut) + " rows 3", "residual",
      "L1 norm " + R(T::kFfnNorm) + " 3x64", "L1 matmul " + R(T::kFfnGate) + " rows 3",
      "L1 matmul " + R(T::kFfnUp) + " rows 3", "silu*up", "L1 matmul " + R(T::kFfnDown) + " rows 3", "residual"};
  EXPECT_EQ(ops.calls, want);
  ASSERT_EQ(ops.attention.size(), 1u);
  EXPECT_EQ(ops.attention[0].window, 0);
  EXPECT_FLOAT_EQ(ops.attention[0].scale, 1.0f / 4.0f);  // head_dim 16

  RecordingOps head;
  graph.RunHead(head, 2);
  EXPECT_EQ(head.calls, (std::vector<std::string>{"norm logit rows", "matmul " + R(T::kOutput) + " rows 2"}));
}

TEST(LayerGraphTest, ArchitectureFeaturesBecomeTheirSteps) {
  test::TinyModelSpec qwen2;
  qwen2.arch = "qwen2";
  auto q2 = LoadTiny(qwen2, "qwen2");
  ASSERT_NE(q2, nullptr);
  RecordingOps q2_ops;
  LayerGraph(*q2, 64).RunLayers(q2_ops, 1, 0, 2);
  EXPECT_EQ(q2_ops.Count("L0 bias " + R(TensorRole::kAttnQBias)), 1);
  EXPECT_EQ(q2_ops.Count("L1 bias " + R(TensorRole::kAttnVBias)), 1);

  test::TinyModelSpec gemma2;
  gemma2.arch = "gemma2";
  gemma2.head_dim = 32;
  gemma2.sliding_window = 5;
  gemma2.attn_softcap = 2.0f;
  gemma2.final_softcap = 4.0f;
  auto g2 = LoadTiny(gemma2, "gemma2");
  ASSERT_NE(g2, nullptr);
  LayerGraph g2_graph(*g2, 64);
  RecordingOps g2_ops;
  g2_graph.RunLayers(g2_ops, 2, 0, 2);
  EXPECT_EQ(g2_ops.Count("gelu*up"), 2);
  EXPECT_EQ(g2_ops.Count("L1 norm " + R(TensorRole::kAttnPostNorm) + " 2x64"), 1);
  EXPECT_EQ(g2_ops.Count("L1 norm " + R(TensorRole::kFfnPostNorm) + " 2x64"), 1);
  ASSERT_EQ(g2_ops.attention.size(), 2u);
  EXPECT_EQ(g2_ops.attention[0].window, 5);  // layer 0 local
  EXPECT_EQ(g2_ops.attention[1].window, 0);  // layer 1 global
  EXPECT_FLOAT_EQ(g2_ops.attention[1].softcap, 2.0f);
  RecordingOps g2_head;
  g2_graph.RunHead(g2_head, 1);
  EXPECT_EQ(g2_head.calls.back(), "softcap " + std::to_string(4.0f));

  test::TinyModelSpec qwen3;
  qwen3.arch = "qwen3";
  qwen3.head_dim = 32;
  auto q3 = LoadTiny(qwen3, "qwen3");
  ASSERT_NE(q3, nullptr);
  RecordingOps q3_ops;
  LayerGraph(*q3, 64).RunLayers(q3_ops, 3, 0, 1);
  // Per-head norms: every head of every token is a row of head_dim.
  EXPECT_EQ(q3_ops.Count("L0 norm " + R(TensorRole::kAttnQNorm) + " 12x32"), 1);
  EXPECT_EQ(q3_ops.Count("L0 norm " + R(TensorRole::kAttnKNorm) + " 6x32"), 1);
}

// The encoders: post-norm residuals (LayerNorm of x + block), no pre-norms,
// bert's plain biased GELU FFN and absolute positions (no rope), nomic-bert's
// rope and SwiGLU; the embedding pass attends within the batch, bidirectional.
TEST(LayerGraphTest, EncoderLayersArePostNormBlocks) {
  using T = TensorRole;
  test::TinyModelSpec bert;
  bert.arch = "bert";
  bert.n_head_kv = 4;
  auto b = LoadTiny(bert, "bert");
  ASSERT_NE(b, nullptr);
  LayerGraph b_graph(*b, 64);
  RecordingOps ops;
  b_graph.RunInputNorm(ops, 3);
  b_graph.RunLayersWithoutCache(ops, 3);
  b_graph.RunFinalNorm(ops, 3);
  const std::vector<std::string> layer0 = {
      "layernorm " + R(T::kTokenEmbdNorm) + "+" + R(T::kTokenEmbdNormBias) + " 3x64",
      "L0 matmul " + R(T::kAttnQ) + " rows 3", "L0 matmul " + R(T::kAttnK) + " rows 3",
      "L0 matmul " + R(T::kAttnV) + " rows 3", "L0 bias " + R(T::kAttnQBias), "L0 bias " + R(T::kAttnKBias),
      "L0 bias " + R(T::kAttnVBias), "attend within batch", "L0 matmul " + R(T::kAttnOut) + " rows 3",
      "L0 bias " + R(T::kAttnOutBias), "residual",
      "L0 layernorm " + R(T::kAttnOutNorm) + "+" + R(T::kAttnOutNormBias) + " 3x64",
      "L0 matmul " + R(T::kFfnUp) + " rows 3", "L0 bias " + R(T::kFfnUpBias), "gelu",
      "L0 matmul " + R(T::kFfnDown) + " rows 3", "L0 bias " + R(T::kFfnDownBias), "residual",
      "L0 layernorm " + R(T::kLayerOutNorm) + "+" + R(T::kLayerOutNormBias) + " 3x64"};
  ASSERT_EQ(ops.calls.size(), 1 + 2 * (layer0.size() - 1));  // two layers, no final norm
  EXPECT_EQ(std::vector<std::string>(ops.calls.begin(), ops.calls.begin() + static_cast<std::ptrdiff_t>(layer0.size())),
            layer0);
  EXPECT_FLOAT_EQ(ops.attention[0].scale, 1.0f / 4.0f);

  test::TinyModelSpec nomic = bert;
  nomic.arch = "nomic-bert";
  auto n = LoadTiny(nomic, "nomic-bert");
  ASSERT_NE(n, nullptr);
  RecordingOps n_ops;
  LayerGraph(*n, 64).RunLayersWithoutCache(n_ops, 2);
  EXPECT_EQ(n_ops.Count("rope q heads 4"), 2);
  EXPECT_EQ(n_ops.Count("silu*up"), 2);
  EXPECT_EQ(n_ops.Count("L1 matmul " + R(T::kFfnGate) + " rows 2"), 1);
  EXPECT_EQ(n_ops.Count("L0 bias " + R(T::kAttnQBias)) + n_ops.Count("L0 bias " + R(T::kAttnOutBias)), 0);
  EXPECT_EQ(n_ops.Count("L1 layernorm " + R(T::kLayerOutNorm) + "+" + R(T::kLayerOutNormBias) + " 2x64"), 1);

  // A decoder's embedding pass: causal, then the output norm.
  auto llama = LoadTiny(test::TinyModelSpec{}, "llama-embed");
  ASSERT_NE(llama, nullptr);
  RecordingOps l_ops;
  LayerGraph l_graph(*llama, 64);
  l_graph.RunInputNorm(l_ops, 2);
  l_graph.RunLayersWithoutCache(l_ops, 2);
  l_graph.RunFinalNorm(l_ops, 2);
  EXPECT_EQ(l_ops.Count("attend within batch causal"), 2);
  EXPECT_EQ(l_ops.calls.back(), "norm " + R(T::kOutputNorm) + " 2x64");
}

TEST(LayerGraphTest, LongropeFactorsFollowTheRunsContext) {
  test::TinyModelSpec s;
  s.arch = "phi3";
  s.n_ctx = 256;
  s.rope_orig_ctx = 64;
  auto model = LoadTiny(s, "phi3");
  ASSERT_NE(model, nullptr);
  const ModelWeights& w = model->weights();
  ASSERT_NE(w.rope_factors_short, nullptr);
  ASSERT_NE(w.rope_factors_long, nullptr);
  EXPECT_EQ(LayerGraph(*model, 64).rope(0).freq_factors, w.rope_factors_short);
  EXPECT_EQ(LayerGraph(*model, 65).rope(1).freq_factors, w.rope_factors_long);
  // What the ops are handed.
  RecordingOps ops;
  LayerGraph(*model, 256).RunLayers(ops, 1, 0, 1);
  ASSERT_EQ(ops.ropes.size(), 2u);
  EXPECT_EQ(ops.ropes[0].freq_factors, w.rope_factors_long);
  // The model's own default is the original context's.
  EXPECT_EQ(model->hparams().rope.freq_factors, w.rope_factors_short);
}

}  // namespace
}  // namespace jarvis
