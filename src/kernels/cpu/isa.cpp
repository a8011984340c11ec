#include "kernels/cpu/isa.h"

#include <spdlog/spdlog.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <string>

#include "util/cpu_features.h"

namespace jarvis {
namespace {

// Linux hands out the 8 KiB AMX tile state only to processes that ask
// (ARCH_REQ_XCOMP_PERM for XFEATURE_XTILEDATA); without it tile instructions
// fault. Asked once.
bool AmxPermitted() {
  static const bool permitted = [] {
#if defined(__linux__) && defined(SYS_arch_prctl)
    constexpr long kArchReqXcompPerm = 0x1023;
    constexpr long kXfeatureXtiledata = 18;
    return syscall(SYS_arch_prctl, kArchReqXcompPerm, kXfeatureXtiledata) == 0;
#else
    return false;
#endif
  }();
  return permitted;
}

std::atomic<int>& IsaSlot() {
  static std::atomic<int> slot{static_cast<int>(BestKernelIsa())};
  return slot;
}

}  // namespace

const char* KernelIsaName(KernelIsa isa) {
  switch (isa) {
    case KernelIsa::kScalar:
      return "scalar";
    case KernelIsa::kAvx2:
      return "avx2";
    case KernelIsa::kAvx512:
      return "avx512";
    case KernelIsa::kAmx:
      return "amx";
  }
  return "unknown";
}

std::optional<KernelIsa> KernelIsaFromName(std::string_view name) {
  for (KernelIsa isa : {KernelIsa::kScalar, KernelIsa::kAvx2, KernelIsa::kAvx512, KernelIsa::kAmx}) {
    if (name == KernelIsaName(isa)) return isa;
  }
  return std::nullopt;
}

bool CpuSupportsIsa(KernelIsa isa) {
  const CpuFeatures& f = GetCpuFeatures();
  switch (isa) {
    case KernelIsa::kScalar:
      return true;
    case KernelIsa::kAvx2:
      return f.avx2 && f.fma && f.f16c;
    case KernelIsa::kAvx512:
      return f.avx2 && f.fma && f.f16c && f.avx512f && f.avx512bw && f.avx512vl && f.avx512vnni;
    case KernelIsa::kAmx:
      return CpuSupportsIsa(KernelIsa::kAvx512) && f.amx_int8 && AmxPermitted();
  }
  return false;
}

KernelIsa BestKernelIsa() {
  if (CpuSupportsIsa(KernelIsa::kAmx)) return KernelIsa::kAmx;
  if (CpuSupportsIsa(KernelIsa::kAvx512)) return KernelIsa::kAvx512;
  if (CpuSupportsIsa(KernelIsa::kAvx2)) return KernelIsa::kAvx2;
  return KernelIsa::kScalar;
}

KernelIsa ResolveKernelIsa(const char* requested) {
  const KernelIsa best = BestKernelIsa();
  if (requested == nullptr || *requested == '\0') return best;
  const auto named = KernelIsaFromName(requested);
  if (!named) {
    spdlog::warn("JARVIS_KERNELS={} is not one of scalar, avx2, avx512, amx; using {}", requested,
                 KernelIsaName(best));
    return best;
  }
  if (!CpuSupportsIsa(*named)) {
    spdlog::warn("JARVIS_KERNELS={}: this CPU lacks it ({}); using {}", requested, GetCpuFeatures().ToString(),
                 KernelIsaName(best));
    return best;
  }
  return *named;
}

KernelIsa ActiveKernelIsa() { return static_cast<KernelIsa>(IsaSlot().load(std::memory_order_relaxed)); }

Status SetKernelIsa(KernelIsa isa) {
  if (!CpuSupportsIsa(isa)) {
    return Status::Unsupported(std::string("this CPU cannot run the ") + KernelIsaName(isa) + " kernels");
  }
  IsaSlot().store(static_cast<int>(isa), std::memory_order_relaxed);
  return Status::Ok();
}

ScopedKernelIsa::ScopedKernelIsa(KernelIsa isa) : previous_(ActiveKernelIsa()), ok_(SetKernelIsa(isa).ok()) {}

ScopedKernelIsa::~ScopedKernelIsa() {
  if (ok_) IsaSlot().store(static_cast<int>(previous_), std::memory_order_relaxed);
}

}  // namespace jarvis
