// The tensors and metadata of a synthetic GGUF (any architecture), and the
// deterministic random values that fill it, plus the row-by-row
// convert-and-quantize loop shared by `jarvis synth` and `jarvis quantize`.
//
// Determinism: every row of every tensor draws from its own generator, seeded
// from (seed, tensor name, row index), so the bytes of a file depend only on
// the seed and never on the thread count or the order rows are computed in.
//
// Thread safety: pure functions; FillTensorRows uses the pool it is given.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "cli/synth_presets.h"
#include "cli/synth_progress.h"
#include "cli/synth_recipe.h"
#include "gguf/gguf_writer.h"
#include "jarvis/status.h"
#include "util/thread_pool.h"

namespace jarvis::synth {

struct TensorSpec {
  std::string name;
  std::vector<int64_t> dims;  // ggml order: dims[0] = row length
};

// The preset architecture's tensor list (model/arch.h ArchTensors: llama.cpp
// names and shapes; output absent when embeddings are tied).
std::vector<TensorSpec> PlanTensors(const ModelPreset& preset);

// general.* and <arch>.* keys (the tokenizer is added by AddVocabMetadata).
void AddModelMetadata(const ModelPreset& preset, const QuantTarget& target, uint64_t seed,
                      GgufWriter* writer);

// Row `row` of tensor `name`: ~N(0, 0.02) weights, or 1 + ~N(0, 0.02) for
// norm weights (names ending in "_norm.weight").
void GenerateRow(uint64_t seed, std::string_view name, int64_t row, float* out, int64_t n);

// Sets up `writer` with the metadata, tokenizer and tensor list of a synthetic
// model. Appends a note to `notes` for every tensor whose row length forced a
// fallback type (none of the built-in presets does).
Status PlanSyntheticModel(const ModelPreset& preset, const QuantTarget& target, uint64_t seed,
                          GgufWriter* writer, std::vector<std::string>* notes);

// Generates and writes the tensors planned in `writer` to `path` (atomically:
// a temp file renamed on success). `threads` <= 0 means one per core; the
// progress bar shows only on a terminal.
Status WriteSyntheticTensors(GgufWriter& writer, uint64_t seed, const std::string& path,
                             int threads);

// Plan + write in one call, preset and type given by name (InvalidArgument
// listing the valid names when unknown). Used for the built-in demo model.
Status WriteSyntheticModel(std::string_view preset, std::string_view type, uint64_t seed,
                           const std::string& path, int threads = 0);

// The "row length ... is not a multiple of ..." note for a fallback choice.
std::string FallbackNote(std::string_view tensor, int64_t row_length,
                         const TensorTypeChoice& choice);

// Produces one F32 row (dims[0] values) of the tensor being written.
using RowSource = std::function<Status(int64_t row, float* out)>;

// Fills `out` with tensor `t` (type t.type) from `source`, row by row on the
// pool's threads, advancing `progress` (may be null) as rows finish.
Status FillTensorRows(const GgufTensorPlan& t, const RowSource& source, std::span<uint8_t> out,
                      ThreadPool& pool, ProgressBar* progress);

}  // namespace jarvis::synth
