// The measurements behind `jarvis bench`, run through the Engine / KvCache /
// Batch API exactly as serving does:
//   pp<P>   one sequence, a prompt of P tokens in one batch (logits for the
//           last only): prompt-processing speed.
//   tg<N>   one sequence decoding N tokens, one per step, from an empty cache.
//   b<B>    B sequences with 32-token prompts (prefilled, not timed), then N
//           steps that each decode one token of every sequence in one batch:
//           aggregate and per-sequence tokens/s.
// With a depth D (llama-bench's -d), each sequence first gets D more cached
// tokens (prefilled in chunks, not timed), so the test shows the cost of
// attention over a long context: "pp512 @ d4096".
// Token ids are fixed pseudo-random values (the speed does not depend on them).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "engine/engine.h"
#include "jarvis/status.h"
#include "model/model.h"

namespace jarvis::cli {

enum class BenchKind { kPrompt, kGenerate, kBatched };

struct BenchSpec {
  BenchKind kind = BenchKind::kPrompt;
  int32_t n = 0;      // prompt tokens (pp) or generated tokens per sequence (tg, batched)
  int32_t batch = 1;  // sequences (batched)
  int32_t depth = 0;  // tokens already in each sequence's cache
  std::string Name() const;  // "pp512", "tg64", "b16 tg64", "tg64 @ d4096"
};

struct BenchResult {
  BenchSpec spec;
  int32_t threads = 0;
  std::vector<double> tokens_per_s;  // one per repetition (aggregate for batched)
  double best() const;
  double mean() const;
};

// Weight bytes a forward step reads, and multiply-adds per token, for the
// roofline columns (every matmul weight once; the embedding row is ignored).
struct ModelCost {
  double weight_bytes = 0.0;
  double macs_per_token = 0.0;
};
ModelCost ComputeModelCost(const Model& model);

// Runs `spec` `reps` times (after one untimed warm-up) on `engine`, whose KV
// cache must hold `spec.batch` sequences of the needed length.
Result<BenchResult> RunBench(Engine& engine, const BenchSpec& spec, int reps);

// Deterministic token ids spread over the vocabulary (skipping the first 16,
// where the special tokens usually are): the i-th token of a bench prompt.
int32_t BenchTokenAt(int64_t i, int32_t n_vocab);

// Caches positions [0, n) of each sequence in `seqs` (BenchTokenAt ids,
// sequence s offset by 1000 s), in batches of at most 512 tokens as the
// scheduler's chunked prefill does.
Status BenchPrefill(Engine& e, const std::vector<int32_t>& seqs, int32_t n);

// Context per sequence that `specs` need.
int32_t ContextNeeded(const std::vector<BenchSpec>& specs);

}  // namespace jarvis::cli
