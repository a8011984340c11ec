// Which instruction set the CPU kernels run on. The fast kernels are compiled
// once per ISA, each in its own translation units with its own compiler flags
// (kernels/cpu/*_avx2*.cpp, *_avx512*.cpp); one is picked at run time:
//   - the best one the CPU supports (GetCpuFeatures()), unless
//   - SetKernelIsa() picks another (the CLI does for JARVIS_KERNELS=
//     scalar|avx2|avx512|amx, through ResolveKernelIsa; the library itself
//     reads no environment variable).
// kScalar is the reference path (plain C++, F32 arithmetic); the others
// quantize activations to 8 bits for the quantized weight types, so their
// results differ from it by the int8 rounding (see matmul.h).
//
// Nothing above kernels/ includes an intrinsics header; callers only see this
// enum.
//
// Thread safety: ActiveKernelIsa() may be called from any thread. Changing the
// ISA (SetKernelIsa, ScopedKernelIsa) is for tests and tools and must not race
// with running kernels.
#pragma once

#include <optional>
#include <string_view>

#include "jarvis/status.h"

namespace jarvis {

enum class KernelIsa {
  kScalar = 0,  // reference C++ (any x86-64)
  kAvx2 = 1,    // AVX2 + FMA + F16C
  kAvx512 = 2,  // AVX-512 F/BW/VL + VNNI
  kAmx = 3,     // kAvx512, plus AMX-INT8 tiles for batches of >= 16 tokens.
                // Bit-identical to kAvx512 (same per-output float operations).
};

// "scalar", "avx2", "avx512", "amx".
const char* KernelIsaName(KernelIsa isa);
std::optional<KernelIsa> KernelIsaFromName(std::string_view name);

// Whether this CPU (and OS) can run kernels of `isa`. For kAmx this asks Linux
// once for permission to use the AMX tile state (arch_prctl).
bool CpuSupportsIsa(KernelIsa isa);
// The best ISA this CPU supports.
KernelIsa BestKernelIsa();

// The ISA the kernels use now: BestKernelIsa() until SetKernelIsa() changes it.
KernelIsa ActiveKernelIsa();

// The choice for a requested ISA name, e.g. JARVIS_KERNELS (nullptr or "" = unset): the named ISA
// when the CPU supports it, else (logging a warning) BestKernelIsa().
KernelIsa ResolveKernelIsa(const char* requested);

// Switches the kernels to `isa`. Unsupported (nothing changes) when the CPU
// lacks it. For tests and benchmarks; not thread-safe with running kernels.
Status SetKernelIsa(KernelIsa isa);

// Pins an ISA for a scope (a test), restoring the previous one on exit.
// ok() is false (and nothing changed) when the CPU lacks the ISA.
class ScopedKernelIsa {
 public:
  explicit ScopedKernelIsa(KernelIsa isa);
  ~ScopedKernelIsa();
  ScopedKernelIsa(const ScopedKernelIsa&) = delete;
  ScopedKernelIsa& operator=(const ScopedKernelIsa&) = delete;
  bool ok() const { return ok_; }

 private:
  KernelIsa previous_;
  bool ok_;
};

}  // namespace jarvis
