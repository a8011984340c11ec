// `jarvis quantize IN OUT TYPE`: re-encodes every tensor of a GGUF into TYPE
// (see synth_recipe.h for which tensor gets what), keeping all metadata, with
// general.file_type updated. Each row is decoded to F32 and re-quantized, on
// all cores, one tensor in memory at a time.
#include <iostream>
#include <string>

#include "cli/commands.h"
#include "cli/synth_model.h"
#include "cli/synth_recipe.h"
#include "gguf/gguf_reader.h"
#include "gguf/gguf_writer.h"
#include "quant/quantize.h"
#include "util/thread_pool.h"

namespace jarvis::cli {
namespace {

struct QuantizeOptions {
  std::string in;
  std::string out;
  std::string type;
  int threads = 0;
};

// "<arch>.<key>" as an int, or `fallback` when absent (or, like some
// architectures' per-layer head counts, an array).
int ArchUint(const GgufFile& file, const std::string& key, int fallback) {
  auto arch = file.GetString("general.architecture");
  if (!arch.ok()) return fallback;
  auto n = file.GetUint(std::string(*arch) + "." + key);
  return n.ok() ? static_cast<int>(*n) : fallback;
}

// What the mixes need to know about the model (synth_recipe.h).
synth::ModelShape ShapeOf(const GgufFile& file) {
  synth::ModelShape shape;
  shape.n_layers = ArchUint(file, "block_count", 0);
  const int heads = ArchUint(file, "attention.head_count", 1);
  const int kv_heads = ArchUint(file, "attention.head_count_kv", heads);
  shape.n_gqa = kv_heads > 0 ? heads / kv_heads : 1;
  shape.tied = file.FindTensor("output.weight") == nullptr;
  return shape;
}

void RunQuantize(const QuantizeOptions& opt) {
  const auto target = synth::FindQuantTarget(opt.type);
  if (!target) {
    Fail("unknown type '" + opt.type + "' (valid: " + synth::QuantTargetNames() + ")",
         kExitUsageError);
  }
  auto opened = GgufFile::Open(opt.in);
  if (!opened.ok()) Fail(opened.status().ToString(), kExitRuntimeError);
  const GgufFile& in = **opened;

  GgufWriter writer;
  writer.SetAlignment(static_cast<uint32_t>(in.alignment()));
  for (const auto& kv : in.metadata()) writer.SetValue(kv.key, kv.value);
  writer.SetUint32("general.file_type", target->file_type);
  writer.SetUint32("general.quantization_version", 2);

  const synth::ModelShape shape = ShapeOf(in);
  for (const auto& t : in.tensors()) {
    if (!CanDequantize(t.type)) {
      Fail("tensor " + std::string(t.name) + " has type " + TypeName(t.type) +
               ", which jarvis cannot decode",
           kExitRuntimeError);
    }
    const auto choice = synth::ChooseTensorType(*target, t.name, t.dims, shape);
    if (choice.fell_back()) {
      std::cerr << "jarvis: note: " << synth::FallbackNote(t.name, t.dims[0], choice) << "\n";
    }
    const Status s = writer.AddTensor(std::string(t.name), t.dims, choice.type);
    if (!s.ok()) Fail(s.message(), kExitRuntimeError);
  }

  uint64_t total_bytes = 0;
  for (const auto& t : writer.tensors()) total_bytes += t.n_bytes;
  ThreadPool pool(opt.threads > 0 ? opt.threads : DefaultThreadCount());
  synth::ProgressBar progress(total_bytes);
  const Status s = writer.WriteFile(
      opt.out, [&](size_t index, const GgufTensorPlan& t, std::span<uint8_t> out) -> Status {
        progress.SetLabel(t.name);
        const GgufTensorInfo& src = in.tensors()[index];
        const size_t src_row_bytes = RowSize(src.type, src.dims[0]);
        auto source = [&](int64_t row, float* values) {
          return DequantizeRow(src.type, src.data + static_cast<size_t>(row) * src_row_bytes,
                               values, src.dims[0]);
        };
        return synth::FillTensorRows(t, source, out, pool, &progress);
      });
  progress.Finish();
  if (!s.ok()) Fail(s.message(), kExitRuntimeError);
}

}  // namespace

void RegisterQuantize(CLI::App& app) {
  auto opt = std::make_shared<QuantizeOptions>();
  CLI::App* cmd =
      app.add_subcommand("quantize", "Re-encode a GGUF model's tensors into another type");
  cmd->add_option("IN", opt->in, "Input GGUF")->required();
  cmd->add_option("OUT", opt->out, "Output GGUF")->required();
  cmd->add_option("TYPE", opt->type, "Target type: " + synth::QuantTargetNames())->required();
  cmd->add_option("--threads", opt->threads, "Worker threads (default: one per core)");
  cmd->callback([opt] { RunQuantize(*opt); });
}

}  // namespace jarvis::cli
