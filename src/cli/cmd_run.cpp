// `jarvis run`: generate a continuation of a prompt (or a chat reply) and
// stream it to stdout; timings go to stderr.
#include <chrono>
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "cli/default_model.h"
#include "engine/engine.h"
#include "gpu/gpu_layer_plan.h"
#include "engine/generator.h"
#include "engine/model_drafter.h"
#include "jarvis/runtime_options.h"
#include "model/model.h"
#include "chat/chat_formatter.h"
#include "tokenizer/chat_template.h"
#include "tokenizer/tokenizer.h"

namespace jarvis::cli {
namespace {

struct RunFlags {
  std::string model;
  std::string prompt = "Once upon a time";
  std::string system;
  bool chat = false;
  std::string chat_template;
  std::string chat_template_file;
  int32_t n_predict = 128;
  int32_t threads = 0;
  int32_t ctx_size = 0;
  std::string kv_type = "f16";
  std::string speculative = RuntimeOptions{}.speculative;
  int32_t draft_max = RuntimeOptions{}.draft_max;
  std::string draft_model = RuntimeOptions{}.draft_model;
  int32_t gpu_layers = kGpuLayersAuto;
  std::vector<std::string> stop;
  bool ignore_eos = false;
  SamplingParams sampling;
  int64_t seed = -1;
};

// Renders the chat prompt with the model's own (Jinja) template, or
// --chat-template-file, or the family named by --chat-template. A leading BOS
// text is dropped when the tokenizer adds BOS (chat/chat_formatter.h).
std::string RenderChatPrompt(const Model& model, const RunFlags& f) {
  std::vector<ChatMessage> messages;
  if (!f.system.empty()) messages.push_back({"system", f.system});
  messages.push_back({"user", f.prompt});
  ChatRenderInput input;
  input.messages = messages;
  const Tokenizer& tok = model.tokenizer();
  Result<std::string> text = Status::Internal("unset");
  if (!f.chat_template.empty()) {
    auto named = ChatTemplateFromName(f.chat_template);
    if (!named) Fail("unknown --chat-template '" + f.chat_template + "'", kExitUsageError);
    ChatFormatter::Options o;
    if (tok.bos_id() >= 0) o.bos_text = std::string(tok.TokenText(tok.bos_id()));
    if (tok.eos_id() >= 0) o.eos_text = std::string(tok.TokenText(tok.eos_id()));
    text = ChatFormatter::FromFamily(*named, o).RenderForTokenizer(input);
  } else {
    const std::string source = f.chat_template_file.empty() ? "" : ReadTextFileOrFail(f.chat_template_file, "--chat-template-file");
    auto formatter = ChatFormatterForModel(model.gguf(), tok, source);
    if (!formatter.ok()) Fail(formatter.status());
    text = formatter->RenderForTokenizer(input);
  }
  if (!text.ok()) Fail(text.status());
  return *text;
}

void Run(const RunFlags& f) {
  std::string path = f.model;
  if (path.empty()) {
    auto demo = DefaultModelPath();
    if (!demo.ok()) Fail(demo.status());
    path = *demo;
    std::cerr << "jarvis: no --model given; using the built-in demo model " << path << "\n";
  }

  const auto load_start = std::chrono::steady_clock::now();
  GpuLayerPlan gpu;
  const std::unique_ptr<Model> model = LoadModelOrFail(path, f.gpu_layers, &gpu);
  EngineOptions eo;
  eo.n_threads = f.threads;
  eo.n_ctx = f.ctx_size;
  eo.kv_type = KvTypeFlag(f.kv_type);
  eo.gpu_layers = gpu.gpu_layers;
  auto engine = Engine::Create(*model, eo);
  if (!engine.ok()) Fail(engine.status());
  const double load_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - load_start).count();

  const Tokenizer& tok = model->tokenizer();
  Tokenizer::EncodeOptions enc;
  std::string text = f.prompt;
  if (f.chat) {
    text = RenderChatPrompt(*model, f);
    enc.parse_special = true;
  }
  auto prompt = tok.Encode(text, enc);
  if (!prompt.ok()) Fail(prompt.status());

