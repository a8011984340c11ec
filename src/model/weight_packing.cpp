#include "model/weight_packing.h"

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "kernels/cpu/isa.h"
#include "kernels/cpu/weight_pack.h"

namespace jarvis {
namespace {

std::vector<WeightMatrix*> PackableMatrices(ModelWeights* w, int32_t cpu_layers) {
  std::vector<WeightMatrix*> out;
  auto add = [&](WeightMatrix& m) {
    if (m.data != nullptr && CanPackWeights(m.type) && m.rows > 0) out.push_back(&m);
  };
  const auto n_cpu = std::min(w->layers.size(), static_cast<size_t>(std::max(0, cpu_layers)));
  for (size_t i = 0; i < n_cpu; ++i) {
    w->layers[i].ForEachMatrix(add);
  }
  if (n_cpu == w->layers.size()) add(w->output);
  return out;
}

size_t AlignUp(size_t v, size_t a) { return (v + a - 1) / a * a; }

// Drops this process's pages of [p, p + n) that lie wholly inside the range.
void ReleasePages(const uint8_t* p, size_t n) {
  const auto page = static_cast<uintptr_t>(sysconf(_SC_PAGESIZE));
  const uintptr_t begin = AlignUp(reinterpret_cast<uintptr_t>(p), page);
  const uintptr_t end = (reinterpret_cast<uintptr_t>(p) + n) / page * page;
  if (end > begin) madvise(reinterpret_cast<void*>(begin), end - begin, MADV_DONTNEED);
}

double SecondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// Start of the mapped file `f` (the tensors' data pointers point into it).
const uint8_t* FileBase(const GgufFile& f) {
  const GgufTensorInfo& t = f.tensors().front();
  return t.data - f.data_offset() - t.offset;
}

// A cache directory that cannot be written (read-only, full) is worth one
// warning per process, not one per load.
void WarnCacheUnwritable(const Status& s) {
  static std::atomic<bool> warned{false};
  if (!warned.exchange(true)) {
    spdlog::warn("packed weights cache disabled: {} (loads pack at every start; --packed-cache off silences this)",
                 s.message());
  } else {
    spdlog::debug("packed weights cache not written: {}", s.message());
  }
}

}  // namespace

bool PackedWeights::Enabled() {
  return CpuSupportsIsa(KernelIsa::kAvx2) && ActiveKernelIsa() != KernelIsa::kScalar;
}

PackedWeights::~PackedWeights() {
  if (cache_write_.valid()) cache_write_.wait();  // the writer reads the packed bytes
  if (base_ != nullptr) munmap(base_, bytes_);
}

std::string PackedWeights::Describe() const {
  if (from_cache()) return fmt::format("from cache {} ({:.2f} s)", cache_path_, seconds_);
  std::lock_guard<std::mutex> lock(note_mu_);
  return fmt::format("packed now in {:.2f} s{}", seconds_, cache_note_);
}

Status PackedWeights::WaitForCacheWrite() const {
  return cache_write_.valid() ? cache_write_.get() : Status::Ok();
}

Result<std::unique_ptr<PackedWeights>> PackedWeights::Pack(ModelWeights* w, int32_t cpu_layers, bool enabled,
                                                           const GgufFile* file, const PackedCacheSettings& cache) {
  if (!enabled || !Enabled()) return std::unique_ptr<PackedWeights>();
  const std::vector<WeightMatrix*> mats = PackableMatrices(w, cpu_layers);
  if (mats.empty()) return std::unique_ptr<PackedWeights>();
  const auto start = std::chrono::steady_clock::now();

  // One buffer for all matrices, each 64-byte aligned.
  std::vector<size_t> offsets;
  size_t total = 0;
  for (const WeightMatrix* m : mats) {
    offsets.push_back(total);
    total = AlignUp(total + PackedWeightBytes(m->rows, m->row_bytes), 64);
  }

  // The packed cache: map a valid file, or remember where to write one.
  const bool use_cache = file != nullptr && cache.enabled() && !file->tensors().empty();
  std::vector<PackedCacheEntry> plan;
  PackedCacheKey key;
  std::string cache_path;
  std::string cache_note = " (no packed cache)";
  if (use_cache) {
    const uint8_t* file_base = FileBase(*file);
    for (size_t i = 0; i < mats.size(); ++i) {
      const WeightMatrix& m = *mats[i];
      plan.push_back({static_cast<uint64_t>(m.data - file_base), m.type, m.rows, m.row_bytes, offsets[i],
                      PackedWeightBytes(m.rows, m.row_bytes)});
    }
    auto k = ComputePackedCacheKey(file->name(), file_base, file->file_size(), file->data_offset(), plan);
    if (!k.ok()) {
      WarnCacheUnwritable(k.status());
      cache_note = " (packed cache: " + k.status().message() + ")";
    } else {
      key = *k;
      cache_path = PackedCacheFilePath(cache.dir, file->name(), key);
      auto mapped = OpenPackedCache(cache_path, key, plan, total);
      if (mapped.ok()) {
        std::unique_ptr<PackedWeights> pw(new PackedWeights());
        pw->bytes_ = total;
        pw->matrices_ = static_cast<int>(mats.size());
        for (size_t i = 0; i < mats.size(); ++i) mats[i]->packed = (*mapped)->data() + offsets[i];
        pw->cache_ = std::move(mapped).value();
        pw->cache_path_ = cache_path;
        pw->seconds_ = SecondsSince(start);
        spdlog::info("{}: packed weights {}", file->name(), pw->Describe());
        return pw;
      }
      if (mapped.status().code() == StatusCode::kCorruption) {
        spdlog::warn("ignoring packed weights cache: {}; repacking and rewriting it", mapped.status().message());
      } else if (mapped.status().code() != StatusCode::kNotFound) {
        spdlog::debug("packed weights cache not read: {}", mapped.status().message());  // the write will say why
      }
    }
  }

  // One anonymous mapping for the packed copy. Huge pages
  // where the kernel grants them: fewer TLB misses while streaming weights.
  void* base = mmap(nullptr, total, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (base == MAP_FAILED) {
    return Status::ResourceExhausted("cannot allocate " + std::to_string(total >> 20) +
                                     " MiB for the packed weights (turn repacking off to run without: JARVIS_REPACK=0)");
  }
  madvise(base, total, MADV_HUGEPAGE);
  std::unique_ptr<PackedWeights> pw(new PackedWeights());
  pw->base_ = base;
  pw->bytes_ = total;
  pw->matrices_ = static_cast<int>(mats.size());

  // Work items of up to 64 row tiles, spread over the machine's threads.
  struct Item {
    size_t mat;
    int64_t tile_begin, tile_end;
  };
  std::vector<Item> items;
  for (size_t i = 0; i < mats.size(); ++i) {
    const int64_t tiles = (mats[i]->rows + kPackLanes - 1) / kPackLanes;
    for (int64_t t = 0; t < tiles; t += 64) items.push_back({i, t, std::min(tiles, t + 64)});
  }
  auto* bytes = static_cast<uint8_t*>(base);
  // Items left per matrix: whoever packs a matrix's last item releases its
  // GGUF pages, so resident memory peaks near one copy of the weights.
  std::vector<std::atomic<int64_t>> left(mats.size());
  for (const Item& it : items) left[it.mat].fetch_add(1, std::memory_order_relaxed);
  std::atomic<size_t> next{0};
  auto worker = [&] {
    for (size_t k; (k = next.fetch_add(1)) < items.size();) {
      const Item& it = items[k];
      const WeightMatrix& m = *mats[it.mat];
      PackWeightTiles(m.type, m.data, m.rows, m.row_bytes, it.tile_begin, it.tile_end, bytes + offsets[it.mat]);
      if (left[it.mat].fetch_sub(1, std::memory_order_acq_rel) == 1) {
        ReleasePages(m.data, static_cast<size_t>(m.rows) * m.row_bytes);
      }
    }
  };
  const unsigned n_threads = std::clamp(std::thread::hardware_concurrency(), 1u, 16u);
  std::vector<std::thread> threads;
  for (unsigned t = 1; t < n_threads; ++t) threads.emplace_back(worker);
  worker();
  for (std::thread& t : threads) t.join();

  // Tied embeddings: the output matrix is token_embd, whose GGUF rows the
  // embedding lookups keep reading (faulted back in on demand).
  for (size_t i = 0; i < mats.size(); ++i) mats[i]->packed = bytes + offsets[i];
  pw->seconds_ = SecondsSince(start);
  if (!cache_path.empty()) {
    pw->cache_path_ = cache_path;
    cache_note = ", caching to " + cache_path;
    PackedWeights* self = pw.get();  // outlives the task: the destructor waits for it
    const std::string model_name = file->name();
    self->cache_write_ = std::async(std::launch::async, [self, model_name, key, plan = std::move(plan), bytes, total,
                                                         max_bytes = cache.max_bytes, cache_path] {
                           const auto write_start = std::chrono::steady_clock::now();
                           const Status written = WritePackedCache(cache_path, key, plan, bytes, total, max_bytes);
                           std::string note;
                           if (written.ok()) {
                             note = fmt::format(", cached to {} ({:.2f} s)", cache_path, SecondsSince(write_start));
                             spdlog::info("{}: packed weights{}", model_name, note);
                           } else {
                             WarnCacheUnwritable(written);
                             note = " (packed cache not written: " + written.message() + ")";
                           }
                           std::lock_guard<std::mutex> lock(self->note_mu_);
                           self->cache_note_ = note;
                           return written;
                         }).share();
  }
  {
    std::lock_guard<std::mutex> lock(pw->note_mu_);
    if (pw->cache_note_.empty()) pw->cache_note_ = cache_note;  // the writer may have finished already
  }
  if (use_cache) spdlog::info("{}: packed weights {}", file->name(), pw->Describe());
  return pw;
}

}  // namespace jarvis
