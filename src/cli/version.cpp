#include "cli/version.h"

#include "gpu/gpu_backend.h"
#include "jarvis/build_info.h"
#include "kernels/cpu/isa.h"
#include "util/cpu_features.h"

namespace jarvis::cli {

std::string VersionText() {
  std::string s = "jarvis " JARVIS_VERSION_STRING " (commit " JARVIS_GIT_COMMIT ")\n";
#if defined(__clang__)
  s += "compiler: clang " __clang_version__ "\n";
#elif defined(__GNUC__)
  s += "compiler: g++ " __VERSION__ "\n";
#endif
  s += "cpu features: " + GetCpuFeatures().ToString() + "\n";
  s += std::string("backends: cpu (kernels: ") + KernelIsaName(ActiveKernelIsa()) + "), " + DescribeGpuBackend();
  return s;
}

}  // namespace jarvis::cli
