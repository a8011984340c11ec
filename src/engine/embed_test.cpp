// Engine::Embed against the plain double-precision references
// (tests/reference: ReferenceEncoder for bert / nomic-bert, ReferenceLlama's
// final hidden states for decoders), on random tiny models of F32, F16 and
// Q8_0 weights, on the scalar kernels (pinned: cosine >= 0.9999) and the
// fastest this CPU has (int8 activations for Q8_0: cosine >= 0.999); plus
// batch invariance, pooling variants, input errors and encoder load errors.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "engine/embedding_pooling.h"
#include "engine/engine.h"
#include "kernels/cpu/isa.h"
#include "reference/reference_encoder.h"
#include "reference/reference_llama.h"
#include "support/test_paths.h"
#include "support/tiny_model.h"

namespace jarvis {
namespace {

constexpr double kScalarCosine = 0.9999;
constexpr double kFastCosine = 0.999;

// Inputs of several lengths (1 token, short, longer than a vector register
// of scores, ...) with ids spread over the vocabulary.
std::vector<std::vector<int32_t>> Inputs(int32_t n_vocab) {
  std::vector<std::vector<int32_t>> inputs;
  for (int32_t len : {1, 5, 17, 40}) {
    std::vector<int32_t> in;
    for (int32_t i = 0; i < len; ++i) in.push_back((7 + 31 * i + 13 * len) % n_vocab);
    inputs.push_back(in);
  }
  return inputs;
}

test::TinyModelSpec Encoder(const char* arch, GgmlType type) {
  test::TinyModelSpec s;
  s.arch = arch;
  s.n_head = 4;
  s.n_head_kv = 4;  // BERT has no grouped-query attention
  s.n_ff = 96;
  s.n_ctx = 64;
  s.weight_type = type;
  if (std::string(arch) == "nomic-bert") s.rope_base = 1000.0f;
  return s;
}

test::TinyModelSpec Decoder(GgmlType type) {
  test::TinyModelSpec s;
  s.weight_type = type;
  return s;
}

struct Case {
  std::string name;
  test::TinyModelSpec spec;
  KernelIsa isa;
};

void PrintTo(const Case& c, std::ostream* os) { *os << c.name; }

std::vector<Case> Cases() {
  std::vector<Case> cases;
  const std::pair<const char*, GgmlType> types[] = {
      {"f32", GgmlType::kF32}, {"f16", GgmlType::kF16}, {"q8_0", GgmlType::kQ8_0}};
  for (const auto& [type_name, type] : types) {
    for (KernelIsa isa : {KernelIsa::kScalar, BestKernelIsa()}) {
      const std::string suffix = std::string("_") + type_name + (isa == KernelIsa::kScalar ? "_scalar" : "_fast");
      cases.push_back({"bert" + suffix, Encoder("bert", type), isa});
      cases.push_back({"nomic_bert" + suffix, Encoder("nomic-bert", type), isa});
      cases.push_back({"llama" + suffix, Decoder(type), isa});
    }
  }
  return cases;
}

// The reference embedding of one input: the encoder reference, or the
// decoder reference's normed final states pooled (mean unless the file says).
std::vector<double> ReferenceEmbedding(const Model& model, const std::vector<int32_t>& tokens) {
  if (model.hparams().spec->encoder) return test::ReferenceEncoder(model.gguf()).Embed(tokens);
  test::ReferenceLlama ref(model.gguf());
  std::vector<std::vector<double>> rows(tokens.size());
  for (size_t i = 0; i < tokens.size(); ++i) ref.Step(tokens[i], &rows[i]);
  const GgufValue* pooling = model.gguf().Find(model.hparams().arch_name + ".pooling_type");
  return test::ReferencePool(rows, pooling != nullptr ? static_cast<int>(*pooling->as_uint()) : 1);
}

class EmbedTest : public ::testing::Test {
 protected:
  void Load(const test::TinyModelSpec& spec, const std::string& name) {
    path_ = test::TempPath(name);
    ASSERT_TRUE(test::WriteTinyModel(spec, path_).ok());
    auto model = Model::Load(path_);
    ASSERT_TRUE(model.ok()) << model.status().ToString();
    model_ = std::move(model).value();
    EngineOptions options;
    options.n_threads = 2;
    auto engine = Engine::Create(*model_, options);
    ASSERT_TRUE(engine.ok()) << engine.status().ToString();
    engine_ = std::move(engine).value();
  }
  void TearDown() override {
    engine_.reset();
    model_.reset();
    if (!path_.empty()) std::remove(path_.c_str());
  }
  std::vector<float> Embed(const std::vector<std::vector<int32_t>>& inputs) {
    std::vector<float> out;
    const Status s = engine_->Embed(inputs, &out);
    EXPECT_TRUE(s.ok()) << s.ToString();
    return out;
  }
  std::vector<float> Row(const std::vector<float>& all, size_t i) const {
    const size_t d = static_cast<size_t>(engine_->embedding_size());
    return {all.begin() + static_cast<std::ptrdiff_t>(i * d), all.begin() + static_cast<std::ptrdiff_t>((i + 1) * d)};
  }

