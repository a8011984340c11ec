#include "cli/bench_load.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <memory>

#include "engine/engine.h"
#include "model/model.h"

namespace jarvis::cli {
namespace {

namespace fs = std::filesystem;

constexpr int32_t kPromptTokens = 8;

double SecondsSince(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// User + system CPU seconds of this process so far (every thread).
double ProcessCpuSeconds() {
  rusage u {};
  ::getrusage(RUSAGE_SELF, &u);
  auto s = [](const timeval& t) { return static_cast<double>(t.tv_sec) + 1e-6 * static_cast<double>(t.tv_usec); };
  return s(u.ru_utime) + s(u.ru_stime);
}

// Drops the clean page-cache pages of `path` (after writing back dirty ones).
void EvictFromPageCache(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return;
  ::fdatasync(fd);
  ::posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
  ::close(fd);
}

// Fraction of `path`'s pages in the page cache (mincore), -1 if unknown.
double ResidentFraction(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1.0;
  struct stat st {};
  double fraction = -1.0;
  if (::fstat(fd, &st) == 0 && st.st_size > 0) {
    const auto size = static_cast<size_t>(st.st_size);
    void* p = ::mmap(nullptr, size, PROT_READ, MAP_SHARED, fd, 0);
    if (p != MAP_FAILED) {
      const size_t page = static_cast<size_t>(::sysconf(_SC_PAGESIZE));
      std::vector<unsigned char> in((size + page - 1) / page);
      if (::mincore(p, size, in.data()) == 0) {
        const auto resident = std::count_if(in.begin(), in.end(), [](unsigned char c) { return (c & 1) != 0; });
        fraction = static_cast<double>(resident) / static_cast<double>(in.size());
      }
      ::munmap(p, size);
    }
  }
  ::close(fd);
  return fraction;
}

struct Scenario {
  const char* name;
  bool repack;
  bool cache;
  bool cold;
};

}  // namespace

double Median(std::vector<double> v) {
  if (v.empty()) return 0.0;
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 == 1 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

Result<std::vector<LoadBenchRow>> RunLoadBench(const std::string& model_path, int32_t threads, int reps) {
  const fs::path cache_dir = fs::temp_directory_path() / ("jarvis-bench-packed-" + std::to_string(::getpid()));
  std::error_code ec;
  fs::remove_all(cache_dir, ec);
  struct RemoveDir {
    fs::path dir;
    ~RemoveDir() {
      std::error_code e;
      fs::remove_all(dir, e);
    }
  } remove_dir{cache_dir};

  const Scenario scenarios[] = {
      {"cold, packing now", true, false, true},
      {"warm, packing now", true, false, false},
      {"warm, no repack (JARVIS_REPACK=0)", false, false, false},
      {"first load with cache (file written in the background)", true, true, false},
      {"from packed cache, warm", true, true, false},
      {"from packed cache, cold", true, true, true},
  };
  std::vector<LoadBenchRow> rows;
  std::string cache_file;
  bool packs = false;  // whether this model has packed weights at all (else there is no cache to test)
  for (const Scenario& sc : scenarios) {
    if (sc.cache && !packs) break;
    LoadBenchRow row;
    row.scenario = sc.name;
    const bool writes_cache = sc.cache && cache_file.empty();
    for (int r = 0; r < (writes_cache ? 1 : reps); ++r) {
      if (sc.cold) {
        EvictFromPageCache(model_path);
        if (!cache_file.empty()) EvictFromPageCache(cache_file);
      }
      row.resident_before = ResidentFraction(model_path);
      ModelLoadOptions options;
      options.repack = sc.repack;
      if (sc.cache) options.packed_cache.dir = cache_dir.string();
      const double cpu0 = ProcessCpuSeconds();
      const auto t0 = std::chrono::steady_clock::now();
      JARVIS_ASSIGN_OR_RETURN(std::unique_ptr<Model> model, Model::Load(model_path, options));
      row.load_s.push_back(SecondsSince(t0));
      EngineOptions eo;
      eo.n_threads = threads;
      eo.n_ctx = 2 * kPromptTokens;
      eo.max_sequences = 1;
      eo.gpu_layers = 0;
      JARVIS_ASSIGN_OR_RETURN(std::unique_ptr<Engine> engine, Engine::Create(*model, eo));
      KvCache& kv = engine->kv();
      const int32_t seq = kv.CreateSequence();
      JARVIS_RETURN_IF_ERROR(kv.Reserve(seq, kPromptTokens));
      Batch batch;
      const int32_t n_vocab = model->hparams().n_vocab;
      for (int32_t i = 0; i < kPromptTokens; ++i) {
        batch.Add(16 + (i * 7919) % std::max(1, n_vocab - 16), i, 0, i + 1 == kPromptTokens);
      }
      batch.block_tables = {kv.block_table(seq)};
      std::vector<float> logits;
      JARVIS_RETURN_IF_ERROR(engine->Decode(batch, &logits));
      row.first_token_s.push_back(SecondsSince(t0));
      row.first_token_cpu_s.push_back(ProcessCpuSeconds() - cpu0);
      const PackedWeights* packed = model->packed();
      // The cache is written in the background after the first token; the
      // next scenarios need it whole (the row shows how long it took).
      if (packed != nullptr) (void)packed->WaitForCacheWrite();
      row.packed = packed == nullptr ? "none" : packed->Describe();
      packs = packs || packed != nullptr;
      if (writes_cache && packed != nullptr && !packed->cache_path().empty()) cache_file = packed->cache_path();
    }
    if (sc.cache && cache_file.empty()) {
      return Status::IoError("the packed cache could not be written to " + cache_dir.string() + ": " + row.packed);
    }
    rows.push_back(std::move(row));
  }
  return rows;
}

}  // namespace jarvis::cli
