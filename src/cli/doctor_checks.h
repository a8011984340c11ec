// The checks behind `jarvis doctor`: is this machine and build ready to
// serve? Each check reads what the rest of jarvis already knows (kernel ISA,
// GPU probe, /proc/meminfo through SystemMonitor, ...) and says ok, warn or
// fail with one line of detail and, unless ok, one line of advice.
//
// Nothing here changes the machine beyond creating jarvis's cache folder: the
// demo model is not synthesized, the server port is bound for an instant and
// released, and a model given to RunModelChecks is loaded without packing.
//
// Errors are results, never exceptions: a file that cannot be read makes its
// check warn or fail.
#pragma once

#include <string>
#include <vector>

#include "cli/gpu_placement.h"

namespace jarvis::cli {

enum class CheckStatus { kOk, kWarn, kFail };

// "ok", "warn", "fail".
const char* CheckStatusName(CheckStatus status);

struct DoctorCheck {
  std::string name;    // stable id: "build", "kernels", ..., "model_gpu"
  CheckStatus status = CheckStatus::kOk;
  std::string detail;  // one line: what was found
  std::string advice;  // one line: what to do (empty when ok)
};

// build, kernels, threads, memory, hugepages, packing, packed_cache, gpu,
// nvml, demo_model, port, dashboard, env: in that order.
std::vector<DoctorCheck> RunMachineChecks();

// model (loads `path`: fails when it does not load, and then the others are
// left out), model_kernels, model_memory, model_gpu (which layers run where
// for `gpu_layers`, and why: cli/gpu_placement.h).
std::vector<DoctorCheck> RunModelChecks(const std::string& path, const GpuLayersRequest& gpu_layers);

}  // namespace jarvis::cli
