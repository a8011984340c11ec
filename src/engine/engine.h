// Engine: one model, one KV cache, one thread pool, and the forward step over a
// batch of sequences. The scheduler builds batches and calls Decode(); the CLI
// generates through the same entry point with a batch of one sequence.
//
// Thread safety: none; one thread (the model's step loop) drives an Engine.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "engine/kv_cache.h"
#include "jarvis/status.h"
#include "model/batch.h"
#include "model/llama_graph.h"
#include "model/model.h"
#include "util/thread_pool.h"

namespace jarvis {

struct EngineOptions {
  // Worker threads, counting the caller. Default 0: one per physical core.
  int32_t n_threads = 0;
  // Context (positions) per sequence. Default 0: the model's training context,
  // capped at 4096.
  int32_t n_ctx = 0;
  // Sequences that can hold KV at once. Default 1.
  int32_t max_sequences = 1;
  // KV cache element type: F16 (default) halves memory; F32 is exact.
  bool kv_f16 = true;
  // Positions per KV block. Default 16.
  int32_t kv_block_size = 16;
};

class Engine {
 public:
  // `model` must outlive the engine. InvalidArgument for bad options.
  static Result<std::unique_ptr<Engine>> Create(const Model& model, const EngineOptions& options);

  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // Runs one forward step; on success `logits` holds n_outputs x n_vocab floats
  // (rows in batch order of the tokens that asked for logits).
  Status Decode(const Batch& batch, std::vector<float>* logits);

  const Model& model() const { return model_; }
  KvCache& kv() { return *kv_; }
  int32_t n_ctx() const { return n_ctx_; }
  int32_t n_threads() const { return pool_.size(); }

 private:
  Engine(const Model& model, int32_t n_threads) : model_(model), pool_(n_threads), graph_(model, pool_) {}

  const Model& model_;
  ThreadPool pool_;
  LlamaGraph graph_;
  std::unique_ptr<KvCache> kv_;
  int32_t n_ctx_ = 0;
};

}  // namespace jarvis
