#include "model/model.h"

#include <algorithm>

namespace jarvis {

Result<std::unique_ptr<Model>> Model::Load(const std::string& path, const ModelLoadOptions& options) {
  std::unique_ptr<Model> m(new Model());
  m->path_ = path;
  JARVIS_ASSIGN_OR_RETURN(m->gguf_, GgufFile::Open(path));
  JARVIS_ASSIGN_OR_RETURN(m->hparams_, ReadHParams(*m->gguf_));
  JARVIS_ASSIGN_OR_RETURN(m->weights_, BindWeights(*m->gguf_, &m->hparams_));
  const int32_t n_layer = m->hparams_.n_layer;
  const int32_t cpu_layers = options.cpu_layers ? std::clamp(options.cpu_layers(n_layer), 0, n_layer) : n_layer;
  JARVIS_ASSIGN_OR_RETURN(m->packed_, PackedWeights::Pack(&m->weights_, cpu_layers, options.repack, m->gguf_.get(),
                                                                 options.packed_cache));
  JARVIS_ASSIGN_OR_RETURN(m->tokenizer_, Tokenizer::FromGguf(*m->gguf_));
  if (m->tokenizer_->vocab_size() > m->hparams_.n_vocab) {
    return Status::InvalidArgument(path + ": tokenizer has " + std::to_string(m->tokenizer_->vocab_size()) +
                                   " tokens but the model only " + std::to_string(m->hparams_.n_vocab));
  }
  return m;
}

}  // namespace jarvis
