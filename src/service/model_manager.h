// ModelManager: which models are resident, loading them on first use and
// unloading them when idle, expired or crowded out.
//
// - Lazy load: Acquire(name) loads the model (through the injected loader:
//   Model::Load + Scheduler::Create in production, fakes in tests) on the
//   calling thread. Concurrent first requests for one model share a single
//   load: the others wait for it and get its result (or its error).
// - A ModelLease marks the model busy (one per running or queued request).
//   Busy and pinned models are never unloaded.
// - Limits: at most max_loaded_models resident (<= 0: no limit) and at most
//   memory_budget_bytes of model files (0: no limit). A load that would pass
//   a limit first unloads the least recently used idle, unpinned models.
//   When every other resident model is busy or pinned the load goes ahead
//   anyway (availability over the limit; logged and counted in
//   over_limit_loads): the excess is unloaded as soon as a model turns idle.
//   So limits are exact whenever models are idle, soft while all are busy.
// - keep_alive per model (default from the options; 0: unload as soon as it
//   is idle; negative: never expire): expiry counts from the last use (a
//   lease acquired or released). A reaper thread (every reaper_interval, and
//   at once when a lease is released to an idle model that must go) unloads
//   expired, excess and unload-requested idle models.
// - Unload(name): at once if idle, else when it next becomes idle (requests
//   that arrive meanwhile still use it). A later Acquire loads it again.
// - File changes: the file's identity (inode, size, mtime; model_catalog.h)
//   is recorded before each load and compared on every Acquire. A loaded
//   model whose file changed (rewritten, truncated, replaced, deleted) is
//   never handed out again: Acquire waits until its running requests end,
//   unloads it and loads the file as it is now (or returns that load's
//   error, e.g. NotFound for a deleted file). Reads of a file truncated
//   while a request runs are caught by the mapping guard (util/mapping_guard.h).
// - Unloading never runs on a thread that releases a lease (that is the
//   scheduler's thread, which must not destroy its own scheduler): only on
//   the reaper thread and on threads calling Acquire/Load/Unload/Shutdown.
//
// Thread safety: every method may be called from any thread. Leases must not
// outlive the manager.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "jarvis/status.h"
#include "model/model.h"
#include "scheduler/scheduler.h"
#include "service/model_catalog.h"
#include "util/perf_monitor.h"  // SteadyClockFn

namespace jarvis {

// What the loader makes. Either pointer may be null in tests; `payload` lets
// a fake observe its own destruction. Destroyed scheduler first, then model.
struct LoadedModel {
  std::shared_ptr<void> payload;
  std::unique_ptr<Model> model;
  std::unique_ptr<Scheduler> scheduler;
  SchedulerStats Stats() const { return scheduler ? scheduler->Stats() : SchedulerStats{}; }
};
using ModelLoader = std::function<Result<std::unique_ptr<LoadedModel>>(const ModelSource&)>;

struct ModelManagerOptions {
  int32_t max_loaded_models = 2;
  size_t memory_budget_bytes = 0;
  std::chrono::milliseconds keep_alive{std::chrono::minutes(5)};
  std::chrono::milliseconds reaper_interval{1000};
  bool start_reaper = true;  // false: only ReapNow() reaps (tests)
  SteadyClockFn clock;       // empty: steady_clock::now
  // Observers, called without the manager's lock held (optional).
  std::function<void(const ModelSource&, double load_ms, const Status&)> on_load;
  std::function<void(const ModelSource&, std::string_view reason)> on_unload;
};

struct ModelStatus {
  ModelSource source;
  bool loaded = false;
  bool loading = false;
  bool pinned = false;
  bool unload_requested = false;
  std::string error;            // the last load's error (or the scan's), empty after a successful load
  int32_t active_requests = 0;  // leases held
  std::chrono::milliseconds keep_alive{0};
  double load_ms = 0.0;         // last successful load
  int64_t load_count = 0;
  int64_t unload_count = 0;
  std::optional<std::chrono::steady_clock::time_point> loaded_at;
  std::optional<std::chrono::steady_clock::time_point> last_used;
  std::optional<std::chrono::steady_clock::time_point> expires_at;  // loaded, idle, unpinned, keep_alive >= 0
  SchedulerStats scheduler;     // when loaded
};

class ModelManager;

// Keeps one model busy (not evictable) while alive; movable.
class ModelLease {
 public:
  ModelLease() = default;
  ~ModelLease() { Release(); }
  ModelLease(ModelLease&& other) noexcept { *this = std::move(other); }
  ModelLease& operator=(ModelLease&& other) noexcept;
  ModelLease(const ModelLease&) = delete;
  ModelLease& operator=(const ModelLease&) = delete;

