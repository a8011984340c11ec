// Model: a loaded GGUF file (memory-mapped) with its hyper-parameters, bound
// weights and tokenizer. Immutable after Load(), so one Model can serve any
// number of engines and threads.
#pragma once

#include <memory>
#include <string>

#include "gguf/gguf_reader.h"
#include "jarvis/status.h"
#include "model/hparams.h"
#include "model/weights.h"
#include "tokenizer/tokenizer.h"

namespace jarvis {

class Model {
 public:
  // Maps `path`, validates it and binds the weights. Errors name the file and,
  // where it applies, the key or tensor at fault.
  static Result<std::unique_ptr<Model>> Load(const std::string& path);

  Model(const Model&) = delete;
  Model& operator=(const Model&) = delete;

  const HParams& hparams() const { return hparams_; }
  const ModelWeights& weights() const { return weights_; }
  const Tokenizer& tokenizer() const { return *tokenizer_; }
  const GgufFile& gguf() const { return *gguf_; }
  const std::string& path() const { return path_; }

 private:
  Model() = default;
  std::string path_;
  std::unique_ptr<GgufFile> gguf_;
  HParams hparams_;
  ModelWeights weights_;
  std::unique_ptr<Tokenizer> tokenizer_;
};

}  // namespace jarvis