  GenerateOptions go;
  go.max_tokens = f.n_predict;
  go.sampling = f.sampling;
  if (f.seed >= 0) {
    go.sampling.seed = static_cast<uint64_t>(f.seed);
    go.sampling.has_seed = true;
  }
  go.stop = f.stop;
  go.ignore_eos = f.ignore_eos;
  auto speculation = MakeSpeculationOptions(f.speculative, f.draft_max, !f.draft_model.empty());
  if (!speculation.ok()) Fail(speculation.status().message(), kExitUsageError);
  go.speculation = *speculation;
  std::unique_ptr<Model> draft_model;
  std::unique_ptr<ModelDrafter> drafter;
  if (!f.draft_model.empty()) {
    GpuLayerPlan draft_gpu;
    draft_model = LoadModelOrFail(f.draft_model, f.gpu_layers, &draft_gpu);
    EngineOptions draft_eo = eo;
    draft_eo.n_ctx = (*engine)->n_ctx();
    draft_eo.gpu_layers = draft_gpu.gpu_layers;
    draft_eo.shared_pool = &(*engine)->pool();
    auto made = ModelDrafter::Create(*model, *draft_model, draft_eo, go.prefill_chunk);
    if (!made.ok()) Fail("--draft-model " + f.draft_model + ": " + made.status().message(), kExitUsageError);
    drafter = std::move(made).value();
    go.drafter = drafter.get();
  }
  auto result = Generate(**engine, *prompt, go, [](std::string_view piece) {
    std::fwrite(piece.data(), 1, piece.size(), stdout);
    std::fflush(stdout);
    return true;
  });
  if (!result.ok()) Fail(result.status());
  std::fputc('\n', stdout);
  std::fflush(stdout);
  const GenerationResult& r = *result;
  std::fprintf(stderr,
               "load %.1f ms | prompt %d tokens, %.1f t/s | generated %zu tokens, %.1f t/s | %d threads | %s | finish %s\n",
               load_ms, r.prompt_tokens, r.prompt_seconds > 0 ? r.prompt_tokens / r.prompt_seconds : 0.0,
               r.tokens.size(), r.generate_seconds > 0 ? static_cast<double>(r.tokens.size()) / r.generate_seconds : 0.0,
               (*engine)->n_threads(), (*engine)->backend().c_str(), FinishReasonName(r.finish));
  if (go.speculation.enabled()) {
    std::fprintf(stderr, "speculative (%s): %d steps for %zu tokens, %d of %d drafts accepted\n",
                 go.speculation.mode.c_str(), r.decode_steps, r.tokens.size(), r.accepted_draft_tokens, r.draft_tokens);
  }
}

}  // namespace

void RegisterRun(CLI::App& app) {
  auto flags = std::make_shared<RunFlags>();
  CLI::App* cmd = app.add_subcommand("run", "Generate text from a prompt (streams to stdout)");
  cmd->add_option("-m,--model", flags->model, "GGUF model file (default: the built-in demo model)");
  cmd->add_option("-p,--prompt", flags->prompt, "Prompt text")->capture_default_str();
  cmd->add_option("-n,--n-predict", flags->n_predict, "Tokens to generate (-1: until the context is full)")
      ->capture_default_str();
  cmd->add_flag("--chat", flags->chat, "Treat the prompt as a user message and apply the chat template");
  cmd->add_option("--system", flags->system, "System message (with --chat)");
  cmd->add_option("--chat-template", flags->chat_template,
                  "Use a built-in chat template family instead of the model's: chatml, llama3, llama2, mistral, gemma, "
                  "phi3, zephyr");
  cmd->add_option("--chat-template-file", flags->chat_template_file,
                  "Jinja chat template file overriding the model's tokenizer.chat_template")
      ->check(CLI::ExistingFile);
  cmd->add_option("--temperature,--temp", flags->sampling.temperature, "Sampling temperature (0: greedy)")
      ->capture_default_str();
  cmd->add_option("--top-k", flags->sampling.top_k, "Top-k (0: off)")->capture_default_str();
  cmd->add_option("--top-p", flags->sampling.top_p, "Top-p (1: off)")->capture_default_str();
  cmd->add_option("--min-p", flags->sampling.min_p, "Min-p (0: off)")->capture_default_str();
  cmd->add_option("--repeat-penalty", flags->sampling.repeat_penalty, "Repetition penalty (1: off)")
      ->capture_default_str();
  cmd->add_option("--repeat-last-n", flags->sampling.penalty_last_n, "Penalty window in tokens")
      ->capture_default_str();
  cmd->add_option("--presence-penalty", flags->sampling.presence_penalty, "Presence penalty")->capture_default_str();
  cmd->add_option("--frequency-penalty", flags->sampling.frequency_penalty, "Frequency penalty")
      ->capture_default_str();
  cmd->add_option("-s,--seed", flags->seed, "Random seed (-1: random)")->capture_default_str();
  cmd->add_option("--stop", flags->stop, "Stop string (repeatable)");
  cmd->add_flag("--ignore-eos", flags->ignore_eos, "Do not stop at end-of-generation tokens");
  cmd->add_option("-t,--threads", flags->threads, "Threads (default: physical cores)");
  cmd->add_option("-c,--ctx-size", flags->ctx_size, "Context size (default: model's, at most 4096)");
  AddKvTypeOption(cmd, &flags->kv_type);
  AddSpeculationOptions(cmd, &flags->speculative, &flags->draft_max, &flags->draft_model);
  AddGpuLayersOption(cmd, &flags->gpu_layers);
  cmd->callback([flags] {
    flags->gpu_layers = ResolveGpuLayersFlag(flags->gpu_layers);
    Run(*flags);
  });
}

}  // namespace jarvis::cli
