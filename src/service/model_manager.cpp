#include "service/model_manager.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <limits>

#include <fmt/format.h>

namespace jarvis {

// ---- ModelLease -----------------------------------------------------------

ModelLease& ModelLease::operator=(ModelLease&& other) noexcept {
  if (this != &other) {
    Release();
    manager_ = std::exchange(other.manager_, nullptr);
    slot_ = other.slot_;
    instance_ = std::exchange(other.instance_, nullptr);
  }
  return *this;
}

const ModelSource& ModelLease::source() const { return manager_->sources_[slot_]; }

void ModelLease::Release() {
  if (manager_ == nullptr) return;
  ModelManager* m = std::exchange(manager_, nullptr);
  instance_ = nullptr;
  m->ReleaseLease(slot_);
}

// ---- ModelManager -----------------------------------------------------------

ModelManager::ModelManager(std::vector<ModelSource> sources, ModelManagerOptions options, ModelLoader loader)
    : sources_(std::move(sources)), options_(std::move(options)), loader_(std::move(loader)), slots_(sources_.size()) {
  for (Slot& s : slots_) s.keep_alive = options_.keep_alive;
  if (options_.start_reaper) reaper_ = std::thread([this] { ReaperLoop(); });
}

ModelManager::~ModelManager() { Shutdown(std::chrono::milliseconds(0)); }

ModelManager::TimePoint ModelManager::Now() const {
  return options_.clock ? options_.clock() : std::chrono::steady_clock::now();
}

void ModelManager::TouchLocked(Slot& s) {
  s.last_used = Now();
  s.use_seq = ++seq_;
}

Result<size_t> ModelManager::Resolve(std::string_view name) const {
  if (name.empty()) return size_t{0};
  for (size_t i = 0; i < sources_.size(); ++i) {
    if (sources_[i].name == name) return i;
  }
  return Status::NotFound(fmt::format("model '{}' not found", name));
}

bool ModelManager::OverLimitLocked(size_t extra_bytes, int32_t extra_models) const {
  int32_t count = extra_models;
  size_t bytes = extra_bytes;
  for (size_t i = 0; i < slots_.size(); ++i) {
    if (slots_[i].state == State::kUnloaded) continue;
    ++count;
    bytes += sources_[i].size_bytes;
  }
  return (options_.max_loaded_models > 0 && count > options_.max_loaded_models) ||
         (options_.memory_budget_bytes > 0 && bytes > options_.memory_budget_bytes);
}

bool ModelManager::FileChangedLocked(size_t slot) const {
  const Slot& s = slots_[slot];
  if (!s.identity) return false;  // could not stat it at load (fakes in tests): nothing to compare
  auto now = StatFileIdentity(sources_[slot].path);
  return !now.ok() || !(*now == *s.identity);
}

ModelManager::Victim ModelManager::TakeLocked(size_t slot, const char* reason) {
  Slot& s = slots_[slot];
  s.state = State::kUnloaded;
  s.unload_requested = false;
  ++s.unload_count;
  return Victim{slot, std::move(s.instance), reason};
}

void ModelManager::EvictForLocked(size_t keep, size_t extra_bytes, int32_t extra_models, std::vector<Victim>* out) {
  while (OverLimitLocked(extra_bytes, extra_models)) {
    size_t best = slots_.size();
    for (size_t i = 0; i < slots_.size(); ++i) {
      const Slot& s = slots_[i];
      if (i == keep || s.state != State::kLoaded || s.active > 0 || s.pinned) continue;
      if (best == slots_.size() || s.use_seq < slots_[best].use_seq) best = i;
    }
    if (best == slots_.size()) return;  // everything else is busy or pinned
    out->push_back(TakeLocked(best, "least recently used"));
  }
}

void ModelManager::Destroy(std::vector<Victim> victims) {
  for (Victim& v : victims) {
    v.instance.reset();  // scheduler (joins its loop), then the model
    spdlog::info("unloaded model {} ({})", sources_[v.slot].name, v.reason);
    if (options_.on_unload) options_.on_unload(sources_[v.slot], v.reason);
  }
}

Result<ModelLease> ModelManager::Acquire(std::string_view name) {
  JARVIS_ASSIGN_OR_RETURN(const size_t idx, Resolve(name));
  const ModelSource& src = sources_[idx];
  std::vector<Victim> victims;
  uint64_t generation = 0;
  {
    std::unique_lock<std::mutex> lock(mu_);
    Slot& s = slots_[idx];
    for (;;) {
      if (shutting_down_) return Status::Cancelled("the service is shutting down");
      if (s.state == State::kLoaded && FileChangedLocked(idx)) {
        if (s.active == 0) {
          spdlog::warn("model file {} changed on disk: reloading it", src.path);
          victims.push_back(TakeLocked(idx, "file changed on disk"));
          break;
        }
        // Requests still run on the old file: wait for them, never serve it again.
        s.unload_requested = true;
        cv_.wait(lock, [&] { return s.active == 0 || s.state != State::kLoaded || shutting_down_; });
        continue;
      }
      if (s.state == State::kLoaded) {
        ++s.active;
        TouchLocked(s);
        ModelLease lease;
        lease.manager_ = this;
        lease.slot_ = idx;
        lease.instance_ = s.instance.get();
        return lease;
      }
      if (s.state == State::kUnloaded) break;
      const uint64_t waited_for = s.load_generation;  // someone else is loading it: share that load
      cv_.wait(lock, [&] { return s.state != State::kLoading || shutting_down_; });
      if (s.state == State::kUnloaded && s.failed_generation == waited_for) return s.last_error;
    }
    s.state = State::kLoading;
    generation = ++s.load_generation;
    // Before loading: a change during the load then shows as a difference.
    auto identity = StatFileIdentity(src.path);
    s.identity = identity.ok() ? std::optional<FileIdentity>(*identity) : std::nullopt;
    EvictForLocked(idx, 0, 0, &victims);
    if (OverLimitLocked(0, 0)) {
      ++over_limit_loads_;
      spdlog::warn("loading model {} over the limits (max_loaded_models {}, memory budget {} bytes): "
                   "every other resident model is busy or pinned",
                   src.name, options_.max_loaded_models, options_.memory_budget_bytes);
    }
  }
  Destroy(std::move(victims));

  const auto t0 = std::chrono::steady_clock::now();
  Result<std::unique_ptr<LoadedModel>> loaded = loader_(src);
  const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  Status status = loaded.ok() ? Status() : loaded.status();
  std::unique_ptr<LoadedModel> discard;
  ModelLease lease;
  {
    std::lock_guard<std::mutex> lock(mu_);
    Slot& s = slots_[idx];
    if (status.ok() && shutting_down_) {
      discard = std::move(loaded).value();
      status = Status::Cancelled("the service is shutting down");
    }
    if (!status.ok()) {
      s.state = State::kUnloaded;
      s.failed_generation = generation;
      s.last_error = status;
    } else {
      s.instance = std::move(loaded).value();
      s.state = State::kLoaded;
      s.last_error = Status::Ok();
      s.load_ms = ms;
      ++s.load_count;
      s.loaded_at = Now();
      ++s.active;
      TouchLocked(s);
      lease.manager_ = this;
      lease.slot_ = idx;
      lease.instance_ = s.instance.get();
    }
  }
  cv_.notify_all();
  discard.reset();
  if (status.ok()) spdlog::info("loaded model {} in {:.1f} ms", src.name, ms);
  if (options_.on_load) options_.on_load(src, ms, status);
  if (!status.ok()) return status;
  return lease;
}

void ModelManager::ReleaseLease(size_t slot) {
  std::lock_guard<std::mutex> lock(mu_);
  Slot& s = slots_[slot];
  --s.active;
  TouchLocked(s);
  if (s.active == 0) cv_.notify_all();  // an Acquire may wait for the model to turn idle
  if (s.active == 0 && (s.keep_alive.count() == 0 || s.unload_requested || OverLimitLocked(0, 0))) {
    reap_wanted_ = true;
    reaper_cv_.notify_one();
  }
}

Status ModelManager::Load(std::string_view name, std::optional<std::chrono::milliseconds> keep_alive, bool pin) {
  JARVIS_ASSIGN_OR_RETURN(ModelLease lease, Acquire(name));
  {
    std::lock_guard<std::mutex> lock(mu_);
    Slot& s = slots_[lease.slot_];
    if (keep_alive) s.keep_alive = *keep_alive;
    if (pin) s.pinned = true;
  }
  lease.Release();
  return Status::Ok();
}

Status ModelManager::Unload(std::string_view name) {
  JARVIS_ASSIGN_OR_RETURN(const size_t idx, Resolve(name));
  std::vector<Victim> victims;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (shutting_down_) return Status::Cancelled("the service is shutting down");
    Slot& s = slots_[idx];
    s.pinned = false;
    if (s.state == State::kLoaded && s.active == 0) {
      victims.push_back(TakeLocked(idx, "unload requested"));
    } else if (s.state != State::kUnloaded) {
      s.unload_requested = true;  // the reaper unloads it once idle
    }
  }
  Destroy(std::move(victims));
  return Status::Ok();
}

