#include "cli/bench_runner.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <numeric>

namespace jarvis::cli {

int32_t BenchTokenAt(int64_t i, int32_t n_vocab) {
  const uint64_t h = (static_cast<uint64_t>(i) + 1) * 0x9E3779B97F4A7C15ull;
  const int32_t span = std::max(1, n_vocab - 16);
  return (n_vocab > 16 ? 16 : 0) + static_cast<int32_t>((h >> 33) % static_cast<uint64_t>(span));
}

Status BenchPrefill(Engine& e, const std::vector<int32_t>& seqs, int32_t n) {
  constexpr int32_t kChunk = 512;
  KvCache& kv = e.kv();
  const int32_t n_vocab = e.model().hparams().n_vocab;
  Batch batch;
  std::vector<float> logits;
  for (size_t s = 0; s < seqs.size(); ++s) {
    JARVIS_RETURN_IF_ERROR(kv.Reserve(seqs[s], n));
    for (int32_t c = 0; c < n; c += kChunk) {
      batch.Clear();
      const int32_t end = std::min(n, c + kChunk);
      for (int32_t i = c; i < end; ++i) {
        batch.Add(BenchTokenAt(1000 * static_cast<int64_t>(s) + i, n_vocab), i, 0, i + 1 == end);
      }
      batch.block_tables = {kv.block_table(seqs[s])};
      JARVIS_RETURN_IF_ERROR(e.Decode(batch, &logits));
    }
  }
  return Status::Ok();
}

namespace {

constexpr int32_t kBatchedPrompt = 32;

double Now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

Status Reserve(KvCache& kv, int32_t seq, int32_t n) { return kv.Reserve(seq, n); }

// One prompt of n tokens in one batch after `depth` cached ones; returns seconds.
Result<double> RunPrompt(Engine& e, int32_t n, int32_t depth) {
  KvCache& kv = e.kv();
  const int32_t seq = kv.CreateSequence();
  if (Status st = BenchPrefill(e, {seq}, depth); !st.ok()) {
    kv.FreeSequence(seq);
    return st;
  }
  if (Status st = Reserve(kv, seq, depth + n); !st.ok()) {
    kv.FreeSequence(seq);
    return st;
  }
  Batch batch;
  const int32_t n_vocab = e.model().hparams().n_vocab;
  for (int32_t i = 0; i < n; ++i) batch.Add(BenchTokenAt(depth + i, n_vocab), depth + i, 0, i + 1 == n);
  batch.block_tables = {kv.block_table(seq)};
  std::vector<float> logits;
  const double start = Now();
  const Status s = e.Decode(batch, &logits);
  const double seconds = Now() - start;
  kv.FreeSequence(seq);
  JARVIS_RETURN_IF_ERROR(s);
  return seconds;
}

// B sequences: prompts of `prompt` tokens (untimed), then n timed steps of B
// tokens each. With prompt == 0 the first step starts at position 0.
Result<double> RunDecode(Engine& e, int32_t n_seq, int32_t prompt, int32_t n) {
  KvCache& kv = e.kv();
  const int32_t n_vocab = e.model().hparams().n_vocab;
  std::vector<int32_t> seqs;
  for (int32_t s = 0; s < n_seq; ++s) seqs.push_back(kv.CreateSequence());
  auto free_all = [&] {
    for (int32_t s : seqs) kv.FreeSequence(s);
  };
  Batch batch;
  std::vector<float> logits;
  if (Status st = BenchPrefill(e, seqs, prompt); !st.ok()) {
    free_all();
    return st;
  }
  const double start = Now();
  for (int32_t step = 0; step < n; ++step) {
    batch.Clear();
    const int32_t pos = prompt + step;
    for (int32_t s = 0; s < n_seq; ++s) {
      if (Status st = Reserve(kv, seqs[s], pos + 1); !st.ok()) {
        free_all();
        return st;
      }
      batch.Add(BenchTokenAt(7919 * step + s, n_vocab), pos, s, true);
    }
    for (int32_t s = 0; s < n_seq; ++s) batch.block_tables.push_back(kv.block_table(seqs[s]));
    if (Status st = e.Decode(batch, &logits); !st.ok()) {
      free_all();
      return st;
    }
  }
  const double seconds = Now() - start;
  free_all();
  return seconds;
}

Result<double> RunOnce(Engine& e, const BenchSpec& spec) {
  switch (spec.kind) {
    case BenchKind::kPrompt: {
      JARVIS_ASSIGN_OR_RETURN(double s, RunPrompt(e, spec.n, spec.depth));
      return spec.n / s;
    }
    case BenchKind::kGenerate: {
      JARVIS_ASSIGN_OR_RETURN(double s, RunDecode(e, 1, spec.depth, spec.n));
      return spec.n / s;
    }
    case BenchKind::kBatched: {
      JARVIS_ASSIGN_OR_RETURN(double s, RunDecode(e, spec.batch, kBatchedPrompt + spec.depth, spec.n));
      return static_cast<double>(spec.batch) * spec.n / s;
    }
  }
  return Status::Internal("unknown bench kind");
}

}  // namespace

std::string BenchSpec::Name() const {
  char buf[64];
  switch (kind) {
    case BenchKind::kPrompt:
      std::snprintf(buf, sizeof(buf), "pp%d", n);
      break;
    case BenchKind::kGenerate:
      std::snprintf(buf, sizeof(buf), "tg%d", n);
      break;
    case BenchKind::kBatched:
      std::snprintf(buf, sizeof(buf), "b%d tg%d", batch, n);
      break;
  }
  if (depth > 0) return std::string(buf) + " @ d" + std::to_string(depth);
  return buf;
}

double BenchResult::best() const {
  return tokens_per_s.empty() ? 0.0 : *std::max_element(tokens_per_s.begin(), tokens_per_s.end());
}

double BenchResult::mean() const {
  if (tokens_per_s.empty()) return 0.0;
  return std::accumulate(tokens_per_s.begin(), tokens_per_s.end(), 0.0) / static_cast<double>(tokens_per_s.size());
}

ModelCost ComputeModelCost(const Model& model) {
  ModelCost c;
  auto add = [&c](const WeightMatrix& w) {
    c.weight_bytes += static_cast<double>(w.rows) * static_cast<double>(w.row_bytes);
    c.macs_per_token += static_cast<double>(w.rows) * static_cast<double>(w.cols);
  };
  const ModelWeights& w = model.weights();
  for (const LayerWeights& l : w.layers) {
    for (const WeightMatrix* m : {&l.wq, &l.wk, &l.wv, &l.wo, &l.w_gate, &l.w_up, &l.w_down}) add(*m);
  }
  add(w.output);
  return c;
}

int32_t ContextNeeded(const std::vector<BenchSpec>& specs) {
  int32_t n = 1;
  for (const BenchSpec& s : specs) {
    n = std::max(n, s.depth + (s.kind == BenchKind::kBatched ? kBatchedPrompt + s.n : s.n));
  }
  return n;
}

Result<BenchResult> RunBench(Engine& engine, const BenchSpec& spec, int reps) {
  BenchResult r;
  r.spec = spec;
  r.threads = engine.n_threads();
  // Warm-up: pages the weights in and grows scratch buffers. Prompt runs are
  // repeated in full (their scratch is the largest); decode runs briefly.
  BenchSpec warm = spec;
  if (spec.kind != BenchKind::kPrompt) warm.n = std::min(spec.n, 2);
  JARVIS_RETURN_IF_ERROR(RunOnce(engine, warm).status());
  for (int i = 0; i < reps; ++i) {
    JARVIS_ASSIGN_OR_RETURN(double tps, RunOnce(engine, spec));
    r.tokens_per_s.push_back(tps);
  }
  return r;
}

}  // namespace jarvis::cli
