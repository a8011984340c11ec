// RuntimeOptions: how a jarvis::Runtime (jarvis/runtime.h) loads and serves
// models. The one place where each of these defaults is written: `jarvis
// serve`'s flags (and their JARVIS_* variables), the Python keyword
// arguments (jarvis.LLM(..., ctx_size=...)) and the internal option structs
// take their defaults from here. Field names are serve's flag names with
// underscores (--ctx-size -> ctx_size).
//
// Thread safety: a plain value.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "jarvis/monitor.h"

namespace jarvis {

// gpu_layers value meaning "every layer on the GPU when one is usable, else
// quietly on the CPU". An explicit -1 asks for the same placement, but a
// missing GPU is then worth a warning.
inline constexpr int32_t kGpuLayersAuto = -2;

struct RuntimeOptions {
  // GGUF files and/or directories (every *.gguf inside; a model's name is its
  // file stem). At least one model must be found.
  std::vector<std::string> models;
  // Model used when a request names none. Default: the first model found.
  std::string default_model;

  // Models resident at once. Default 2; <= 0: no limit.
  int32_t max_loaded_models = 2;
  // Bytes of model files resident at once. Default 0: no limit.
  size_t memory_budget_bytes = 0;
  // How long an idle model stays loaded. Default 5 min; 0: unload when idle;
  // negative: forever.
  std::chrono::seconds keep_alive{300};

  // Response cache (deterministic requests only): entry lifetime, 0 = off.
  std::chrono::seconds cache_ttl{300};
  // Response cache capacity in bytes (LRU). Default 64 MiB.
  size_t cache_bytes = size_t{64} << 20;
  // Shared level of the response cache: redis://[[USER]:PASSWORD@]HOST[:PORT][/DB]
  // (a secret: never logged). Empty (default): this process only. Entries
  // expire after cache_ttl there too; the local cache stays in front.
  std::string cache_url;
  // Prefix of the shared cache's Redis keys, so deployments can share one Redis.
  std::string cache_key_prefix = "jarvis:";

  // Jinja chat template used instead of every model's tokenizer.chat_template
  // (--chat-template-file). Default empty: each file's own template.
  std::string chat_template;

  // Sequences decoding at once per model (continuous batching). Default 8.
  int32_t parallel = 8;
  // Requests waiting per model beyond the running ones; past it Submit fails
  // with ResourceExhausted. Default 64.
  int32_t max_queue = 64;
  // Tokens per forward step (decode tokens + prompt chunks). Default 512.
  int32_t batch_tokens = 512;
  // Context per sequence. Default 0: the model's, at most 4096.
  int32_t ctx_size = 0;
  // KV cache pool per model, in positions (tokens) shared by all running
  // sequences. Default 0: parallel x ctx_size plus 25% for cached prompt
  // prefixes. When it runs out the newest sequence is preempted and later
  // resumed by recomputing its KV (docs/ARCHITECTURE.md). Below ctx_size, a
  // sequence that outgrows the whole pool fails (ResourceExhausted).
  int32_t kv_size = 0;
  // Engine threads per model. Default 0: one per physical core.
  int32_t threads = 0;
  // KV cache element type (src/quant/kv_type.h): "f16" (default, half the
  // memory of f32), "f32" (exact) or "q8_0" (GGUF Q8_0 blocks: ~0.53x the
  // memory of f16, perplexity within 0.5%; CPU only, so gpu_layers must be 0
  // on a machine with a usable GPU).
  std::string kv_type = "f16";
  // Speculative decoding: "off" (default), "lookup": drafts copied from
  // earlier n-grams of the prompt and output (prompt lookup) are verified in
  // one batched step, or "draft": drafts from draft_model (below). The output is identical either way (greedy and seeded
  // sampling); text that repeats its prompt or itself comes out in fewer
  // steps. Drafting pauses itself where drafts keep being rejected.
  std::string speculative = "off";
  // Draft tokens per step at most (1..32). Default 4.
  int32_t draft_max = 4;
  // A small GGUF model with exactly the target's vocabulary that drafts for
  // speculative decoding (speculative "draft", chosen when this is set):
  // its greedy guesses are verified by the target in one step, so the output
  // is unchanged and each accepted guess saves a step of the target. Loaded
  // at startup, shared by every served model (each keeps its own draft KV
  // cache); one whose vocabulary differs from a served model's is an error.
  // Default empty: none.
  std::string draft_model;
  // Layers offloaded to the GPU: -1 all, 0 CPU only, N the last N. Default
  // kGpuLayersAuto.
  int32_t gpu_layers = kGpuLayersAuto;
  // Keep a load-time packed copy of the quantized weights for the int8
  // kernels (faster decode, same results). Default true.
  bool repack = true;
  // Directory caching the packed weights across loads, so that a model's
  // second load maps them instead of repacking ("instant reload",
  // docs/ARCHITECTURE.md). Default "": $XDG_CACHE_HOME/jarvis/packed, else
  // ~/.cache/jarvis/packed; "off": no cache.
  std::string packed_cache;
  // Bytes of packed-cache files kept in that directory; the least recently
  // used files are deleted above it. Default 32 GiB.
  size_t packed_cache_bytes = size_t{32} << 30;

  // The performance monitor the runtime records into. Default (nullopt): a
  // new one, reachable through Runtime::monitor(). Several runtimes (and the
  // caller's own timings) may share one.
  std::optional<Monitor> monitor;
};

}  // namespace jarvis
