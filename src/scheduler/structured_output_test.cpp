// Grammar-constrained generation through the batched scheduler, on a random-
// weight model: every output must parse and validate against its JSON schema,
// checked by an independent validator (python3-jsonschema,
// tests/tools/validate_json_outputs.py), and constrained sequences batched
// with free ones must give the same tokens as when run alone.
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "constrain/json_schema_grammar.h"
#include "model/model.h"
#include "scheduler/scheduler.h"
#include "support/tiny_model.h"

namespace jarvis {
namespace {

using nlohmann::json;

const char* const kSchemas[] = {
    R"({"type":"object","properties":{"name":{"type":"string","maxLength":12},"age":{"type":"integer","minimum":0,"maximum":120}},"required":["name","age"],"additionalProperties":false})",
    R"({"type":"array","items":{"type":"integer","minimum":-5,"maximum":5},"minItems":2,"maxItems":4})",
    R"({"type":"object","properties":{"ok":{"type":"boolean"},"note":{"type":["string","null"],"maxLength":8}},"required":["ok"]})",
    R"({"enum":["red","green","blue",42,null]})",
    R"({"type":"object","properties":{"kind":{"const":"point"},"x":{"type":"number"},"y":{"type":"number"}},"required":["kind","x","y"],"additionalProperties":false})",
    R"({"type":"string","minLength":3,"maxLength":6})",
    R"({"anyOf":[{"type":"integer","minimum":100,"maximum":999},{"type":"boolean"}]})",
    R"({"type":"object","properties":{"tags":{"type":"array","items":{"type":"string","maxLength":4},"maxItems":3},"id":{"type":"integer","exclusiveMinimum":0,"maximum":99999}},"required":["tags","id"],"additionalProperties":false})",
    R"({"$defs":{"leaf":{"type":"object","properties":{"v":{"type":"integer","minimum":0,"maximum":9}},"required":["v"],"additionalProperties":false}},"type":"array","items":{"$ref":"#/$defs/leaf"},"maxItems":3})",
    R"({"type":"object","properties":{"a":{"type":"null"},"b":{"type":"integer","minimum":-1000,"maximum":-10},"c":{"type":"string","maxLength":3}},"additionalProperties":false})",
    R"({"oneOf":[{"type":"string","maxLength":5},{"type":"null"}]})",
    R"({"type":"object","properties":{"call":{"type":"object","properties":{"name":{"enum":["lights","music"]},"arguments":{"type":"object","properties":{"on":{"type":"boolean"},"room":{"type":"string","maxLength":10}},"required":["on"],"additionalProperties":false}},"required":["name","arguments"],"additionalProperties":false}},"required":["call"],"additionalProperties":false})",
    R"({"type":"array","items":{"type":"array","items":{"type":"boolean"},"maxItems":2},"minItems":1,"maxItems":3})",
    R"({"type":"integer"})",
    R"({"type":"object","additionalProperties":{"type":"integer","minimum":0,"maximum":3}})",
};

class StructuredOutputTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    test::TinyModelSpec spec;
    spec.seed = 11;
    spec.n_ctx = 1024;
    path_ = new std::string(test::TempPath("structured"));
    ASSERT_TRUE(test::WriteTinyModel(spec, *path_).ok());
    auto m = Model::Load(*path_);
    ASSERT_TRUE(m.ok()) << m.status().ToString();
    model_ = m->release();
  }
  static void TearDownTestSuite() {
    delete model_;
    std::remove(path_->c_str());
    delete path_;
  }

  static std::unique_ptr<Scheduler> MakeScheduler(int32_t max_sequences) {
    SchedulerOptions o;
    o.n_ctx = 1024;
    o.n_threads = 2;
    o.max_sequences = max_sequences;
    o.max_batch_tokens = 64;
    auto s = Scheduler::Create(*model_, o);
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    return s.ok() ? std::move(*s) : nullptr;
  }

  static GenerateRequest Request(const std::string& grammar, uint64_t seed, float temperature) {
    GenerateRequest r;
    r.prompt_tokens = {1, static_cast<int32_t>(5 + seed % 200), static_cast<int32_t>(7 + seed % 150)};
    r.sampling.temperature = temperature;
    r.sampling.top_k = 0;
    r.sampling.top_p = 1.0f;
    r.sampling.min_p = 0.0f;
    r.sampling.seed = seed;
    r.sampling.has_seed = true;
    r.max_tokens = 900;
    r.grammar = grammar;
    return r;
  }

  static inline Model* model_ = nullptr;
  static inline std::string* path_ = nullptr;
};