void ModelManager::ReapNow() {
  std::vector<Victim> victims;
  {
    std::lock_guard<std::mutex> lock(mu_);
    reap_wanted_ = false;
    if (shutting_down_) return;
    const TimePoint now = Now();
    for (size_t i = 0; i < slots_.size(); ++i) {
      Slot& s = slots_[i];
      if (s.state != State::kLoaded || s.active > 0) continue;
      if (s.unload_requested) {
        victims.push_back(TakeLocked(i, "unload requested"));
      } else if (!s.pinned && s.keep_alive.count() >= 0 && now >= s.last_used + s.keep_alive) {
        victims.push_back(TakeLocked(i, "keep_alive expired"));
      }
    }
    EvictForLocked(slots_.size(), 0, 0, &victims);
  }
  Destroy(std::move(victims));
}

void ModelManager::ReaperLoop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!shutting_down_) {
    reaper_cv_.wait_for(lock, options_.reaper_interval, [this] { return shutting_down_ || reap_wanted_; });
    if (shutting_down_) break;
    lock.unlock();
    ReapNow();
    lock.lock();
  }
}

void ModelManager::Shutdown(std::chrono::milliseconds grace) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    shutting_down_ = true;
  }
  reaper_cv_.notify_all();
  cv_.notify_all();
  if (reaper_.joinable()) reaper_.join();
  // Instances cannot disappear now: the reaper has stopped and Unload refuses.
  std::vector<Scheduler*> schedulers;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (Slot& s : slots_) {
      if (s.state == State::kLoaded && s.instance->scheduler) schedulers.push_back(s.instance->scheduler.get());
    }
  }
  const auto deadline = std::chrono::steady_clock::now() + grace;
  for (Scheduler* sch : schedulers) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    sch->Shutdown(std::max(left, std::chrono::milliseconds(0)));
  }
  std::vector<Victim> victims;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (size_t i = 0; i < slots_.size(); ++i) {
      if (slots_[i].state == State::kLoaded) victims.push_back(TakeLocked(i, "shutdown"));
    }
  }
  Destroy(std::move(victims));
}

