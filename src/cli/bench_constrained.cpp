#include "cli/bench_constrained.h"

#include <chrono>
#include <ctime>
#include <memory>

#include "engine/grammar_processor.h"
#include "engine/token_pipeline.h"

namespace jarvis::cli {
namespace {

constexpr int32_t kPrompt = 32;

double Now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

double ProcessCpuSeconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

struct Rates {
  double wall_tps = 0.0;
  double cpu_tps = 0.0;
};

// One run: `batch` streams decode `n` tokens each; aggregate tokens/s.
Result<Rates> DecodeRun(Engine& e, GrammarProcessorFactory* grammars, const std::string& gbnf, int32_t batch,
                         int32_t n, uint64_t seed) {
  const Tokenizer& tok = e.model().tokenizer();
  const int32_t n_vocab = e.model().hparams().n_vocab;
  KvCache& kv = e.kv();
  std::vector<int32_t> seqs;
  for (int32_t s = 0; s < batch; ++s) seqs.push_back(kv.CreateSequence());
  struct Free {
    KvCache& kv;
    std::vector<int32_t>& seqs;
    ~Free() {
      for (int32_t s : seqs) kv.FreeSequence(s);
    }
  } free_all{kv, seqs};

  std::vector<int32_t> prompt(kPrompt);
  for (int32_t i = 0; i < kPrompt; ++i) prompt[static_cast<size_t>(i)] = (i * 7919 + 13) % n_vocab;
  auto make_pipeline = [&](int32_t s) -> Result<std::unique_ptr<TokenPipeline>> {
    TokenPipelineOptions o;
    o.sampling.seed = seed + static_cast<uint64_t>(s);
    o.sampling.has_seed = true;
    o.ignore_eos = true;
    o.max_tokens = -1;
    std::unique_ptr<LogitsProcessor> processor;
    if (grammars != nullptr) {
      JARVIS_ASSIGN_OR_RETURN(processor, grammars->Make(gbnf, nullptr, /*ignore_eos=*/true));
    }
    return std::make_unique<TokenPipeline>(tok, n_vocab, e.n_ctx(), prompt, o, std::move(processor));
  };
  std::vector<std::unique_ptr<TokenPipeline>> pipelines;
  for (int32_t s = 0; s < batch; ++s) {
    JARVIS_ASSIGN_OR_RETURN(auto p, make_pipeline(s));
    pipelines.push_back(std::move(p));
  }
  // Prefill (untimed): every stream gets the same prompt.
  Batch b;
  std::vector<float> logits;
  for (int32_t s = 0; s < batch; ++s) {
    JARVIS_RETURN_IF_ERROR(kv.Reserve(seqs[static_cast<size_t>(s)], kPrompt));
    b.Clear();
    for (int32_t i = 0; i < kPrompt; ++i) b.Add(prompt[static_cast<size_t>(i)], i, 0, i + 1 == kPrompt);
    b.block_tables.push_back(kv.block_table(seqs[static_cast<size_t>(s)]));
    JARVIS_RETURN_IF_ERROR(e.Decode(b, &logits));
  }
  std::vector<float> rows(static_cast<size_t>(batch) * static_cast<size_t>(n_vocab));
  for (int32_t s = 0; s < batch; ++s) std::copy(logits.begin(), logits.begin() + n_vocab, rows.begin() + s * n_vocab);

  const double start = Now();
  const double cpu_start = ProcessCpuSeconds();
  std::vector<int32_t> next(static_cast<size_t>(batch), prompt.back());
  for (int32_t step = 0; step < n; ++step) {
    // Sample every stream from its row (the pipeline's whole per-token work).
    for (int32_t s = 0; s < batch; ++s) {
      std::span<float> row(rows.data() + static_cast<size_t>(s) * static_cast<size_t>(n_vocab),
                           static_cast<size_t>(n_vocab));
      TokenPipeline::StepResult r = pipelines[static_cast<size_t>(s)]->Step(row);
      if (r.finish == FinishReason::kError) return r.error;
      if (r.token >= 0) next[static_cast<size_t>(s)] = r.token;
      if (r.finish) {  // JSON value complete: the stream starts another one
        JARVIS_ASSIGN_OR_RETURN(pipelines[static_cast<size_t>(s)], make_pipeline(s));
      }
    }
    b.Clear();
    const int32_t pos = kPrompt + step;
    for (int32_t s = 0; s < batch; ++s) {
      JARVIS_RETURN_IF_ERROR(kv.Reserve(seqs[static_cast<size_t>(s)], pos + 1));
      b.Add(next[static_cast<size_t>(s)], pos, s, true);
    }
    for (int32_t s = 0; s < batch; ++s) b.block_tables.push_back(kv.block_table(seqs[static_cast<size_t>(s)]));
    JARVIS_RETURN_IF_ERROR(e.Decode(b, &logits));
    std::copy(logits.begin(), logits.begin() + static_cast<std::ptrdiff_t>(rows.size()), rows.begin());
  }
  const double tokens = static_cast<double>(batch) * n;
  return Rates{tokens / (Now() - start), tokens / (ProcessCpuSeconds() - cpu_start)};
}

}  // namespace

Result<ConstrainedBenchResult> RunConstrainedBench(Engine& engine, const std::string& gbnf, int32_t batch,
                                                   int32_t n, int reps) {
  ConstrainedBenchResult out;
  out.batch = batch;
  out.n = n;
  GrammarProcessorFactory grammars(engine.model().tokenizer());
  // Warm-up (untimed): page in weights; the grammar's first masks are
  // computed here, as they would be by the first request with this schema.
  JARVIS_RETURN_IF_ERROR(DecodeRun(engine, nullptr, gbnf, batch, n, 1).status());
  JARVIS_RETURN_IF_ERROR(DecodeRun(engine, &grammars, gbnf, batch, n, 1).status());
  for (int r = 0; r < reps; ++r) {
    const uint64_t seed = 100 + static_cast<uint64_t>(r);
    JARVIS_ASSIGN_OR_RETURN(Rates free_run, DecodeRun(engine, nullptr, gbnf, batch, n, seed));
    JARVIS_ASSIGN_OR_RETURN(Rates constrained_run, DecodeRun(engine, &grammars, gbnf, batch, n, seed));
    out.free_tps.push_back(free_run.wall_tps);
    out.constrained_tps.push_back(constrained_run.wall_tps);
    out.free_cpu_tps.push_back(free_run.cpu_tps);
    out.constrained_cpu_tps.push_back(constrained_run.cpu_tps);
  }
  return out;
}

}  // namespace jarvis::cli
