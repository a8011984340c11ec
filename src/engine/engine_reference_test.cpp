// The engine against the plain reference forward pass (tests/reference), on
// random tiny models of every weight type and shape feature, and its
// invariance to thread count and batch composition. Every case runs twice:
// on the scalar kernels (pinned, for the tight comparison) and on the fastest
// kernels the CPU has, whose int8 activations (kernels/cpu/matmul.h) allow a
// per-type tolerance.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <deque>
#include <string>

#include "engine/engine.h"
#include "kernels/cpu/isa.h"
#include "quant/quant_types.h"
#include "reference/reference_llama.h"
#include "support/tiny_model.h"

namespace jarvis {
namespace {

struct Case {
  const char* name;
  test::TinyModelSpec spec;
  double tolerance;  // max |engine - reference| / max |reference| over the logits
  // The same on the fast kernels. They quantize activations to int8 for the
  // quantized weight types (blocks of 32, or of 256 for the K types); through
  // two layers of these random models that moves logits by up to (measured
  // maxima over 32 steps) q8_0 1.9%, q4_0 1.7%, q4_k 2.8%, q6_k 2.5% of
  // max |logit| -- the activations' rounding dominates, so 8-bit weights gain
  // little over 4-bit. The limits (FastTolerance) leave ~1.5x margin. Float
  // weights and types without a fast kernel stay at 1e-4.
  double fast_tolerance = 1e-4;
};

test::TinyModelSpec Spec(GgmlType type) {
  test::TinyModelSpec s;
  s.weight_type = type;
  return s;
}

// Fast-kernel tolerance by weight type (see Case::fast_tolerance), by the
// int8 activation block of its fast path (the registry's).
double FastTolerance(GgmlType t) {
  switch (Int8ActsOf(t)) {
    case Int8Acts::kBlock32:
      return 3e-2;
    case Int8Acts::kBlock256:
      return 4e-2;
    case Int8Acts::kNone:
      break;
  }
  return 1e-4;
}

// Names built at run time (the architecture cases), kept alive for the test list.
std::deque<std::string>& names() {
  static std::deque<std::string> n;
  return n;
}

// One tiny model per architecture of model/arch.h beyond llama, each with the
// features that set it apart switched on at sizes where they change the
// logits: windows of a few positions (the tests run ~37), soft-caps near the
// logits' magnitude, head_dim != n_embd / n_head.
std::vector<test::TinyModelSpec> ArchSpecs() {
  std::vector<test::TinyModelSpec> out;
  test::TinyModelSpec qwen3;
  qwen3.arch = "qwen3";
  qwen3.head_dim = 32;  // explicit key_length: Q is 128 wide on a 64-wide stream
  qwen3.tied_embeddings = true;
  out.push_back(qwen3);
  test::TinyModelSpec gemma2;
  gemma2.arch = "gemma2";
  gemma2.head_dim = 32;
  gemma2.tied_embeddings = true;
  gemma2.sliding_window = 5;  // layer 0 local, layer 1 global
  gemma2.attn_softcap = 2.0f;
  gemma2.final_softcap = 4.0f;
  out.push_back(gemma2);
  test::TinyModelSpec gemma3;
  gemma3.arch = "gemma3";
  gemma3.n_layer = 3;
  gemma3.swa_period = 3;  // layers 0, 1 local, layer 2 global
  gemma3.sliding_window = 6;
  gemma3.tied_embeddings = true;
  gemma3.rope_base = 1000000.0f;
  gemma3.rope_base_swa = 10000.0f;
  gemma3.rope_linear_factor = 4.0f;  // global layers only
  out.push_back(gemma3);
  test::TinyModelSpec phi3;
  phi3.arch = "phi3";
  phi3.sliding_window = 7;  // every layer
  phi3.rope_attn_factor = 1.2f;
  out.push_back(phi3);
  test::TinyModelSpec phi3_unfused = phi3;
  phi3_unfused.fused_qkv = false;
  out.push_back(phi3_unfused);
  return out;
}

std::vector<Case> BaseCases() {
  std::vector<Case> cases = {
      {"f32", Spec(GgmlType::kF32), 1e-4},     {"f16", Spec(GgmlType::kF16), 1e-4},
      {"bf16", Spec(GgmlType::kBF16), 1e-4},   {"q8_0", Spec(GgmlType::kQ8_0), 1e-4},
      {"q4_0", Spec(GgmlType::kQ4_0), 1e-4},   {"q4_1", Spec(GgmlType::kQ4_1), 1e-4},
      {"q5_0", Spec(GgmlType::kQ5_0), 1e-4},   {"q5_1", Spec(GgmlType::kQ5_1), 1e-4},
      {"iq4_nl", Spec(GgmlType::kIQ4_NL), 1e-4},
  };
  // K-quants (and IQ4_XS) need rows of 256: a wider model.
  for (GgmlType t : {GgmlType::kQ4_K, GgmlType::kQ5_K, GgmlType::kQ6_K, GgmlType::kQ3_K, GgmlType::kQ2_K,
                     GgmlType::kIQ4_XS}) {
    test::TinyModelSpec s = Spec(t);
    s.n_embd = 256;
    s.n_ff = 512;
    s.n_head = 4;
    s.n_vocab = 512;
    cases.push_back({TypeName(t), s, 1e-4});
  }
  test::TinyModelSpec qwen = Spec(GgmlType::kF32);
  qwen.arch = "qwen2";
  cases.push_back({"qwen2", qwen, 1e-4});
  test::TinyModelSpec tied = Spec(GgmlType::kQ8_0);
  tied.tied_embeddings = true;
  tied.n_head_kv = 1;  // multi-query attention
  cases.push_back({"tied_mqa", tied, 1e-4});
  test::TinyModelSpec rope = Spec(GgmlType::kF32);
  rope.rope_freqs = true;
  rope.rope_base = 500000.0f;
  cases.push_back({"llama3_rope", rope, 1e-4});
  test::TinyModelSpec linear = Spec(GgmlType::kF32);
  linear.rope_linear_factor = 4.0f;
  cases.push_back({"rope_linear", linear, 1e-4});
  for (const test::TinyModelSpec& arch : ArchSpecs()) cases.push_back({nullptr, arch, 1e-4});
  for (const test::TinyModelSpec& arch : ArchSpecs()) {  // the same on a quantized type
    test::TinyModelSpec q = arch;
    q.weight_type = GgmlType::kQ8_0;
    cases.push_back({nullptr, q, 1e-4});
  }
  for (Case& c : cases) {
    c.fast_tolerance = FastTolerance(c.spec.weight_type);
    if (c.name == nullptr) {
      names().push_back(c.spec.arch + (c.spec.fused_qkv ? "" : "_unfused") + "_" + TypeName(c.spec.weight_type));
      c.name = names().back().c_str();
    }
  }
  return cases;
}

struct Param {
  Case c;
  KernelIsa isa;  // kScalar, or the best this CPU has
  std::string name;
};
// Keeps CTest's test list readable (gtest would print the struct's bytes).
void PrintTo(const Param& p, std::ostream* os) { *os << p.name; }

// Every case on the scalar kernels and, unless scalar_only, on the best ISA.
std::vector<Param> Params(bool scalar_only) {
  std::vector<Param> ps;
  for (const Case& c : BaseCases()) {
    ps.push_back({c, KernelIsa::kScalar, std::string(c.name) + "_scalar"});
    if (!scalar_only) ps.push_back({c, BestKernelIsa(), std::string(c.name) + "_fast"});
  }
  return ps;
}

class EngineReferenceTest : public ::testing::TestWithParam<Param> {
 protected:
  void SetUp() override {
    pin_ = std::make_unique<ScopedKernelIsa>(GetParam().isa);
    ASSERT_TRUE(pin_->ok());
    path_ = test::TempPath(std::string("ref-") + GetParam().name);
    ASSERT_TRUE(test::WriteTinyModel(GetParam().c.spec, path_).ok());
    auto model = Model::Load(path_);
    ASSERT_TRUE(model.ok()) << model.status().ToString();
    model_ = std::move(model).value();
  }
  void TearDown() override { std::remove(path_.c_str()); }

