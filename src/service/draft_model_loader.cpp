#include "service/draft_model_loader.h"

#include "engine/draft_vocabulary.h"
#include "gguf/gguf_reader.h"
#include "gpu/gpu_layer_plan.h"
#include "model/arch.h"
#include "tokenizer/tokenizer.h"

namespace jarvis {
namespace {

// The target's tokenizer from its GGUF header (no weights are read); null for
// an encoder, which never drafts.
Result<std::unique_ptr<Tokenizer>> GeneratingTokenizer(const ModelSource& target) {
  JARVIS_ASSIGN_OR_RETURN(std::unique_ptr<GgufFile> gguf, GgufFile::Open(target.path));
  if (auto arch = gguf->GetString("general.architecture"); arch.ok()) {
    const ArchSpec* spec = FindArch(*arch);
    if (spec != nullptr && spec->encoder) return std::unique_ptr<Tokenizer>();
  }
  return Tokenizer::FromGguf(*gguf);
}

}  // namespace

Result<LoadedDraftModel> LoadDraftModel(const std::string& path, ModelLoadOptions load, int32_t requested_gpu_layers,
                                        const std::vector<ModelSource>& targets) {
  GpuLayerPlan plan;
  load.cpu_layers = PlanGpuLayersAtLoad(requested_gpu_layers, &plan);
  auto model = Model::Load(path, load);
  if (!model.ok()) {
    return Status(model.status().code(), "draft model " + path + ": " + model.status().message());
  }
  if ((*model)->hparams().spec->encoder) {
    return Status::InvalidArgument("draft model " + path + " is an embedding model (an encoder); it cannot draft");
  }
  for (const ModelSource& target : targets) {
    if (!target.error.empty()) continue;
    auto tokenizer = GeneratingTokenizer(target);
    if (!tokenizer.ok() || *tokenizer == nullptr) continue;  // unreadable: fails when requested; encoder: never drafts
    if (Status same = CheckSameVocabulary(**tokenizer, (*model)->tokenizer()); !same.ok()) {
      return Status::InvalidArgument("draft model " + path + " cannot draft for model " + target.name + ": " +
                                     same.message());
    }
  }
  LoadedDraftModel out;
  out.model = std::shared_ptr<const Model>(std::move(model).value());
  out.gpu_layers = plan.gpu_layers;
  return out;
}

}  // namespace jarvis
