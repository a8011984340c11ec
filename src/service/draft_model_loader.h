// The service's draft model (RuntimeOptions::draft_model): loaded once, when
// the service is created, and shared by the schedulers of every model it
// drafts for (each scheduler gives it an engine and KV cache of its own).
//
// Checked up front so that a wrong draft is a startup error and not a
// failure at some later first request: it must load, must not be an encoder,
// and every servable generating model (encoders are skipped: they never
// generate; files that cannot be read fail on their own, later) must have
// its vocabulary exactly (engine/draft_vocabulary.h). Each scheduler checks
// again at load, against the loaded model.
//
// Thread safety: a function; the model it returns is immutable.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "jarvis/status.h"
#include "model/model.h"
#include "service/model_catalog.h"

namespace jarvis {

struct LoadedDraftModel {
  std::shared_ptr<const Model> model;
  int32_t gpu_layers = 0;  // the plan it was loaded with (SchedulerOptions::draft_gpu_layers)
};

// Loads `path` with `load` (cpu_layers is planned here from
// requested_gpu_layers) and checks it against `targets` (above).
// InvalidArgument names the model whose vocabulary differs.
Result<LoadedDraftModel> LoadDraftModel(const std::string& path, ModelLoadOptions load, int32_t requested_gpu_layers,
                                        const std::vector<ModelSource>& targets);

}  // namespace jarvis
