// Option and loading helpers shared by the subcommands.
#include <cstdint>
#include <fstream>
#include <sstream>
#include <limits>
#include <optional>
#include <vector>

#include "cli/commands.h"
#include "engine/speculation.h"
#include "gpu/gpu_layer_plan.h"
#include "model/model.h"
#include "quant/kv_type.h"

namespace jarvis::cli {

CLI::Option* AddKvTypeOption(CLI::App* cmd, std::string* kv_type) {
  std::vector<std::string> names;
  for (const KvTypeTraits& t : kKvTypes) names.emplace_back(t.name);
  return cmd
      ->add_option("--kv-type", *kv_type,
                   "KV cache type: " + KvTypeNames() + " (q8_0: GGUF Q8_0 blocks, ~0.53x f16's memory, CPU only)")
      ->check(CLI::IsMember(names))
      ->capture_default_str();
}

void AddSpeculationOptions(CLI::App* cmd, std::string* mode, int32_t* draft_max, std::string* draft_model) {
  cmd->add_option("--speculative", *mode,
                  "Speculative decoding: off, lookup (drafts from earlier n-grams of the prompt and output, "
                  "verified in one step; same output, fewer steps on repetitive text) or draft (drafts from "
                  "--draft-model; chosen when --draft-model is given)")
      ->check(CLI::IsMember({"off", "lookup", "draft"}))
      ->envname("JARVIS_SPECULATIVE")
      ->capture_default_str();
  cmd->add_option("--draft-max", *draft_max, "Speculative decoding: draft tokens per step at most")
      ->check(CLI::Range(1, kMaxDraftTokens))
      ->envname("JARVIS_DRAFT_MAX")
      ->capture_default_str();
  cmd->add_option("--draft-model", *draft_model,
                  "Speculative decoding with a draft model: a small GGUF with exactly the model's vocabulary whose "
                  "greedy guesses the model verifies (same output; faster when they are often right)")
      ->check(CLI::ExistingFile)
      ->envname("JARVIS_DRAFT_MODEL");
}

KvType KvTypeFlag(const std::string& kv_type) {
  const std::optional<KvType> type = ParseKvType(kv_type);
  if (!type) Fail("--kv-type must be one of " + KvTypeNames() + ", not \"" + kv_type + "\"", kExitUsageError);
  return *type;
}

CLI::Option* AddGpuLayersOption(CLI::App* cmd, int32_t* gpu_layers) {
  return cmd
      ->add_option("--gpu-layers", *gpu_layers,
                   "Layers to offload to the GPU: -1 = all, 0 = CPU only, N = the last N "
                   "(default: env JARVIS_GPU_LAYERS, else all when a GPU is usable)")
      ->check(CLI::Range(-1, std::numeric_limits<int32_t>::max()));
}

std::unique_ptr<Model> LoadModelOrFail(const std::string& path, int32_t gpu_layers, GpuLayerPlan* plan) {
  ModelLoadOptions options;
  options.cpu_layers = PlanGpuLayersAtLoad(gpu_layers, plan);
  options.repack = RepackFromEnv();
  options.packed_cache = PackedCacheFromEnv();
  auto model = Model::Load(path, options);
  if (!model.ok()) Fail(model.status());
  return std::move(model).value();
}

std::string ReadTextFileOrFail(const std::string& path, std::string_view flag) {
  std::ifstream in(path, std::ios::binary);
  if (!in) Fail(std::string(flag) + ": cannot open '" + path + "'");
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) Fail(std::string(flag) + ": cannot read '" + path + "'");
  return ss.str();
}

}  // namespace jarvis::cli
