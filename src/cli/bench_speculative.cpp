#include "cli/bench_speculative.h"

#include <algorithm>
#include <chrono>

#include "cli/bench_runner.h"
#include "engine/generator.h"

namespace jarvis::cli {
namespace {

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0.0 : v[v.size() / 2];
}

}  // namespace

Result<std::vector<VerifyCost>> MeasureVerifyCost(Engine& engine, const std::vector<int32_t>& depths,
                                                  const std::vector<int32_t>& drafts, int reps) {
  const int32_t n_vocab = engine.model().hparams().n_vocab;
  int32_t max_draft = 0;
  for (int32_t k : drafts) max_draft = std::max(max_draft, k);
  std::vector<VerifyCost> out;
  Batch batch;
  std::vector<float> logits;
  for (int32_t depth : depths) {
    ScopedKvSequence seq(engine.kv());
    KvCache& kv = engine.kv();
    JARVIS_RETURN_IF_ERROR(BenchPrefill(engine, {seq.id()}, depth));  // the cached context
    JARVIS_RETURN_IF_ERROR(kv.Reserve(seq.id(), depth + 1 + max_draft));
    std::vector<int32_t> ks = {0};
    ks.insert(ks.end(), drafts.begin(), drafts.end());
    double one_row_ms = 0.0;
    for (int32_t k : ks) {
      std::vector<double> ms;
      for (int rep = -1; rep < reps; ++rep) {  // rep -1: warm-up
        batch.Clear();
        for (int32_t i = 0; i <= k; ++i) batch.Add(BenchTokenAt(depth + i, n_vocab), depth + i, 0, true);
        batch.block_tables = {kv.block_table(seq.id())};
        const auto start = std::chrono::steady_clock::now();
        JARVIS_RETURN_IF_ERROR(engine.Decode(batch, &logits));
        const double elapsed =
            std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
        if (rep >= 0) ms.push_back(elapsed);
      }
      VerifyCost c;
      c.depth = depth;
      c.rows = k + 1;
      c.step_ms = Median(ms);
      if (k == 0) one_row_ms = c.step_ms;
      c.ratio = one_row_ms > 0 ? c.step_ms / one_row_ms : 1.0;
      out.push_back(c);
    }
  }
  return out;
}

Result<std::vector<LookupRun>> MeasureLookup(Engine& engine, int32_t n_prompt, int32_t n_tokens,
                                             const std::vector<int32_t>& drafts, int reps) {
  const int32_t n_vocab = engine.model().hparams().n_vocab;
  std::vector<int32_t> prompt;
  for (int32_t i = 0; i < n_prompt; ++i) prompt.push_back(BenchTokenAt(i, n_vocab));
  std::vector<LookupRun> out;
  for (const char* continuation : {"greedy", "copying", "sampled"}) {
    GenerateOptions go;
    go.max_tokens = n_tokens;
    go.ignore_eos = true;
    const std::string kind = continuation;
    if (kind == "sampled") {
      go.sampling.temperature = 1.0f;
      go.sampling.seed = 42;
      go.sampling.has_seed = true;
    } else {
      go.sampling.temperature = 0.0f;
      // A repetition "penalty" below 1 favours tokens already in the
      // context: a random-weight model then copies its prompt and itself,
      // as real models do when quoting or editing.
      if (kind == "copying") go.sampling.repeat_penalty = 0.2f;
    }
    std::vector<int32_t> ks = {0};
    ks.insert(ks.end(), drafts.begin(), drafts.end());
    std::vector<int32_t> plain_tokens;
    double plain_tps = 0.0;
    for (int32_t k : ks) {
      go.speculation = SpeculationOptions();
      if (k > 0) {
        go.speculation.mode = "lookup";
        go.speculation.draft_max = k;
      }
      std::vector<double> tps;
      GenerationResult last;
      for (int rep = -1; rep < reps; ++rep) {  // rep -1: warm-up
        JARVIS_ASSIGN_OR_RETURN(last, Generate(engine, prompt, go));
        if (rep >= 0 && last.generate_seconds > 0) {
          tps.push_back(static_cast<double>(last.tokens.size()) / last.generate_seconds);
        }
      }
      LookupRun r;
      r.continuation = continuation;
      r.draft_max = k;
      r.tokens_per_s = Median(tps);
      r.tokens = static_cast<int32_t>(last.tokens.size());
      r.steps = last.decode_steps;
      r.drafted = last.draft_tokens;
      r.accepted = last.accepted_draft_tokens;
      if (k == 0) {
        plain_tokens = last.tokens;
        plain_tps = r.tokens_per_s;
      }
      r.same_output = last.tokens == plain_tokens;
      r.speedup = plain_tps > 0 ? r.tokens_per_s / plain_tps : 1.0;
      out.push_back(r);
    }
  }
  return out;
}

}  // namespace jarvis::cli
