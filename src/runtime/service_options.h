// The public RuntimeOptions (jarvis/runtime_options.h) turned into the
// service's options: the one mapping, used by Runtime::Create and, through
// it, by `jarvis serve` and the Python package.
#pragma once

#include "jarvis/runtime_options.h"
#include "jarvis/status.h"
#include "service/service.h"

namespace jarvis {

// InvalidArgument names the first bad field (kv_type not a KvType name, parallel,
// max_queue or batch_tokens < 1, threads or ctx_size < 0, gpu_layers below
// kGpuLayersAuto).
Result<ServiceOptions> ToServiceOptions(const RuntimeOptions& options);

}  // namespace jarvis
