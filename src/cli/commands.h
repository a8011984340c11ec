// Each `jarvis` subcommand lives in its own cmd_<name>.cpp and exposes one
// Register function that adds it to the app. Exit codes: 0 ok, 1 runtime
// failure (missing or corrupt file, I/O), 2 usage error (bad flag value).
// A command's callback ends with an error by calling Fail(), which prints one
// line to stderr and unwinds to main() through CLI11's RuntimeError.
#pragma once

#include <CLI/CLI.hpp>
#include <memory>
#include <string>
#include <string_view>

#include "cli/environment.h"
#include "jarvis/status.h"
#include "quant/kv_type.h"

namespace jarvis {
class Model;
struct GpuLayerPlan;
}  // namespace jarvis

namespace jarvis::cli {

inline constexpr int kExitRuntimeError = 1;
inline constexpr int kExitUsageError = 2;

// Prints "jarvis: error: <message>" to stderr and ends the command with `code`.
[[noreturn]] void Fail(std::string_view message, int code = kExitRuntimeError);
// Same for a Status; InvalidArgument maps to the usage exit code.
[[noreturn]] void Fail(const Status& status);

// Adds `--kv-type NAME`, one of quant/kv_type.h's names (f32, f16, q8_0);
// CLI11 refuses other values (a usage error, exit 2).
CLI::Option* AddKvTypeOption(CLI::App* cmd, std::string* kv_type);
// --speculative off|lookup and --draft-max N (engine/speculation.h).
void AddSpeculationOptions(CLI::App* cmd, std::string* mode, int32_t* draft_max, std::string* draft_model);
// The KvType of a name AddKvTypeOption accepted.
KvType KvTypeFlag(const std::string& kv_type);
// Adds `--gpu-layers N`: layers to offload to the GPU (-1 all, 0 CPU only, N
// the last N). Not given: *gpu_layers keeps its value (kGpuLayersAuto; the
// command then applies ResolveGpuLayersFlag, cli/environment.h, for
// JARVIS_GPU_LAYERS). CLI11 refuses anything
// but an integer >= -1 (a usage error, exit 2).
CLI::Option* AddGpuLayersOption(CLI::App* cmd, int32_t* gpu_layers);
// Loads `path` (Model::Load), or Fail() with its error. The GPU placement of
// the `gpu_layers` request is planned once, here (gpu/gpu_layer_plan.h), and
// stored in *plan: only the layers that stay on the CPU are packed, and the
// caller hands plan->gpu_layers to the engine.
std::unique_ptr<Model> LoadModelOrFail(const std::string& path, int32_t gpu_layers, GpuLayerPlan* plan);

// The whole file at `path`, or Fail() naming `flag`.
std::string ReadTextFileOrFail(const std::string& path, std::string_view flag);

void RegisterInspect(CLI::App& app);
void RegisterSynth(CLI::App& app);
void RegisterQuantize(CLI::App& app);
void RegisterRun(CLI::App& app);
void RegisterPerplexity(CLI::App& app);
void RegisterBench(CLI::App& app);
void RegisterBenchServe(CLI::App& app);
void RegisterTokenize(CLI::App& app);
void RegisterEmbed(CLI::App& app);
void RegisterLogits(CLI::App& app);
void RegisterServe(CLI::App& app);
void RegisterDoctor(CLI::App& app);
void RegisterTemplate(CLI::App& app);

}  // namespace jarvis::cli
