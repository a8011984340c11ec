#include "cli/bench_embed.h"

#include <algorithm>
#include <chrono>
#include <numeric>
#include <random>

#include "cli/bench_runner.h"

namespace jarvis::cli {

double EmbedBenchResult::best_inputs_per_s() const {
  return inputs_per_s.empty() ? 0.0 : *std::max_element(inputs_per_s.begin(), inputs_per_s.end());
}

double EmbedBenchResult::mean_inputs_per_s() const {
  if (inputs_per_s.empty()) return 0.0;
  return std::accumulate(inputs_per_s.begin(), inputs_per_s.end(), 0.0) / static_cast<double>(inputs_per_s.size());
}

double EmbedMacsPerToken(const Model& model, int32_t tokens) {
  const ModelWeights& w = model.weights();
  const double head = static_cast<double>(w.output.rows) * static_cast<double>(w.output.cols);
  const double matrices = ComputeModelCost(model).macs_per_token - head;
  const HParams& hp = model.hparams();
  const double span = hp.spec->encoder ? tokens : (tokens + 1) / 2.0;
  return matrices + 2.0 * hp.n_layer * static_cast<double>(hp.n_embd) * span;
}

Result<EmbedBenchResult> RunEmbedBench(Engine& engine, int32_t batch, int32_t tokens, int reps) {
  if (batch < 1 || tokens < 1) return Status::InvalidArgument("embedding batch and tokens must be >= 1");
  if (tokens > engine.n_ctx()) {
    return Status::InvalidArgument("inputs of " + std::to_string(tokens) + " tokens exceed the context of " +
                                   std::to_string(engine.n_ctx()));
  }
  const int32_t n_vocab = engine.model().hparams().n_vocab;
  std::mt19937 rng(42);
  std::vector<std::vector<int32_t>> inputs(static_cast<size_t>(batch));
  for (auto& input : inputs) {
    input.resize(static_cast<size_t>(tokens));
    for (int32_t& id : input) id = static_cast<int32_t>(rng() % static_cast<uint32_t>(n_vocab));
  }
  std::vector<float> out;
  JARVIS_RETURN_IF_ERROR(engine.Embed(inputs, &out));  // warm-up: pages weights in, grows scratch
  EmbedBenchResult r;
  r.batch = batch;
  r.tokens = tokens;
  r.threads = engine.n_threads();
  for (int i = 0; i < reps; ++i) {
    const auto start = std::chrono::steady_clock::now();
    JARVIS_RETURN_IF_ERROR(engine.Embed(inputs, &out));
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    r.inputs_per_s.push_back(batch / std::max(s, 1e-9));
  }
  return r;
}

}  // namespace jarvis::cli
