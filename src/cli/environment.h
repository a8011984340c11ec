// The JARVIS_* environment variables that tune the engine, read here, in the
// CLI, and nowhere in the library (which takes the same settings as options):
//   JARVIS_KERNELS=scalar|avx2|avx512|amx  -> SetKernelIsa (process-wide)
//   JARVIS_REPACK=0                        -> ModelLoadOptions / RuntimeOptions::repack = false
//   JARVIS_PACKED_CACHE=DIR|off            -> ModelLoadOptions::packed_cache of the commands
//   JARVIS_PACKED_CACHE_SIZE=BYTES            that load a model (serve: its --packed-cache flags)
//   JARVIS_GPU_LAYERS=N                    -> --gpu-layers' value when the flag is not given
// (The serve flags' own variables, JARVIS_PORT etc., are CLI11 envnames.)
#pragma once

#include <cstdint>

#include "model/packed_cache.h"

namespace jarvis::cli {

// Applies JARVIS_KERNELS (an ISA this CPU lacks, or an unknown name, is
// refused with a warning and the best ISA kept). Called once by main().
void ApplyKernelsEnv();

// False when JARVIS_REPACK=0.
bool RepackFromEnv();

// The packed cache JARVIS_PACKED_CACHE and JARVIS_PACKED_CACHE_SIZE ask for
// (unset: RuntimeOptions' defaults; a malformed size is logged and the
// default kept).
PackedCacheSettings PackedCacheFromEnv();

// JARVIS_GPU_LAYERS as found in the environment; its one parser (the
// commands and `jarvis doctor` read it here).
struct GpuLayersEnv {
  bool set = false;    // present and non-empty
  bool valid = false;  // an integer in [-1, 1000000]
  int32_t value = 0;   // when valid
  // The request it makes: unset kGpuLayersAuto, malformed 0 (CPU only: a
  // typo should not grab a GPU).
  int32_t request() const;
  // Whether the user asked for the GPU through it (anything set but "0").
  bool asks_for_gpu() const { return set && !(valid && value == 0); }
};
GpuLayersEnv ReadGpuLayersEnv();

// The gpu_layers to use: `flag` when --gpu-layers was given (anything but
// kGpuLayersAuto), else the environment's request. A malformed variable is
// logged (a warning) and means 0.
int32_t ResolveGpuLayersFlag(int32_t flag);

}  // namespace jarvis::cli
