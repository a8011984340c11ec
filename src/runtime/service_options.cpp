#include "runtime/service_options.h"

#include "engine/speculation.h"
#include "gpu/gpu_layer_plan.h"
#include "model/packed_cache.h"
#include "quant/kv_type.h"
#include "util/perf_monitor.h"

namespace jarvis {

Result<ServiceOptions> ToServiceOptions(const RuntimeOptions& o) {
  const std::optional<KvType> kv_type = ParseKvType(o.kv_type);
  if (!kv_type) {
    return Status::InvalidArgument("kv_type must be one of " + KvTypeNames() + ", not \"" + o.kv_type + "\"");
  }
  JARVIS_ASSIGN_OR_RETURN(const SpeculationOptions speculation, MakeSpeculationOptions(o.speculative, o.draft_max, !o.draft_model.empty()));
  if (o.parallel < 1) return Status::InvalidArgument("parallel must be >= 1");
  if (o.max_queue < 1) return Status::InvalidArgument("max_queue must be >= 1");
  if (o.batch_tokens < 1) return Status::InvalidArgument("batch_tokens must be >= 1");
  if (o.threads < 0) return Status::InvalidArgument("threads must be >= 0 (0: one per physical core)");
  if (o.ctx_size < 0) return Status::InvalidArgument("ctx_size must be >= 0 (0: the model's)");
  if (o.kv_size < 0) return Status::InvalidArgument("kv_size must be >= 0 (0: parallel x ctx_size + 25%)");
  JARVIS_RETURN_IF_ERROR(CheckGpuLayersRequest(o.gpu_layers));
  ServiceOptions so;
  so.model_paths = o.models;
  so.default_model = o.default_model;
  so.max_loaded_models = o.max_loaded_models;
  so.memory_budget_bytes = o.memory_budget_bytes;
  so.keep_alive = o.keep_alive;
  so.cache_ttl = o.cache_ttl.count() < 0 ? std::chrono::seconds(0) : o.cache_ttl;
  so.cache_bytes = o.cache_bytes;
  so.cache_url = o.cache_url;
  so.cache_key_prefix = o.cache_key_prefix;
  so.repack = o.repack;
  so.packed_cache_dir = ResolvePackedCacheDir(o.packed_cache);
  so.packed_cache_bytes = o.packed_cache_bytes;
  so.monitor = o.monitor ? o.monitor->impl() : nullptr;
  so.scheduler.max_sequences = o.parallel;
  so.scheduler.max_queue = o.max_queue;
  so.scheduler.max_batch_tokens = o.batch_tokens;
  so.scheduler.n_ctx = o.ctx_size;
  so.scheduler.kv_size = o.kv_size;
  so.scheduler.n_threads = o.threads;
  so.scheduler.kv_type = *kv_type;
  so.scheduler.speculation = speculation;
  so.draft_model_path = o.draft_model;
  so.scheduler.gpu_layers = o.gpu_layers;
  so.scheduler.chat_template = o.chat_template;
  return so;
}

}  // namespace jarvis
