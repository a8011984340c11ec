// Engine: one model, one KV cache, one thread pool, and the forward step over a
// batch of sequences. The scheduler builds batches and calls Decode(); the CLI
// generates through the same entry point with a batch of one sequence.
//
// GPU offload (gpu/gpu_backend.h): Create offloads the last layers and the
// output head when options.gpu_layers asks for it and a device is usable. The
// engine owns that LayerOffload, installs it in its graph and wires the KV
// cache's block copies to it. Offload that cannot be set up (no CUDA build,
// no device, driver, memory, weight type) is never an error: one warning line
// is logged and the engine runs on the CPU. backend() says where it runs.
//
// Thread safety: none; one thread (the model's step loop) drives an Engine.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "engine/kv_block_size.h"
#include "engine/kv_cache.h"
#include "gpu/gpu_backend.h"
#include "jarvis/status.h"
#include "model/batch.h"
#include "model/layer_offload.h"
#include "model/forward_pass.h"
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
  // KV pool size in blocks, all sequences together. Default 0:
  // max_sequences full contexts.
  int32_t kv_blocks = 0;
  // KV cache element type (quant/kv_type.h): F16 (default) halves memory;
  // F32 is exact; Q8_0 takes 8.5 bits per element (~0.53x F16), needs a
  // head_dim that is a multiple of 32 and runs on the CPU only (Create
  // refuses it with GPU layers).
  KvType kv_type = KvType::kF16;
  // Positions per KV block. Default kDefaultKvBlockSize (16).
  int32_t kv_block_size = kDefaultKvBlockSize;
  // Layers to offload to the GPU: -1 all (plus the output head), 0 none (CPU
  // only), N the last N. Default kGpuLayersAuto (jarvis/runtime_options.h):
  // all when a GPU is usable. Values below it are InvalidArgument. The rules
  // are PlanGpuLayers' (gpu/gpu_layer_plan.h); a model loaded with
  // PlanGpuLayersAtLoad should get that plan's gpu_layers.
  int32_t gpu_layers = kGpuLayersAuto;
  // Worker threads to share (n_threads is then ignored): another engine's
  // pool(), driven by the same thread, which must outlive this engine. A
  // draft model's engine (engine/model_drafter.h) shares its target's: two
  // pools used in turn would each keep spinning while the other works and
  // fight over the cores. Default null: a pool of its own.
  ThreadPool* shared_pool = nullptr;
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

  // Embeds each input (its token ids, special tokens included): runs the whole
  // input through the model in one pass without the KV cache (attention over
  // the input alone: bidirectional for an encoder, ArchSpec::encoder; causal
  // for a decoder), pools the final hidden states (HParams::pooling; after
  // the output norm for a decoder) and L2-normalizes. `out` gets
  // inputs.size() x embedding_size() floats, row i for input i, each row
  // independent of the other inputs. InvalidArgument for an empty input, one
  // longer than n_ctx() or a token id out of range (nothing runs then);
  // Unsupported for a pooling type that gives no single vector (none, rank).
  //
  // Inputs are packed back to back, several per pass, up to
  // kEmbedTokensPerPass tokens (a longer input runs alone). Always on the CPU
  // kernels, even with a GPU offload installed: the offload's LayerOps have no
  // cacheless attention (there was no GPU to verify one on), and an encoder
  // is never offloaded.
  Status Embed(const std::vector<std::vector<int32_t>>& inputs, std::vector<float>* out);
  static constexpr int32_t kEmbedTokensPerPass = 2048;
  // Width of one embedding (the model's hidden size).
  int32_t embedding_size() const { return model_.hparams().n_embd; }

  const Model& model() const { return model_; }
  KvCache& kv() { return *kv_; }
  int32_t n_ctx() const { return n_ctx_; }
  int32_t n_threads() const { return pool_.size(); }
  ThreadPool& pool() { return pool_; }  // for EngineOptions::shared_pool
  // Where the forward pass runs, one line: "cpu (avx512)" or the offload's
  // Describe(), e.g. "cuda:0 NVIDIA H100 (16/16 layers + output)".
  std::string backend() const;
  // Layers running on the GPU (0: all on the CPU).
  int32_t gpu_layers() const;
  // Device memory held for this model by its offload (weights + KV; 0 on the
  // CPU): LayerOffload::DeviceBytes.
  uint64_t GpuBytes() const { return offload_ != nullptr ? offload_->DeviceBytes() : 0; }

  // Replaces the offload (nullptr: back to the CPU alone) and wires the KV
  // cache's block copies to it. Create does this for the GPU; tests install a
  // stand-in. Only before the first Decode: the new offload's KV starts empty.
  // The host KV pool must hold the layers the CPU then runs (an engine created
  // with a GPU offload keeps only those; Decode is InvalidArgument otherwise).
  void SetOffload(std::unique_ptr<LayerOffload> offload);

 private:
  Engine(const Model& model, int32_t n_threads, ThreadPool* shared_pool, int32_t n_ctx)
      : model_(model),
        own_pool_(shared_pool != nullptr ? nullptr : std::make_unique<ThreadPool>(n_threads)),
        pool_(shared_pool != nullptr ? *shared_pool : *own_pool_),
        graph_(model, pool_, n_ctx),
        n_ctx_(n_ctx) {}

  // The GPU offload `options` asks for, or nullptr (logging why, if the GPU
  // was asked for). `layout`: the whole model's KV geometry.
  std::unique_ptr<LayerOffload> MakeOffload(const EngineOptions& options, const KvLayout& layout,
                                            int32_t n_blocks) const;

  const Model& model_;
  std::unique_ptr<ThreadPool> own_pool_;  // null with a shared pool
  ThreadPool& pool_;
  ForwardPass graph_;
  std::unique_ptr<KvCache> kv_;
  std::unique_ptr<LayerOffload> offload_;  // null: CPU only; installed in graph_
  int32_t n_ctx_ = 0;
  std::vector<float> embed_hidden_;  // Embed's final hidden states of one pass
};

}  // namespace jarvis
