// Model: a loaded GGUF file (memory-mapped) with its hyper-parameters, bound
// weights and tokenizer. Immutable after Load(), so one Model can serve any
// number of engines and threads.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "gguf/gguf_reader.h"
#include "jarvis/status.h"
#include "model/hparams.h"
#include "model/weight_packing.h"
#include "model/weights.h"
#include "tokenizer/tokenizer.h"

namespace jarvis {

struct ModelLoadOptions {
  // How many leading layers will run on the CPU, given the model's layer
  // count (the rest and the output head go to an accelerator, see
  // model/layer_offload.h). Only the CPU's matrices are packed
  // (model/weight_packing.h). Unset: all layers.
  std::function<int32_t(int32_t n_layer)> cpu_layers;
  // Keep a load-time packed copy of the CPU layers' quantized matrices
  // (model/weight_packing.h). Default true; false saves the copy's memory at
  // some decode speed (same results).
  bool repack = true;
  // Where packed copies are cached across loads (model/packed_cache.h).
  // Default: no cache (dir empty); RuntimeOptions::packed_cache resolves the
  // user-facing default to a directory.
  PackedCacheSettings packed_cache;
};

class Model {
 public:
  // Maps `path`, validates it and binds the weights. Errors name the file and,
  // where it applies, the key or tensor at fault.
  static Result<std::unique_ptr<Model>> Load(const std::string& path, const ModelLoadOptions& options = {});

  Model(const Model&) = delete;
  Model& operator=(const Model&) = delete;

  const HParams& hparams() const { return hparams_; }
  const ModelWeights& weights() const { return weights_; }
  const Tokenizer& tokenizer() const { return *tokenizer_; }
  const GgufFile& gguf() const { return *gguf_; }
  const std::string& path() const { return path_; }
  // The load-time packed copy of the quantized matrices (null: none).
  const PackedWeights* packed() const { return packed_.get(); }

 private:
  Model() = default;
  std::string path_;
  std::unique_ptr<GgufFile> gguf_;
  HParams hparams_;
  ModelWeights weights_;
  std::unique_ptr<PackedWeights> packed_;  // after weights_: they point into it
  std::unique_ptr<Tokenizer> tokenizer_;
};

}  // namespace jarvis