  std::string path_;
  std::unique_ptr<Model> model_;
  std::unique_ptr<Engine> engine_;
};

class EmbedReferenceTest : public EmbedTest, public ::testing::WithParamInterface<Case> {
 protected:
  void SetUp() override {
    pin_ = std::make_unique<ScopedKernelIsa>(GetParam().isa);
    Load(GetParam().spec, "embed-" + GetParam().name);
  }
  std::unique_ptr<ScopedKernelIsa> pin_;
};

TEST_P(EmbedReferenceTest, MatchesTheReference) {
  const auto inputs = Inputs(model_->hparams().n_vocab);
  const std::vector<float> out = Embed(inputs);
  ASSERT_EQ(out.size(), inputs.size() * static_cast<size_t>(engine_->embedding_size()));
  const double limit = GetParam().isa == KernelIsa::kScalar ? kScalarCosine : kFastCosine;
  for (size_t i = 0; i < inputs.size(); ++i) {
    const double cosine = test::Cosine(ReferenceEmbedding(*model_, inputs[i]), Row(out, i));
    EXPECT_GE(cosine, limit) << "input " << i << " (" << inputs[i].size() << " tokens)";
    std::printf("[ cosine ] %s input %zu (%zu tokens): 1 - cosine = %.2e\n", GetParam().name.c_str(), i,
                inputs[i].size(), 1.0 - cosine);
  }
}

TEST_P(EmbedReferenceTest, RowsDoNotDependOnTheOtherInputs) {
  const auto inputs = Inputs(model_->hparams().n_vocab);
  const std::vector<float> together = Embed(inputs);
  for (size_t i = 0; i < inputs.size(); ++i) {
    EXPECT_EQ(Embed({inputs[i]}), Row(together, i)) << "input " << i;
  }
  // Reordered, and with a duplicate: the same rows.
  const std::vector<float> reordered = Embed({inputs[3], inputs[0], inputs[3]});
  EXPECT_EQ(Row(reordered, 0), Row(together, 3));
  EXPECT_EQ(Row(reordered, 1), Row(together, 0));
  EXPECT_EQ(Row(reordered, 2), Row(together, 3));
}

INSTANTIATE_TEST_SUITE_P(Archs, EmbedReferenceTest, ::testing::ValuesIn(Cases()),
                         [](const ::testing::TestParamInfo<Case>& p) { return p.param.name; });

// Pooling from the metadata, each against the reference; vectors of L2 norm 1.
TEST_F(EmbedTest, PoolingTypesFollowTheMetadata) {
  ScopedKernelIsa scalar(KernelIsa::kScalar);
  const std::vector<int32_t> input = {2, 40, 41, 77, 120, 3};
  std::vector<std::vector<float>> by_pooling;
  for (int32_t pooling : {1, 2, 3}) {
    test::TinyModelSpec spec = Encoder("bert", GgmlType::kF32);
    spec.pooling = pooling;
    Load(spec, "embed-pooling-" + std::to_string(pooling));
    EXPECT_EQ(static_cast<int32_t>(model_->hparams().pooling), pooling);
    const std::vector<float> out = Embed({input});
    double norm = 0.0;
    for (float v : out) norm += static_cast<double>(v) * v;
    EXPECT_NEAR(std::sqrt(norm), 1.0, 1e-5);
    EXPECT_GE(test::Cosine(test::ReferenceEncoder(model_->gguf()).Embed(input), out), kScalarCosine)
        << "pooling " << pooling;
    by_pooling.push_back(out);
    TearDown();
  }
  EXPECT_NE(by_pooling[0], by_pooling[1]);
  EXPECT_NE(by_pooling[1], by_pooling[2]);
}

TEST(EmbeddingPoolingTest, PoolsAndNormalizes) {
  const std::vector<float> hidden = {1, 0, 3, 4, 0, 2};  // three tokens of width 2
  std::vector<float> out(2);
  PoolAndNormalize(Pooling::kMean, hidden.data(), 3, 2, out.data());  // mean (4/3, 2) -> (0.5547, 0.8321)
  EXPECT_NEAR(out[0], 4.0 / 3.0 / std::sqrt(16.0 / 9.0 + 4.0), 1e-6);
  EXPECT_NEAR(out[1], 2.0 / std::sqrt(16.0 / 9.0 + 4.0), 1e-6);
  PoolAndNormalize(Pooling::kCls, hidden.data(), 3, 2, out.data());
  EXPECT_EQ(out, (std::vector<float>{1.0f, 0.0f}));
  PoolAndNormalize(Pooling::kLast, hidden.data(), 3, 2, out.data());
  EXPECT_EQ(out, (std::vector<float>{0.0f, 1.0f}));
  const std::vector<float> zeros = {0, 0};
  PoolAndNormalize(Pooling::kMean, zeros.data(), 1, 2, out.data());
  EXPECT_EQ(out, zeros);  // no NaN from a zero vector
}

// An encoder's first token sees the tokens after it; a decoder's does not.
TEST_F(EmbedTest, EncodersAttendBothWaysDecodersCausally) {
  for (const char* arch : {"bert", "llama"}) {
    test::TinyModelSpec spec = std::string(arch) == "bert" ? Encoder(arch, GgmlType::kF32) : Decoder(GgmlType::kF32);
    spec.pooling = 2;  // the first token's state
    Load(spec, std::string("embed-direction-") + arch);
    const std::vector<float> a = Embed({{2, 10, 11, 12}});
    const std::vector<float> b = Embed({{2, 10, 11, 99}});
    if (model_->hparams().spec->encoder) {
      EXPECT_NE(a, b) << arch;
    } else {
      EXPECT_EQ(a, b) << arch;
    }
    TearDown();
  }
}

// Many inputs span several passes (Engine::kEmbedTokensPerPass); each row is
// still what the input gives alone.
TEST_F(EmbedTest, InputsPackedOverSeveralPassesStayIndependent) {
  test::TinyModelSpec spec = Encoder("nomic-bert", GgmlType::kF32);
  spec.n_ctx = 512;
  Load(spec, "embed-passes");
  std::vector<std::vector<int32_t>> inputs;
  int32_t total = 0;
  for (int32_t i = 0; total <= 2 * Engine::kEmbedTokensPerPass; ++i) {
    std::vector<int32_t> in(static_cast<size_t>(300 + 37 * (i % 5)));
    for (size_t p = 0; p < in.size(); ++p) in[p] = static_cast<int32_t>((i * 17 + p * 5) % 300);
    total += static_cast<int32_t>(in.size());
    inputs.push_back(in);
  }
  const std::vector<float> all = Embed(inputs);
  for (size_t i : {size_t{0}, inputs.size() / 2, inputs.size() - 1}) {
    EXPECT_EQ(Embed({inputs[i]}), Row(all, i)) << "input " << i;
  }
}

TEST_F(EmbedTest, BadInputsAreInvalidArguments) {
  Load(Encoder("bert", GgmlType::kF32), "embed-errors");
  std::vector<float> out;
  const int32_t n_vocab = model_->hparams().n_vocab;
  EXPECT_EQ(engine_->Embed({{2, 3}, {}}, &out).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(engine_->Embed({{2, -1}}, &out).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(engine_->Embed({{2, n_vocab}}, &out).code(), StatusCode::kInvalidArgument);
  const std::vector<int32_t> too_long(static_cast<size_t>(engine_->n_ctx()) + 1, 5);
  const Status s = engine_->Embed({too_long}, &out);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find(std::to_string(engine_->n_ctx())), std::string::npos) << s.message();
  const std::vector<int32_t> longest(static_cast<size_t>(engine_->n_ctx()), 5);
  EXPECT_TRUE(engine_->Embed({longest}, &out).ok());
  EXPECT_TRUE(engine_->Embed({}, &out).ok());
  EXPECT_TRUE(out.empty());
}

TEST_F(EmbedTest, EncodersCannotDecode) {
  Load(Encoder("nomic-bert", GgmlType::kF32), "embed-nodecode");
  EXPECT_TRUE(model_->hparams().spec->encoder);
  EXPECT_EQ(model_->weights().output.data, nullptr);
  Batch batch;
  batch.Add(2, 0, 0, true);
  std::vector<float> logits;
  const Status s = engine_->Decode(batch, &logits);
  EXPECT_EQ(s.code(), StatusCode::kUnsupported);
  EXPECT_NE(s.message().find("encoder"), std::string::npos) << s.message();
}

TEST_F(EmbedTest, PoolingWithoutOneVectorIsUnsupported) {
  test::TinyModelSpec spec = Encoder("bert", GgmlType::kF32);
  spec.pooling = 0;  // none: one vector per token
  Load(spec, "embed-pool-none");
  std::vector<float> out;
  EXPECT_EQ(engine_->Embed({{2, 3}}, &out).code(), StatusCode::kUnsupported);
}

// A missing or misshapen encoder tensor is a clear load error.
TEST(EncoderLoadTest, CorruptEncoderTensorsAreLoadErrors) {
  struct Bad {
    const char* arch;
    const char* omit;
    const char* transpose;
    StatusCode code;
  };
  const Bad cases[] = {
      {"bert", "position_embd.weight", "", StatusCode::kNotFound},
      {"bert", "token_embd_norm.bias", "", StatusCode::kNotFound},
      {"bert", "blk.1.attn_output_norm.weight", "", StatusCode::kNotFound},
      {"bert", "blk.0.ffn_up.bias", "", StatusCode::kNotFound},
      {"nomic-bert", "blk.0.layer_output_norm.bias", "", StatusCode::kNotFound},
      {"nomic-bert", "blk.1.ffn_gate.weight", "", StatusCode::kNotFound},
      {"bert", "", "position_embd.weight", StatusCode::kInvalidArgument},
      {"bert", "", "token_types.weight", StatusCode::kInvalidArgument},
      {"nomic-bert", "", "blk.0.attn_qkv.weight", StatusCode::kInvalidArgument},
  };
  for (const Bad& bad : cases) {
    test::TinyModelSpec spec = Encoder(bad.arch, GgmlType::kF32);
    spec.n_ctx = 96;  // position_embd not square: a transposed one is a wrong shape
    spec.omit_tensor = bad.omit;
    spec.transpose_tensor = bad.transpose;
    const std::string path = test::TempPath("embed-corrupt");
    ASSERT_TRUE(test::WriteTinyModel(spec, path).ok());
    auto model = Model::Load(path);
    std::remove(path.c_str());
    const std::string tensor = *bad.omit ? bad.omit : bad.transpose;
    ASSERT_FALSE(model.ok()) << bad.arch << " " << tensor;
    EXPECT_EQ(model.status().code(), bad.code) << model.status().ToString();
    EXPECT_NE(model.status().message().find(tensor), std::string::npos) << model.status().ToString();
  }
}

// stories260K (a real llama checkpoint): its decoder embeddings against the
// reference's final hidden states, mean-pooled.
TEST_F(EmbedTest, StoriesDecoderEmbeddingsMatchTheReference) {
  ScopedKernelIsa scalar(KernelIsa::kScalar);
  auto model = Model::Load(test::StoriesModelPath());
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  model_ = std::move(model).value();
  EngineOptions options;
  options.n_threads = 2;
  auto engine = Engine::Create(*model_, options);
  ASSERT_TRUE(engine.ok());
  engine_ = std::move(engine).value();
  auto ea = model_->tokenizer().Encode("Once upon a time, there was a little girl named Lily.");
  auto eb = model_->tokenizer().Encode("The cat sat on the mat.");
  ASSERT_TRUE(ea.ok() && eb.ok());
  const std::vector<int32_t> a = *ea, b = *eb;
  const std::vector<float> out = Embed({a, b});
  EXPECT_GE(test::Cosine(ReferenceEmbedding(*model_, a), Row(out, 0)), kScalarCosine);
  EXPECT_GE(test::Cosine(ReferenceEmbedding(*model_, b), Row(out, 1)), kScalarCosine);
  EXPECT_EQ(Embed({b}), Row(out, 1));
}

}  // namespace
}  // namespace jarvis
