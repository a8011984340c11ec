#include "util/mapping_guard.h"

#include <signal.h>
#include <sys/mman.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <mutex>

namespace jarvis {
namespace {

// A slot is claimed by a CAS on `begin`, then published by storing `end`;
// released by clearing `end` first, so the handler never sees a half slot.
struct GuardSlot {
  std::atomic<uintptr_t> begin{0};
  std::atomic<uintptr_t> end{0};
  std::atomic<bool> damaged{false};
};
constexpr int kGuardSlots = 256;
GuardSlot g_slots[kGuardSlots];
struct sigaction g_previous {};

void ChainToPrevious(int sig, siginfo_t* info, void* ucontext) {
  if ((g_previous.sa_flags & SA_SIGINFO) != 0 && g_previous.sa_sigaction != nullptr) {
    g_previous.sa_sigaction(sig, info, ucontext);
    return;
  }
  if (g_previous.sa_handler != SIG_DFL && g_previous.sa_handler != SIG_IGN && g_previous.sa_handler != nullptr) {
    g_previous.sa_handler(sig);
    return;
  }
  // Default action: restore it; returning re-runs the faulting read, which
  // then ends the process exactly as it would have without the guard.
  signal(sig, SIG_DFL);
}

void OnSigbus(int sig, siginfo_t* info, void* ucontext) {
  const auto addr = reinterpret_cast<uintptr_t>(info->si_addr);
  for (GuardSlot& slot : g_slots) {
    const uintptr_t end = slot.end.load(std::memory_order_acquire);
    const uintptr_t begin = slot.begin.load(std::memory_order_acquire);
    if (end == 0 || addr < begin || addr >= end) continue;
    const int saved_errno = errno;
    const auto page = static_cast<uintptr_t>(sysconf(_SC_PAGESIZE));
    const uintptr_t from = addr & ~(page - 1);
    // mmap is a bare system call in glibc (no locks): usable here.
    void* p = mmap(reinterpret_cast<void*>(from), end - from, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1,
                   0);
    errno = saved_errno;
    if (p == MAP_FAILED) break;  // cannot repair: crash as before
    slot.damaged.store(true, std::memory_order_release);
    return;
  }
  ChainToPrevious(sig, info, ucontext);
}

void InstallOnce() {
  static std::once_flag once;
  std::call_once(once, [] {
    struct sigaction sa {};
    sa.sa_sigaction = OnSigbus;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_SIGINFO | SA_NODEFER;
    sigaction(SIGBUS, &sa, &g_previous);
  });
}

}  // namespace

bool GuardMapping(const void* data, size_t size) {
  if (data == nullptr || size == 0) return false;
  InstallOnce();
  const auto begin = reinterpret_cast<uintptr_t>(data);
  for (GuardSlot& slot : g_slots) {
    uintptr_t expected = 0;
    if (slot.begin.compare_exchange_strong(expected, begin, std::memory_order_acq_rel)) {
      slot.damaged.store(false, std::memory_order_relaxed);
      slot.end.store(begin + size, std::memory_order_release);
      return true;
    }
  }
  return false;
}

void UnguardMapping(const void* data) {
  const auto begin = reinterpret_cast<uintptr_t>(data);
  if (begin == 0) return;
  for (GuardSlot& slot : g_slots) {
    if (slot.begin.load(std::memory_order_acquire) == begin && slot.end.load(std::memory_order_acquire) != 0) {
      slot.end.store(0, std::memory_order_release);
      slot.begin.store(0, std::memory_order_release);
      return;
    }
  }
}

bool MappingDamagedAt(const void* address) {
  const auto addr = reinterpret_cast<uintptr_t>(address);
  for (const GuardSlot& slot : g_slots) {
    const uintptr_t end = slot.end.load(std::memory_order_acquire);
    if (end != 0 && addr >= slot.begin.load(std::memory_order_acquire) && addr < end) {
      return slot.damaged.load(std::memory_order_acquire);
    }
  }
  return false;
}

}  // namespace jarvis