  explicit operator bool() const { return instance_ != nullptr; }
  LoadedModel& instance() const { return *instance_; }
  const ModelSource& source() const;
  // Ends the lease (idempotent). Never unloads on this thread.
  void Release();

 private:
  friend class ModelManager;
  ModelManager* manager_ = nullptr;
  size_t slot_ = 0;
  LoadedModel* instance_ = nullptr;
};

class ModelManager {
 public:
  // `sources` must be non-empty with unique names (ScanModelPaths gives that).
  ModelManager(std::vector<ModelSource> sources, ModelManagerOptions options, ModelLoader loader);
  ~ModelManager();  // Shutdown(0)
  ModelManager(const ModelManager&) = delete;
  ModelManager& operator=(const ModelManager&) = delete;

  const std::vector<ModelSource>& sources() const { return sources_; }
  // "" resolves to the first source. NotFound for an unknown name.
  Result<size_t> Resolve(std::string_view name) const;

  // A lease on the loaded model (loading it first if needed). NotFound,
  // the loader's error, or Cancelled after Shutdown.
  Result<ModelLease> Acquire(std::string_view name);
  // Loads (if needed); sets keep_alive when given; pins when `pin` (false
  // leaves the pin as it is; Unload unpins).
  Status Load(std::string_view name, std::optional<std::chrono::milliseconds> keep_alive = std::nullopt,
              bool pin = false);
  Status Unload(std::string_view name);

  // Loaded (and loading) models first, most recently used first; then the
  // others in catalog order. (Non-const: it holds each loaded model busy for
  // the moment its scheduler stats are read.)
  std::vector<ModelStatus> List();
  int32_t loaded_count() const;
  int64_t over_limit_loads() const;

  // One reaper pass now (tests; the reaper thread calls it).
  void ReapNow();
  // Stops the reaper, refuses new leases, shuts every scheduler down with
  // the shared `grace` (running requests finish or are cancelled), unloads all.
  void Shutdown(std::chrono::milliseconds grace);

 private:
  friend class ModelLease;
  using TimePoint = std::chrono::steady_clock::time_point;
  enum class State { kUnloaded, kLoading, kLoaded };
  struct Slot {
    State state = State::kUnloaded;
    std::unique_ptr<LoadedModel> instance;
    int32_t active = 0;
    bool pinned = false;
    bool unload_requested = false;
    std::chrono::milliseconds keep_alive{0};
    TimePoint loaded_at{};
    TimePoint last_used{};
    uint64_t use_seq = 0;         // LRU order (larger = more recent)
    uint64_t load_generation = 0;
    uint64_t failed_generation = 0;
    Status last_error;
    std::optional<FileIdentity> identity;  // of the file when it was last loaded (none: stat failed)
    double load_ms = 0.0;
    int64_t load_count = 0;
    int64_t unload_count = 0;
  };
  struct Victim {
    size_t slot;
    std::unique_ptr<LoadedModel> instance;
    const char* reason;
  };

  TimePoint Now() const;
  void TouchLocked(Slot& s);
  void ReleaseLease(size_t slot);
  bool OverLimitLocked(size_t extra_bytes, int32_t extra_models) const;
  // Whether the file of loaded slot `slot` is no longer the one loaded.
  bool FileChangedLocked(size_t slot) const;
  // Picks LRU idle unpinned loaded models (other than `keep`) until the
  // limits hold with `extra` added; moves them out of their slots.
  void EvictForLocked(size_t keep, size_t extra_bytes, int32_t extra_models, std::vector<Victim>* out);
  Victim TakeLocked(size_t slot, const char* reason);
  void Destroy(std::vector<Victim> victims);
  void ReaperLoop();

  const std::vector<ModelSource> sources_;
  const ModelManagerOptions options_;
  const ModelLoader loader_;

  mutable std::mutex mu_;
  std::condition_variable cv_;         // load finished / lease released
  std::condition_variable reaper_cv_;
  std::vector<Slot> slots_;            // guarded by mu_; one per source
  uint64_t seq_ = 0;                   // guarded by mu_
  int64_t over_limit_loads_ = 0;       // guarded by mu_
  bool reap_wanted_ = false;           // guarded by mu_
  bool shutting_down_ = false;         // guarded by mu_
  std::thread reaper_;
};

}  // namespace jarvis
