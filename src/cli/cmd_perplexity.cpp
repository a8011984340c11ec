// `jarvis perplexity`: how well a model predicts a text file (llama.cpp-style
// chunked evaluation), to compare quantizations of one model.
#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>

#include "cli/commands.h"
#include "engine/engine.h"
#include "gpu/gpu_layer_plan.h"
#include "engine/perplexity.h"
#include "model/model.h"
#include "tokenizer/tokenizer.h"

namespace jarvis::cli {
namespace {

struct PerplexityFlags {
  std::string model;
  std::string file;
  int32_t ctx = 512;
  int32_t threads = 0;
  std::string kv_type = "f32";
  int32_t gpu_layers = kGpuLayersAuto;
};

void Run(const PerplexityFlags& f) {
  std::ifstream in(f.file, std::ios::binary);
  if (!in) Fail(f.file + ": cannot read");
  std::stringstream text;
  text << in.rdbuf();

  GpuLayerPlan gpu;
  const std::unique_ptr<Model> model = LoadModelOrFail(f.model, f.gpu_layers, &gpu);
  EngineOptions eo;
  eo.n_threads = f.threads;
  eo.n_ctx = f.ctx;
  eo.kv_type = KvTypeFlag(f.kv_type);
  eo.gpu_layers = gpu.gpu_layers;
  auto engine = Engine::Create(*model, eo);
  if (!engine.ok()) Fail(engine.status());
  Tokenizer::EncodeOptions enc;
  enc.add_special = false;  // each chunk gets BOS in place of its first token
  auto tokens = model->tokenizer().Encode(text.str(), enc);
  if (!tokens.ok()) Fail(tokens.status());
  std::fprintf(stderr, "%zu tokens, chunks of %d | %s\n", tokens->size(), f.ctx, (*engine)->backend().c_str());
  auto result = ComputePerplexity(**engine, *tokens, f.ctx, [](int32_t chunk, double ppl) {
    std::fprintf(stderr, "[%d] %.4f\n", chunk + 1, ppl);
  });
  if (!result.ok()) Fail(result.status());
  std::printf("PPL = %.4f +/- %.4f (%d chunks, %lld scored tokens)\n", result->perplexity, result->uncertainty,
              result->chunks, static_cast<long long>(result->scored_tokens));
}

}  // namespace

void RegisterPerplexity(CLI::App& app) {
  auto flags = std::make_shared<PerplexityFlags>();
  CLI::App* cmd = app.add_subcommand("perplexity", "Perplexity of a model over a text file");
  cmd->add_option("-m,--model", flags->model, "GGUF model file")->required();
  cmd->add_option("-f,--file", flags->file, "Text file")->required();
  cmd->add_option("-c,--ctx", flags->ctx, "Tokens per chunk")->capture_default_str();
  cmd->add_option("-t,--threads", flags->threads, "Threads (default: physical cores)");
  AddKvTypeOption(cmd, &flags->kv_type);
  AddGpuLayersOption(cmd, &flags->gpu_layers);
  cmd->callback([flags] {
    flags->gpu_layers = ResolveGpuLayersFlag(flags->gpu_layers);
    Run(*flags);
  });
}

}  // namespace jarvis::cli
