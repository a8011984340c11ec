#include "engine/perplexity.h"

#include <cmath>
#include <vector>

#include "tokenizer/tokenizer.h"

namespace jarvis {
namespace {

// -log softmax(logits)[target], computed stably in double.
double NegativeLogLikelihood(const float* logits, int32_t n_vocab, int32_t target) {
  float max = logits[0];
  for (int32_t i = 1; i < n_vocab; ++i) max = std::max(max, logits[i]);
  double sum = 0.0;
  for (int32_t i = 0; i < n_vocab; ++i) sum += std::exp(static_cast<double>(logits[i]) - max);
  return std::log(sum) - (static_cast<double>(logits[target]) - max);
}

}  // namespace

Result<PerplexityResult> ComputePerplexity(Engine& engine, std::span<const int32_t> tokens, int32_t n_ctx,
                                           const std::function<void(int32_t, double)>& on_chunk) {
  if (n_ctx < 8 || n_ctx > engine.n_ctx()) {
    return Status::InvalidArgument("perplexity context must be in [8, " + std::to_string(engine.n_ctx()) + "]");
  }
  const int32_t n_chunks = static_cast<int32_t>(tokens.size() / static_cast<size_t>(n_ctx));
  if (n_chunks == 0) {
    return Status::InvalidArgument("the text has " + std::to_string(tokens.size()) +
                                   " tokens; perplexity needs at least one chunk of " + std::to_string(n_ctx));
  }
  const int32_t n_vocab = engine.model().hparams().n_vocab;
  const int32_t bos = engine.model().tokenizer().bos_id();
  const int32_t first_scored = n_ctx / 2;
  KvCache& kv = engine.kv();

  double nll_sum = 0.0, nll_sq_sum = 0.0;
  int64_t count = 0;
  std::vector<float> logits;
  Batch batch;
  for (int32_t c = 0; c < n_chunks; ++c) {
    const size_t start = static_cast<size_t>(c) * static_cast<size_t>(n_ctx);
    const int32_t seq = kv.CreateSequence();
    Status s = kv.Reserve(seq, n_ctx);
    if (s.ok()) {
      batch.Clear();
      for (int32_t i = 0; i < n_ctx; ++i) {
        const int32_t tok = (i == 0 && bos >= 0) ? bos : tokens[start + static_cast<size_t>(i)];
        // Logits at position i predict token i+1; only those from first_scored-1 are scored.
        batch.Add(tok, i, 0, i >= first_scored - 1 && i + 1 < n_ctx);
      }
      batch.block_tables.push_back(kv.block_table(seq));
      s = engine.Decode(batch, &logits);
    }
    kv.FreeSequence(seq);
    JARVIS_RETURN_IF_ERROR(s);
    for (int32_t i = first_scored - 1, row = 0; i + 1 < n_ctx; ++i, ++row) {
      const double nll = NegativeLogLikelihood(&logits[static_cast<size_t>(row) * n_vocab], n_vocab,
                                               tokens[start + static_cast<size_t>(i) + 1]);
      nll_sum += nll;
      nll_sq_sum += nll * nll;
      ++count;
    }
    if (on_chunk) on_chunk(c, std::exp(nll_sum / static_cast<double>(count)));
  }
  PerplexityResult r;
  const double mean = nll_sum / static_cast<double>(count);
  r.perplexity = std::exp(mean);
  if (count > 1) {
    const double var = (nll_sq_sum / static_cast<double>(count) - mean * mean) / static_cast<double>(count - 1);
    r.uncertainty = r.perplexity * std::sqrt(std::max(0.0, var));  // d exp(m) = exp(m) dm
  }
  r.chunks = n_chunks;
  r.scored_tokens = count;
  return r;
}

}  // namespace jarvis
