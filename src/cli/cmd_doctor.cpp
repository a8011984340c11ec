// `jarvis doctor [--model FILE [--gpu-layers N]] [--json]`: whether this machine and build are
// ready to serve, one line per check (ok / warn / fail) with advice for each
// problem, like `brew doctor`. Exit 0 when no check failed, 1 otherwise (with
// one "jarvis: error:" line naming the failed checks).
//
// JSON (stable keys): {"checks": [{"name", "status", "detail", "advice"}],
// "summary": {"ok", "warn", "fail", "status"}}; advice is null for ok checks,
// summary.status the worst check's status. The checks: cli/doctor_checks.h.
#include <cstdio>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "cli/doctor_checks.h"
#include "cli/environment.h"
#include "cli/gpu_placement.h"
#include "gpu/gpu_backend.h"

namespace jarvis::cli {
namespace {

using json = nlohmann::ordered_json;  // keys in the documented order

void PrintHuman(const std::vector<DoctorCheck>& checks, std::ostream& out) {
  char buf[64];
  for (const DoctorCheck& c : checks) {
    std::snprintf(buf, sizeof(buf), "%-6s %-14s", CheckStatusName(c.status), c.name.c_str());
    out << buf << c.detail << "\n";
    if (!c.advice.empty()) out << std::string(21, ' ') << "-> " << c.advice << "\n";
  }
}

// What the layers-to-GPU request is and where it comes from: the flag, else
// JARVIS_GPU_LAYERS, else the default (all layers when a GPU is usable).
GpuLayersRequest GpuRequest(int32_t flag) {
  if (flag != kGpuLayersAuto) return {flag, "--gpu-layers " + std::to_string(flag)};
  const GpuLayersEnv env = ReadGpuLayersEnv();
  if (!env.set) return {-1, "default: all layers when a GPU is usable"};
  if (!env.valid) return {0, "JARVIS_GPU_LAYERS is not an integer >= -1, so it counts as 0"};
  return {env.value, "JARVIS_GPU_LAYERS=" + std::to_string(env.value)};
}

}  // namespace

void RegisterDoctor(CLI::App& app) {
  struct Options {
    std::string model;
    bool json = false;
    int32_t gpu_layers = kGpuLayersAuto;
  };
  auto opts = std::make_shared<Options>();
  CLI::App* cmd = app.add_subcommand("doctor", "Check that this machine and build are ready to serve, and how to fix them");
  cmd->add_option("--model", opts->model, "Also check a GGUF model: loads, fast kernels, fits in RAM / GPU memory");
  cmd->add_flag("--json", opts->json, "Print one JSON object with stable keys");
  AddGpuLayersOption(cmd, &opts->gpu_layers)->description(
      "With --model: the --gpu-layers to explain (default: env JARVIS_GPU_LAYERS, else all when a GPU is usable)");
  cmd->callback([opts] {
    std::vector<DoctorCheck> checks = RunMachineChecks();
    if (!opts->model.empty()) {
      for (DoctorCheck& c : RunModelChecks(opts->model, GpuRequest(opts->gpu_layers))) checks.push_back(std::move(c));
    }
    int counts[3] = {0, 0, 0};  // by CheckStatus
    std::string failed;
    for (const DoctorCheck& c : checks) {
      ++counts[static_cast<int>(c.status)];
      if (c.status == CheckStatus::kFail) failed += (failed.empty() ? "" : ", ") + c.name;
    }
    const CheckStatus worst = counts[2] > 0 ? CheckStatus::kFail
                              : counts[1] > 0 ? CheckStatus::kWarn
                                              : CheckStatus::kOk;
    if (opts->json) {
      json list = json::array();
      for (const DoctorCheck& c : checks) {
        list.push_back({{"name", c.name},
                        {"status", CheckStatusName(c.status)},
                        {"detail", c.detail},
                        {"advice", c.advice.empty() ? json(nullptr) : json(c.advice)}});
      }
      const json report = {
          {"checks", std::move(list)},
          {"summary", {{"ok", counts[0]}, {"warn", counts[1]}, {"fail", counts[2]}, {"status", CheckStatusName(worst)}}}};
      // Paths and GPU names are bytes from the system: invalid UTF-8 is replaced.
      std::cout << report.dump(2, ' ', false, json::error_handler_t::replace) << std::endl;
    } else {
      PrintHuman(checks, std::cout);
      std::cout << "\n" << counts[0] << " ok, " << counts[1] << " warn, " << counts[2] << " fail: "
                << (counts[2] > 0 ? "not ready" : counts[1] > 0 ? "ready, with warnings" : "ready to serve")
                << std::endl;
    }
    if (counts[2] > 0) Fail("doctor: failed check(s): " + failed, kExitRuntimeError);
  });
}

}  // namespace jarvis::cli
