// `jarvis embed --model FILE --text T [--text T2 ...] [--json] [--dimensions N]
// [--no-truncate] [-t N] [-c N]`: the embedding of each text, computed
// through the same scheduler path the server uses (special tokens,
// truncation, dimensions: jarvis/embed.h), all texts in one request.
//
// Human output: one line per text, its components separated by spaces
// (%.7g: a float32 round-trips). --json: {"model", "dimensions",
// "prompt_tokens", "embeddings": [[...], ...]}.
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "gpu/gpu_layer_plan.h"
#include "model/model.h"
#include "scheduler/scheduler.h"

namespace jarvis::cli {
namespace {

struct EmbedFlags {
  std::string model;
  std::vector<std::string> texts;
  bool json = false;
  int32_t dimensions = 0;
  bool no_truncate = false;
  int32_t threads = 0;
  int32_t ctx_size = 0;
  int32_t gpu_layers = kGpuLayersAuto;
};

void Embed(const EmbedFlags& f) {
  if (f.dimensions < 0) Fail("--dimensions must be >= 1", kExitUsageError);
  GpuLayerPlan gpu;
  const std::unique_ptr<Model> model = LoadModelOrFail(f.model, f.gpu_layers, &gpu);
  SchedulerOptions so;
  so.max_sequences = 1;
  so.n_threads = f.threads;
  so.n_ctx = f.ctx_size;
  so.gpu_layers = gpu.gpu_layers;
  auto scheduler = Scheduler::Create(*model, so);
  if (!scheduler.ok()) Fail(scheduler.status());
  EmbedRequest request;
  request.texts = f.texts;
  request.dimensions = f.dimensions;
  request.truncate = !f.no_truncate;
  auto handle = (*scheduler)->SubmitEmbed(std::move(request));
  if (!handle.ok()) Fail(handle.status());
  const EmbedResult r = handle->Wait();
  if (!r.error.ok()) Fail(r.error);
  if (f.json) {
    const size_t dims = r.embeddings.empty() ? 0 : r.embeddings.front().size();
    std::cout << nlohmann::json{{"model", std::filesystem::path(f.model).stem().string()},
                                {"dimensions", dims},
                                {"prompt_tokens", r.prompt_tokens},
                                {"embeddings", r.embeddings}}
                     .dump()
              << std::endl;
    return;
  }
  for (const std::vector<float>& v : r.embeddings) {
    for (size_t i = 0; i < v.size(); ++i) std::printf(i == 0 ? "%.7g" : " %.7g", static_cast<double>(v[i]));
    std::printf("\n");
  }
}

}  // namespace

void RegisterEmbed(CLI::App& app) {
  auto flags = std::make_shared<EmbedFlags>();
  CLI::App* cmd = app.add_subcommand("embed", "Print the embedding vector of each text");
  cmd->add_option("-m,--model", flags->model, "GGUF model file")->required();
  cmd->add_option("--text", flags->texts, "Text to embed (repeat for several)")->required();
  cmd->add_flag("--json", flags->json, "Print JSON instead of one line of numbers per text");
  cmd->add_option("--dimensions", flags->dimensions,
                  "Keep the first N components and renormalize (Matryoshka models; default: all)");
  cmd->add_flag("--no-truncate", flags->no_truncate, "Fail on a text longer than the context instead of cutting it");
  cmd->add_option("-t,--threads", flags->threads, "Threads (default: physical cores)");
  cmd->add_option("-c,--ctx-size", flags->ctx_size, "Context size (default: model's, at most 4096)");
  AddGpuLayersOption(cmd, &flags->gpu_layers);
  cmd->callback([flags] {
    flags->gpu_layers = ResolveGpuLayersFlag(flags->gpu_layers);
    Embed(*flags);
  });
}

}  // namespace jarvis::cli
