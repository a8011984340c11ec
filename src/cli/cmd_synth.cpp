// `jarvis synth --preset NAME --type TYPE --out FILE [--seed S] [--layers N]`: writes a
// random-weight GGUF of any supported architecture (model/arch.h) with real shapes and a working tokenizer,
// for benchmarks and tests. Generation and quantization stream tensor by
// tensor (row by row on all cores), so memory stays at about one tensor.
// `--dry-run` prints the tensor plan (name, shape, type) without writing;
// `--vocab-only` writes the metadata and tokenizer with no tensors.
#include <cstdio>
#include <iostream>
#include <string>

#include "cli/commands.h"
#include "cli/synth_model.h"
#include "cli/synth_presets.h"
#include "cli/synth_recipe.h"
#include "cli/synth_vocab.h"
#include "gguf/gguf_writer.h"

namespace jarvis::cli {
namespace {

struct SynthOptions {
  std::string preset;
  std::string type;
  std::string out;
  uint64_t seed = 42;
  int32_t layers = 0;  // 0: the preset's
  int threads = 0;
  bool dry_run = false;
  bool vocab_only = false;
  std::string chat_template_file;  // Jinja template stored as tokenizer.chat_template
};

std::string DimsText(const std::vector<int64_t>& dims) {
  std::string s = "[";
  for (size_t i = 0; i < dims.size(); ++i) s += (i ? ", " : "") + std::to_string(dims[i]);
  return s + "]";
}

void RunSynth(const SynthOptions& opt) {
  const synth::ModelPreset* preset = synth::FindPreset(opt.preset);
  if (preset == nullptr) {
    Fail("unknown preset '" + opt.preset + "' (valid: " + synth::PresetNames() + ")",
         kExitUsageError);
  }
  if (opt.layers < 0) Fail("--layers must be >= 1 (0: the preset's)", kExitUsageError);
  // A preset with fewer layers keeps its vocabulary and widths: a small draft
  // model for the full one (speculative decoding, engine/model_drafter.h).
  synth::ModelPreset shape = *preset;
  if (opt.layers > 0) shape.n_layers = opt.layers;
  const auto target = synth::FindQuantTarget(opt.type);
  if (!target) {
    Fail("unknown type '" + opt.type + "' (valid: " + synth::QuantTargetNames() + ")",
         kExitUsageError);
  }
  if (opt.out.empty() && !opt.dry_run) Fail("--out is required", kExitUsageError);

  if (opt.vocab_only) {  // metadata and tokenizer, no tensors (for tokenizer tests)
    GgufWriter writer;
    synth::AddModelMetadata(shape, *target, opt.seed, &writer);
    synth::AddVocabMetadata(synth::BuildVocab(shape.vocab, shape.vocab_size), &writer);
    if (!opt.chat_template_file.empty())
      writer.SetString("tokenizer.chat_template", ReadTextFileOrFail(opt.chat_template_file, "--chat-template-file"));
    const Status s = writer.WriteFile(
        opt.out, [](size_t, const GgufTensorPlan&, std::span<uint8_t>) { return Status::Ok(); });
    if (!s.ok()) Fail(s.message(), kExitRuntimeError);
    return;
  }

  GgufWriter writer;
  std::vector<std::string> notes;
  const Status planned = synth::PlanSyntheticModel(shape, *target, opt.seed, &writer, &notes);
  if (!planned.ok()) Fail(planned.message(), kExitRuntimeError);
  for (const auto& note : notes) std::cerr << "jarvis: note: " << note << "\n";
  if (!opt.chat_template_file.empty())
    writer.SetString("tokenizer.chat_template", ReadTextFileOrFail(opt.chat_template_file, "--chat-template-file"));

  if (opt.dry_run) {
    uint64_t total_bytes = 0;
    for (const auto& t : writer.tensors()) {
      std::printf("%-28s %-16s %s\n", t.name.c_str(), DimsText(t.dims).c_str(), TypeName(t.type));
      total_bytes += t.n_bytes;
    }
    std::printf("total tensor bytes: %llu\n", static_cast<unsigned long long>(total_bytes));
    return;
  }
  const Status s = synth::WriteSyntheticTensors(writer, opt.seed, opt.out, opt.threads);
  if (!s.ok()) Fail(s.message(), kExitRuntimeError);
}

}  // namespace

void RegisterSynth(CLI::App& app) {
  auto opt = std::make_shared<SynthOptions>();
  CLI::App* cmd =
      app.add_subcommand("synth", "Write a random-weight GGUF of a real model shape (any supported architecture)");
  cmd->add_option("--preset", opt->preset, "Model shape: " + synth::PresetNames())->required();
  cmd->add_option("--type", opt->type, "Tensor type: " + synth::QuantTargetNames())->required();
  cmd->add_option("--out", opt->out, "Output GGUF path");
  cmd->add_option("--chat-template-file", opt->chat_template_file,
                  "Jinja chat template to store as tokenizer.chat_template (replacing the preset's)")
      ->check(CLI::ExistingFile);
  cmd->add_option("--seed", opt->seed, "Seed of the random weights")->capture_default_str();
  cmd->add_option("--layers", opt->layers,
                  "Layers (default: the preset's); fewer layers with the same vocabulary make a draft model for "
                  "--draft-model");
  cmd->add_option("--threads", opt->threads, "Worker threads (default: one per core)");
  cmd->add_flag("--dry-run", opt->dry_run, "Print the tensor plan instead of writing a file");
  cmd->add_flag("--vocab-only", opt->vocab_only, "Write only metadata and tokenizer (no tensors)");
  cmd->callback([opt] { RunSynth(*opt); });
}

}  // namespace jarvis::cli