TEST_F(StructuredOutputTest, EveryOutputValidatesWithAnIndependentValidator) {
  auto sched = MakeScheduler(8);
  ASSERT_TRUE(sched);
  struct Pending {
    json schema;
    RequestHandle handle;
  };
  std::vector<Pending> pending;
  int n_schemas = 0;
  for (const char* text : kSchemas) {
    json schema = json::parse(text);
    auto gbnf = constrain::JsonSchemaToGbnf(schema);
    ASSERT_TRUE(gbnf.ok()) << text << ": " << gbnf.status().ToString();
    ++n_schemas;
    for (uint64_t seed = 1; seed <= 4; ++seed) {
      auto h = sched->Submit(Request(*gbnf, seed * 7919 + static_cast<uint64_t>(n_schemas), seed == 1 ? 0.0f : 1.0f));
      ASSERT_TRUE(h.ok()) << h.status().ToString();
      pending.push_back({schema, std::move(*h)});
    }
  }
  const std::string out_path = test::TempPath("structured-outputs") + ".jsonl";
  {
    std::ofstream out(out_path);
    for (Pending& p : pending) {
      GenerateResult r = p.handle.Wait();
      EXPECT_EQ(r.finish, FinishReason::kStop) << "finish " << FinishReasonName(r.finish) << " "
                                               << r.error.ToString() << " text: " << r.text;
      out << json{{"schema", p.schema}, {"output", r.text}}.dump() << "\n";
    }
  }
  const std::filesystem::path script = std::filesystem::path(JARVIS_SOURCE_DIR) / "tests/tools/validate_json_outputs.py";
  const std::string cmd = "python3 '" + script.string() + "' '" + out_path + "'";
  EXPECT_EQ(std::system(cmd.c_str()), 0) << cmd;
  std::remove(out_path.c_str());
}

TEST_F(StructuredOutputTest, ConstrainedAndFreeSequencesBatchLikeAlone) {
  auto gbnf = constrain::JsonSchemaToGbnf(json::parse(kSchemas[0]));
  ASSERT_TRUE(gbnf.ok());
  std::vector<GenerateRequest> requests;
  for (int i = 0; i < 6; ++i) {
    GenerateRequest r = Request(i % 2 == 0 ? *gbnf : std::string(), static_cast<uint64_t>(i + 3), 0.0f);
    r.max_tokens = 300;
    r.logprobs = 2;
    requests.push_back(r);
  }
  auto run = [&](int32_t max_sequences) {
    auto s = MakeScheduler(max_sequences);
    std::vector<RequestHandle> hs;
    for (const auto& r : requests) hs.push_back(*s->Submit(r));
    std::vector<GenerateResult> out;
    for (auto& h : hs) out.push_back(h.Wait());
    return out;
  };
  const auto alone = run(1);
  const auto batched = run(6);
  for (size_t i = 0; i < requests.size(); ++i) {
    EXPECT_EQ(batched[i].tokens, alone[i].tokens) << i;
    ASSERT_EQ(batched[i].logprobs.size(), batched[i].tokens.size());
    for (size_t t = 0; t < batched[i].logprobs.size(); ++t) {
      const TokenLogprob& lp = batched[i].logprobs[t];
      EXPECT_EQ(lp.token, batched[i].tokens[t]);
      EXPECT_LE(lp.logprob, 0.0f);
      // Two alternatives, fewer where the grammar leaves fewer tokens possible.
      ASSERT_GE(lp.top.size(), 1u);
      ASSERT_LE(lp.top.size(), 2u);
      if (i % 2 == 1) {
        EXPECT_EQ(lp.top.size(), 2u);
      }
      EXPECT_EQ(lp.top[0].token, lp.token);  // greedy: the chosen token is the most likely
      if (lp.top.size() == 2) {
        EXPECT_GE(lp.top[0].logprob, lp.top[1].logprob);
      }
      EXPECT_NEAR(lp.logprob, alone[i].logprobs[t].logprob, 1e-4);
    }
  }
  EXPECT_TRUE(json::accept(alone[0].text)) << alone[0].text;
}

TEST_F(StructuredOutputTest, BadGrammarIsInvalidArgumentAtSubmit) {
  auto s = MakeScheduler(1);
  GenerateRequest r = Request("root ::= undefined_rule", 1, 0.0f);
  auto h = s->Submit(r);
  ASSERT_FALSE(h.ok());
  EXPECT_EQ(h.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(h.status().message().find("undefined_rule"), std::string::npos);
}

}  // namespace
}  // namespace jarvis
