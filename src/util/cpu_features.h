// What the CPU can do, read once from CPUID (and the OS's XSAVE state, so an
// AVX-512 CPU under an OS that does not save ZMM registers reports no AVX-512).
#pragma once

#include <string>

namespace jarvis {

struct CpuFeatures {
  bool avx2 = false;
  bool fma = false;
  bool f16c = false;
  bool avx512f = false;
  bool avx512bw = false;
  bool avx512vl = false;
  bool avx512vnni = false;
  bool avx512bf16 = false;
  bool avx_vnni = false;
  bool amx_int8 = false;
  bool amx_bf16 = false;

  // "avx2 fma f16c avx512f ..." (space separated, only those present).
  std::string ToString() const;
};

// Detected once, then cached. Thread-safe.
const CpuFeatures& GetCpuFeatures();

}  // namespace jarvis