  std::unique_ptr<Engine> MakeEngine(int threads, int max_sequences = 4) {
    EngineOptions o;
    o.n_threads = threads;
    o.n_ctx = 128;
    o.max_sequences = max_sequences;
    o.kv_type = KvType::kF32;
    auto e = Engine::Create(*model_, o);
    EXPECT_TRUE(e.ok());
    return std::move(e).value();
  }

  double Tolerance() const {
    return GetParam().isa == KernelIsa::kScalar ? GetParam().c.tolerance : GetParam().c.fast_tolerance;
  }

  std::unique_ptr<ScopedKernelIsa> pin_;
  std::string path_;
  std::unique_ptr<Model> model_;
};

int32_t Argmax(const float* v, int32_t n) { return static_cast<int32_t>(std::max_element(v, v + n) - v); }

// Greedy decoding of one sequence, one token per step; returns tokens and the
// logits of every step.
std::vector<int32_t> GreedyAlone(Engine& e, const std::vector<int32_t>& prompt, int steps,
                                 std::vector<std::vector<float>>* all_logits) {
  const int32_t n_vocab = e.model().hparams().n_vocab;
  const int32_t seq = e.kv().CreateSequence();
  std::vector<int32_t> out;
  std::vector<float> logits;
  Batch batch;
  // Prefill the whole prompt in one batch, then decode.
  EXPECT_TRUE(e.kv().Reserve(seq, static_cast<int32_t>(prompt.size())).ok());
  for (size_t i = 0; i < prompt.size(); ++i) batch.Add(prompt[i], static_cast<int32_t>(i), 0, i + 1 == prompt.size());
  batch.block_tables = {e.kv().block_table(seq)};
  EXPECT_TRUE(e.Decode(batch, &logits).ok());
  int32_t pos = static_cast<int32_t>(prompt.size());
  for (int s = 0; s < steps; ++s) {
    if (all_logits) all_logits->push_back(logits);
    const int32_t tok = Argmax(logits.data(), n_vocab);
    out.push_back(tok);
    EXPECT_TRUE(e.kv().Reserve(seq, pos + 1).ok());
    batch.Clear();
    batch.Add(tok, pos++, 0, true);
    batch.block_tables = {e.kv().block_table(seq)};
    EXPECT_TRUE(e.Decode(batch, &logits).ok());
  }
  e.kv().FreeSequence(seq);
  return out;
}

// max |a - b| / max |b| over the logits, and b's top-2 gap on the same scale.
struct LogitsDiff {
  double rel_diff = 0.0;
  double rel_gap = 0.0;
};
LogitsDiff Compare(const std::vector<float>& got, const std::vector<double>& ref) {
  double max_ref = 0.0, max_diff = 0.0, top1 = -1e300, top2 = -1e300;
  for (size_t i = 0; i < ref.size(); ++i) {
    max_ref = std::max(max_ref, std::abs(ref[i]));
    max_diff = std::max(max_diff, std::abs(ref[i] - got[i]));
    if (ref[i] > top1) {
      top2 = top1;
      top1 = ref[i];
    } else if (ref[i] > top2) {
      top2 = ref[i];
    }
  }
  return {max_diff / max_ref, (top1 - top2) / max_ref};
}

std::string Sci(double v) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.2e", v);
  return buf;
}

int32_t ArgmaxD(const std::vector<double>& v) {
  return static_cast<int32_t>(std::max_element(v.begin(), v.end()) - v.begin());
}

// Scalar kernels: the engine decodes greedily on its own for 32 steps and must
// produce the reference's tokens, with logits within 1e-4.
// Free-running greedy decoding is compared on the scalar kernels only: the
// fast paths' int8 activations move logits by ~2%, more than the top-two gap
// of these random models at near-ties (see TeacherForcedLogitsMatchReference).
class ScalarReferenceTest : public EngineReferenceTest {};

TEST_P(ScalarReferenceTest, LogitsAndGreedyTokensMatchReference) {
  auto engine = MakeEngine(1);
  const std::vector<int32_t> prompt = {1, 270, 300 % model_->hparams().n_vocab, 7, 281};
  std::vector<std::vector<float>> logits;
  const int kSteps = 32;
  std::vector<int32_t> tokens = GreedyAlone(*engine, prompt, kSteps, &logits);

  test::ReferenceLlama ref(model_->gguf());
  std::vector<double> ref_logits;
  for (int32_t t : prompt) ref_logits = ref.Step(t);
  double worst = 0.0;
  for (int s = 0; s < kSteps; ++s) {
    worst = std::max(worst, Compare(logits[s], ref_logits).rel_diff);
    ASSERT_LE(Compare(logits[s], ref_logits).rel_diff, Tolerance()) << "step " << s;
    const int32_t ref_tok = ArgmaxD(ref_logits);
    ASSERT_EQ(tokens[s], ref_tok) << "step " << s;
    ref_logits = ref.Step(ref_tok);
  }
  RecordProperty("max_rel_logit_diff", Sci(worst));  // in the XML report (--gtest_output=xml)
}

// Fast kernels: int8 activations move the logits by 1-3% of max |logit|, more
// than the gap between the two best logits of these random models (often
// < 0.5%), so free-running greedy decoding can part from the reference at a
// near-tie without anything being wrong. Instead both follow the reference's
// greedy tokens (teacher forcing) for 32 steps; the logits must stay within
// the per-type tolerance at every step, and the engine's argmax must be the
// reference's wherever the reference's top-2 gap is over twice the tolerance
// (a choice that error cannot flip).
TEST_P(EngineReferenceTest, TeacherForcedLogitsMatchReference) {
  auto engine = MakeEngine(1);
  const std::vector<int32_t> prompt = {1, 270, 300 % model_->hparams().n_vocab, 7, 281};
  const int32_t n_vocab = model_->hparams().n_vocab;
  const int32_t seq = engine->kv().CreateSequence();
  test::ReferenceLlama ref(model_->gguf());
  std::vector<double> ref_logits;
  for (int32_t t : prompt) ref_logits = ref.Step(t);
  std::vector<float> logits;
  Batch batch;
  double worst = 0.0;
  ASSERT_TRUE(engine->kv().Reserve(seq, static_cast<int32_t>(prompt.size())).ok());
  for (size_t i = 0; i < prompt.size(); ++i) batch.Add(prompt[i], static_cast<int32_t>(i), 0, i + 1 == prompt.size());
  batch.block_tables = {engine->kv().block_table(seq)};
  ASSERT_TRUE(engine->Decode(batch, &logits).ok());
  int32_t pos = static_cast<int32_t>(prompt.size());
  for (int s = 0; s < 32; ++s) {
    const LogitsDiff d = Compare(logits, ref_logits);
    worst = std::max(worst, d.rel_diff);
    ASSERT_LE(d.rel_diff, Tolerance()) << "step " << s;
    const int32_t ref_tok = ArgmaxD(ref_logits);
    if (d.rel_gap > 2.0 * Tolerance()) {
      ASSERT_EQ(Argmax(logits.data(), n_vocab), ref_tok) << "step " << s << ", gap " << d.rel_gap;
    }
    ref_logits = ref.Step(ref_tok);
    ASSERT_TRUE(engine->kv().Reserve(seq, pos + 1).ok());
    batch.Clear();
    batch.Add(ref_tok, pos++, 0, true);
    batch.block_tables = {engine->kv().block_table(seq)};
    ASSERT_TRUE(engine->Decode(batch, &logits).ok());
  }
  RecordProperty("max_rel_logit_diff", Sci(worst));
}

TEST_P(EngineReferenceTest, ResultsDoNotDependOnThreadsOrBatch) {
  const std::vector<int32_t> prompt = {1, 280, 290, 5};
  auto one = MakeEngine(1);
  std::vector<std::vector<float>> logits_1t;
  const std::vector<int32_t> alone = GreedyAlone(*one, prompt, 12, &logits_1t);

  auto two = MakeEngine(2);
  std::vector<std::vector<float>> logits_2t;
  EXPECT_EQ(GreedyAlone(*two, prompt, 12, &logits_2t), alone);
  EXPECT_EQ(logits_2t, logits_1t);  // bit-identical

  // The same sequence decoded inside a batch with three others of different
  // lengths, joining at different steps.
  const int32_t n_vocab = model_->hparams().n_vocab;
  KvCache& kv = two->kv();
  std::vector<std::vector<int32_t>> prompts = {prompt, {1, 260}, {1, 270, 271, 272, 273, 274, 2}, {1}};
  std::vector<int32_t> seqs, pos(4, 0), next(4, -1);
  for (int i = 0; i < 4; ++i) seqs.push_back(kv.CreateSequence());
  std::vector<int32_t> batched;
  std::vector<float> logits;
  for (int step = 0; batched.size() < alone.size(); ++step) {
    Batch b;
    for (int i = 0; i < 4; ++i) {
      if (step < i) continue;  // sequence i joins at step i
      b.block_tables.emplace_back();
      const int32_t idx = static_cast<int32_t>(b.block_tables.size() - 1);
      if (pos[i] == 0) {
        for (size_t j = 0; j < prompts[i].size(); ++j) {
          b.Add(prompts[i][j], static_cast<int32_t>(j), idx, j + 1 == prompts[i].size());
        }
        pos[i] = static_cast<int32_t>(prompts[i].size());
      } else {
        b.Add(next[i], pos[i]++, idx, true);
      }
      ASSERT_TRUE(kv.Reserve(seqs[i], pos[i]).ok());
    }
    int k = 0;
    for (int i = 0; i < 4; ++i) {
      if (step >= i) b.block_tables[k++] = kv.block_table(seqs[i]);
    }
    const Status st = two->Decode(b, &logits);
    ASSERT_TRUE(st.ok()) << st.ToString();
    k = 0;
    for (int i = 0; i < 4; ++i) {
      if (step < i) continue;
      next[i] = Argmax(&logits[static_cast<size_t>(k) * n_vocab], n_vocab);
      if (i == 0) {
        batched.push_back(next[0]);
        EXPECT_TRUE(std::equal(logits_1t[batched.size() - 1].begin(), logits_1t[batched.size() - 1].end(),
                               logits.begin()))
            << "step " << step;
      }
      ++k;
    }
  }
  EXPECT_EQ(batched, alone);
}

// Phi-3 longrope: a run whose context exceeds rope.scaling.original_context_length
// rotates with the long factors, otherwise with the short ones. The two sets
// of the random model differ, so the wrong set misses the reference by far
// more than the tolerance (checked too: the test can fail).
class LongropeReferenceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    pin_ = std::make_unique<ScopedKernelIsa>(KernelIsa::kScalar);
    ASSERT_TRUE(pin_->ok());
    test::TinyModelSpec s;
    s.arch = "phi3";
    s.n_ctx = 256;         // context_length (training)
    s.rope_orig_ctx = 64;  // short factors up to 64 positions per sequence
    s.rope_attn_factor = 1.2f;
    path_ = test::TempPath("longrope");
    ASSERT_TRUE(test::WriteTinyModel(s, path_).ok());
    auto model = Model::Load(path_);
    ASSERT_TRUE(model.ok()) << model.status().ToString();
    model_ = std::move(model).value();
  }
  void TearDown() override { std::remove(path_.c_str()); }

  // Max relative logit difference over a fixed token sequence fed one token
  // per step, engine at context `n_ctx` against a reference at `ref_ctx`.
  double MaxDiff(int32_t n_ctx, int32_t ref_ctx) {
    EngineOptions o;
    o.n_threads = 1;
    o.n_ctx = n_ctx;
    o.kv_type = KvType::kF32;
    auto e = Engine::Create(*model_, o);
    EXPECT_TRUE(e.ok());
    if (!e.ok()) return 1e9;
    Engine& engine = **e;
    test::ReferenceLlama ref(model_->gguf(), ref_ctx);
    const int32_t seq = engine.kv().CreateSequence();
    double worst = 0.0;
    std::vector<float> logits;
    for (int32_t pos = 0; pos < 24; ++pos) {
      const int32_t tok = pos == 0 ? 1 : 259 + (pos * 13) % 40;
      EXPECT_TRUE(engine.kv().Reserve(seq, pos + 1).ok());
      Batch b;
      b.Add(tok, pos, 0, true);
      b.block_tables = {engine.kv().block_table(seq)};
      EXPECT_TRUE(engine.Decode(b, &logits).ok());
      worst = std::max(worst, Compare(logits, ref.Step(tok)).rel_diff);
    }
    return worst;
  }

  std::unique_ptr<ScopedKernelIsa> pin_;
  std::string path_;
  std::unique_ptr<Model> model_;
};

TEST_F(LongropeReferenceTest, ContextUpToTheOriginalUsesTheShortFactors) {
  EXPECT_LE(MaxDiff(64, 64), 1e-4);
  EXPECT_GT(MaxDiff(64, 128), 1e-2);  // against the long factors: far off
}

TEST_F(LongropeReferenceTest, ContextBeyondTheOriginalUsesTheLongFactors) {
  EXPECT_LE(MaxDiff(128, 128), 1e-4);
  EXPECT_GT(MaxDiff(128, 64), 1e-2);  // against the short factors: far off
}

INSTANTIATE_TEST_SUITE_P(AllTypes, EngineReferenceTest, ::testing::ValuesIn(Params(/*scalar_only=*/false)),
                         [](const ::testing::TestParamInfo<Param>& p) { return p.param.name; });
INSTANTIATE_TEST_SUITE_P(AllTypes, ScalarReferenceTest, ::testing::ValuesIn(Params(/*scalar_only=*/true)),
                         [](const ::testing::TestParamInfo<Param>& p) { return p.param.name; });

}  // namespace
}  // namespace jarvis