std::vector<ModelStatus> ModelManager::List() {
  std::vector<ModelStatus> out;
  struct StatsRead {
    size_t pos;
    size_t slot;
    LoadedModel* instance;
  };
  std::vector<StatsRead> reads;
  {
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<size_t> order(slots_.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
      const bool ra = slots_[a].state != State::kUnloaded, rb = slots_[b].state != State::kUnloaded;
      if (ra != rb) return ra;
      return ra && slots_[a].use_seq > slots_[b].use_seq;
    });
    for (size_t i : order) {
      Slot& s = slots_[i];
      ModelStatus st;
      st.source = sources_[i];
      st.loaded = s.state == State::kLoaded;
      st.loading = s.state == State::kLoading;
      st.pinned = s.pinned;
      st.unload_requested = s.unload_requested;
      st.error = !s.last_error.ok() ? s.last_error.ToString() : s.load_count == 0 ? sources_[i].error : "";
      st.active_requests = s.active;
      st.keep_alive = s.keep_alive;
      st.load_ms = s.load_ms;
      st.load_count = s.load_count;
      st.unload_count = s.unload_count;
      if (s.use_seq > 0) st.last_used = s.last_used;
      if (st.loaded) {
        st.loaded_at = s.loaded_at;
        if (s.active == 0 && !s.pinned && s.keep_alive.count() >= 0) st.expires_at = s.last_used + s.keep_alive;
        // Keep the instance alive while its stats are read without our lock
        // (the scheduler's own lock must never be taken under ours).
        ++s.active;
        reads.push_back({out.size(), i, s.instance.get()});
      }
      out.push_back(std::move(st));
    }
  }
  for (const StatsRead& r : reads) out[r.pos].scheduler = r.instance->Stats();
  if (!reads.empty()) {
    std::lock_guard<std::mutex> lock(mu_);
    for (const StatsRead& r : reads) {
      Slot& s = slots_[r.slot];  // no TouchLocked: reading stats is not a use
      if (s.active == 1) cv_.notify_all();
      if (--s.active == 0 && (s.keep_alive.count() == 0 || s.unload_requested || OverLimitLocked(0, 0))) {
        reap_wanted_ = true;
        reaper_cv_.notify_one();
      }
    }
  }
  return out;
}

int32_t ModelManager::loaded_count() const {
  std::lock_guard<std::mutex> lock(mu_);
  int32_t n = 0;
  for (const Slot& s : slots_) n += s.state == State::kLoaded;
  return n;
}

int64_t ModelManager::over_limit_loads() const {
  std::lock_guard<std::mutex> lock(mu_);
  return over_limit_loads_;
}

}  // namespace jarvis
