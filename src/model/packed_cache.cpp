#include "model/packed_cache.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>
#include <xxhash.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <thread>

#include <fmt/format.h>

#include "kernels/cpu/weight_pack.h"
#include "util/mapping_guard.h"

namespace jarvis {
namespace {

namespace fs = std::filesystem;

constexpr char kMagic[8] = {'J', 'V', 'P', 'A', 'C', 'K', 'E', 'D'};
constexpr size_t kHeaderBytes = 64;
constexpr size_t kEntryBytes = 48;
constexpr uint64_t kDataAlign = 4096;
constexpr uint64_t kSampleBytes = 4096;
constexpr int kContentSamples = 64;
// Free space a write leaves on the cache's file system, so that the cache
// never fills a disk the user needs.
constexpr uint64_t kFreeSpaceReserve = uint64_t{1} << 30;
constexpr auto kStaleTempAge = std::chrono::hours(24);
constexpr const char* kExtension = ".jvpack";

uint64_t AlignUp(uint64_t v, uint64_t a) { return (v + a - 1) / a * a; }

void Put32(uint8_t* p, uint32_t v) { std::memcpy(p, &v, 4); }
void Put64(uint8_t* p, uint64_t v) { std::memcpy(p, &v, 8); }
uint32_t Get32(const uint8_t* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}
uint64_t Get64(const uint8_t* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}

template <typename T>
void Feed(XXH3_state_t* s, const T& v) {
  XXH3_128bits_update(s, &v, sizeof(v));
}

uint64_t DataOffset(size_t n_entries) { return AlignUp(kHeaderBytes + n_entries * kEntryBytes, kDataAlign); }

// Bytes of data that entry i's checksum covers: its packed bytes and the
// padding after them, up to the next matrix (the plan is in offset order) or
// the end of the data. Together the spans cover every data byte.
uint64_t EntrySpan(const std::vector<PackedCacheEntry>& plan, size_t i, uint64_t data_bytes) {
  const uint64_t end = i + 1 < plan.size() ? plan[i + 1].packed_offset : data_bytes;
  return end - plan[i].packed_offset;
}

// A plan this file format can describe: matrices in increasing offset order,
// none overlapping the next, all inside the data.
bool PlanIsOrdered(const std::vector<PackedCacheEntry>& plan, uint64_t data_bytes) {
  for (size_t i = 0; i < plan.size(); ++i) {
    const uint64_t end = i + 1 < plan.size() ? plan[i + 1].packed_offset : data_bytes;
    if (plan[i].packed_offset + plan[i].packed_bytes > end) return false;
  }
  return true;
}

// The header and entry table as this process writes them (checksums of the
// data included: `sums`).
std::vector<uint8_t> EncodeHeader(const PackedCacheKey& key, const std::vector<PackedCacheEntry>& plan,
                                  const std::vector<uint64_t>& sums, uint64_t data_bytes) {
  std::array<uint8_t, kHeaderBytes> head{};
  std::memcpy(head.data(), kMagic, 8);
  Put32(head.data() + 8, kPackedCacheFormat);
  Put32(head.data() + 12, static_cast<uint32_t>(plan.size()));
  Put64(head.data() + 16, key.lo);
  Put64(head.data() + 24, key.hi);
  Put64(head.data() + 32, DataOffset(plan.size()));
  Put64(head.data() + 40, DataOffset(plan.size()) + data_bytes);
  std::vector<uint8_t> h(head.begin(), head.end());
  h.reserve(kHeaderBytes + plan.size() * kEntryBytes);
  for (size_t i = 0; i < plan.size(); ++i) {
    std::array<uint8_t, kEntryBytes> e{};
    Put64(e.data(), plan[i].source_offset);
    Put32(e.data() + 8, static_cast<uint32_t>(plan[i].type));
    Put64(e.data() + 16, static_cast<uint64_t>(plan[i].rows));
    Put64(e.data() + 24, plan[i].row_bytes);
    Put64(e.data() + 32, plan[i].packed_offset);
    Put64(e.data() + 40, sums[i]);
    h.insert(h.end(), e.begin(), e.end());
  }
  // Over the header with this field still 0.
  std::array<uint8_t, 8> checksum{};
  Put64(checksum.data(), XXH3_64bits(h.data(), h.size()));
  std::copy(checksum.begin(), checksum.end(), h.begin() + 56);
  return h;
}

// Runs fn(i) for i in [0, n) on up to 16 threads (the machine's), largest
// work first is the caller's business.
template <typename Fn>
void ParallelFor(size_t n, Fn&& fn) {
  std::atomic<size_t> next{0};
  auto worker = [&] {
    for (size_t i; (i = next.fetch_add(1)) < n;) fn(i);
  };
  const unsigned n_threads = std::clamp(std::thread::hardware_concurrency(), 1u, 16u);
  std::vector<std::thread> threads;
  for (unsigned t = 1; t < n_threads && t < n; ++t) threads.emplace_back(worker);
  worker();
  for (std::thread& t : threads) t.join();
}

std::string SafeStem(const std::string& model_path) {
  std::string stem = fs::path(model_path).stem().string();
  for (char& c : stem) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.')) c = '_';
  }
  if (stem.size() > 80) stem.resize(80);
  return stem.empty() ? "model" : stem;
}

Status Errno(const std::string& what, const std::string& path) {
  return Status::IoError(fmt::format("{} {}: {}", what, path, std::strerror(errno)));
}

}  // namespace

std::string ResolvePackedCacheDir(const std::string& option) {
  if (option == "off") return "";
  if (!option.empty()) return option;
  const char* xdg = std::getenv("XDG_CACHE_HOME");
  if (xdg != nullptr && *xdg == '/') return (fs::path(xdg) / "jarvis" / "packed").string();
  const char* home = std::getenv("HOME");
  if (home != nullptr && *home != '\0') return (fs::path(home) / ".cache" / "jarvis" / "packed").string();
  return "";
}

Result<PackedCacheKey> ComputePackedCacheKey(const std::string& model_path, const uint8_t* file, uint64_t size,
                                             uint64_t header_bytes, const std::vector<PackedCacheEntry>& plan) {
  struct stat st {};
  if (::stat(model_path.c_str(), &st) != 0) return Errno("cannot stat", model_path);
  XXH3_state_t* s = XXH3_createState();
  if (s == nullptr) return Status::ResourceExhausted("XXH3_createState");
  XXH3_128bits_reset(s);
  // The layout: everything the packed bytes depend on besides the source.
  Feed(s, kPackedCacheFormat);
  Feed(s, kPackLanes);
  for (uint32_t t = 0; t < 64; ++t) {
    const PackLayout l = PackLayoutFor(static_cast<GgmlType>(t));
    const int32_t fields[] = {l.block_bytes, l.word_begin, l.n_words, l.half_at, l.word_off, l.half_off};
    Feed(s, fields);
  }
  // The model file: identity, header, sampled data.
  Feed(s, size);
  Feed(s, static_cast<uint64_t>(st.st_size));
  const int64_t mtime_ns = static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
  Feed(s, mtime_ns);
  XXH3_128bits_update(s, file, std::min(header_bytes, size));
  if (size > header_bytes) {
    const uint64_t span = size - header_bytes;
    for (int i = 0; i < kContentSamples; ++i) {
      const uint64_t at = header_bytes + span / kContentSamples * static_cast<uint64_t>(i);
      XXH3_128bits_update(s, file + at, std::min(kSampleBytes, size - at));
    }
  }
  // The plan.
  for (const PackedCacheEntry& e : plan) {
    Feed(s, e.source_offset);
    Feed(s, static_cast<uint32_t>(e.type));
    Feed(s, e.rows);
    Feed(s, e.row_bytes);
    Feed(s, e.packed_offset);
    Feed(s, e.packed_bytes);
  }
  const XXH128_hash_t h = XXH3_128bits_digest(s);
  XXH3_freeState(s);
  return PackedCacheKey{h.low64, h.high64};
}

std::string PackedCacheFilePath(const std::string& dir, const std::string& model_path, const PackedCacheKey& key) {
  return (fs::path(dir) / fmt::format("{}-{:016x}{:016x}{}", SafeStem(model_path), key.hi, key.lo, kExtension))
      .string();
}

PackedCacheMapping::~PackedCacheMapping() {
  if (base_ != nullptr) {
    UnguardMapping(base_);
    ::munmap(const_cast<uint8_t*>(base_), size_);
  }
}

bool PackedCacheMapping::damaged() const { return MappingDamagedAt(base_); }

Result<std::unique_ptr<PackedCacheMapping>> OpenPackedCache(const std::string& path, const PackedCacheKey& key,
                                                            const std::vector<PackedCacheEntry>& plan,
                                                            uint64_t data_bytes) {
  if (!PlanIsOrdered(plan, data_bytes)) return Status::InvalidArgument(path + ": packing plan out of offset order");
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT || errno == ENOTDIR) return Status::NotFound(path + ": no cache file");
    return Errno("cannot open", path);
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return Status::Corruption(path + ": not a regular file");
  }
  const auto size = static_cast<uint64_t>(st.st_size);
  const uint64_t data_offset = DataOffset(plan.size());
  // Every size is what this process would write, so all later reads are in
  // bounds.
  if (size != data_offset + data_bytes) {
    ::close(fd);
    return Status::Corruption(fmt::format("{}: {} bytes, expected {} (truncated or foreign)", path, size,
                                          data_offset + data_bytes));
  }
  void* p = ::mmap(nullptr, size, PROT_READ, MAP_SHARED, fd, 0);
  const int map_errno = errno;
  ::close(fd);
  if (p == MAP_FAILED) {
    errno = map_errno;
    return Errno("cannot mmap", path);
  }
  std::unique_ptr<PackedCacheMapping> m(new PackedCacheMapping());
  m->path_ = path;
  m->base_ = static_cast<const uint8_t*>(p);
  m->size_ = size;
  m->data_offset_ = data_offset;
  GuardMapping(m->base_, size);  // truncated under us later: reads give zeros, damaged() says so
  // Start reading the whole file now (a cold cache: the disk works while the
  // header is checked and the first matrices hash).
  ::madvise(p, size, MADV_WILLNEED);

  const uint8_t* h = m->base_;
  if (std::memcmp(h, kMagic, 8) != 0) return Status::Corruption(path + ": bad magic");
  if (Get32(h + 8) != kPackedCacheFormat) {
    return Status::Corruption(fmt::format("{}: format {}, this build reads {}", path, Get32(h + 8), kPackedCacheFormat));
  }
  // Checksums come from the file; everything else must equal our own header.
  std::vector<uint64_t> sums(plan.size());
  for (size_t i = 0; i < plan.size() && kHeaderBytes + (i + 1) * kEntryBytes <= size; ++i) {
    sums[i] = Get64(h + kHeaderBytes + i * kEntryBytes + 40);
  }
  const std::vector<uint8_t> expected = EncodeHeader(key, plan, sums, data_bytes);
  if (std::memcmp(h, expected.data(), expected.size()) != 0) {
    const bool key_differs = Get64(h + 16) != key.lo || Get64(h + 24) != key.hi;
    return Status::Corruption(path + (key_differs ? ": written for another model or layout (key differs)"
                                                  : ": header does not match this model's packing plan or its checksum"));
  }
  std::vector<size_t> order(plan.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(),
            [&](size_t a, size_t b) { return plan[a].packed_bytes > plan[b].packed_bytes; });
  std::atomic<int64_t> bad{-1};
  ParallelFor(order.size(), [&](size_t k) {
    const size_t i = order[k];
    const PackedCacheEntry& e = plan[i];
    if (XXH3_64bits(m->data() + e.packed_offset, EntrySpan(plan, i, data_bytes)) != sums[i]) {
      bad.store(static_cast<int64_t>(i));
    }
  });
  if (bad.load() >= 0) {
    return Status::Corruption(fmt::format("{}: checksum of packed matrix {} does not match (damaged)", path, bad.load()));
  }
  if (m->damaged()) return Status::Corruption(path + ": truncated while being read");
  ::utimensat(AT_FDCWD, path.c_str(), nullptr, 0);  // most recently used (eviction order)
  return m;
}

Status WritePackedCache(const std::string& path, const PackedCacheKey& key, const std::vector<PackedCacheEntry>& plan,
                        const uint8_t* data, uint64_t data_bytes, uint64_t max_bytes) {
  if (!PlanIsOrdered(plan, data_bytes)) return Status::InvalidArgument(path + ": packing plan out of offset order");
  const fs::path dir = fs::path(path).parent_path();
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return Status::IoError(fmt::format("cannot create {}: {}", dir.string(), ec.message()));
  const uint64_t file_bytes = DataOffset(plan.size()) + data_bytes;
  struct statvfs vfs {};
  if (::statvfs(dir.c_str(), &vfs) == 0) {
    const uint64_t free_bytes = static_cast<uint64_t>(vfs.f_bavail) * vfs.f_frsize;
    if (free_bytes < file_bytes + kFreeSpaceReserve) {
      return Status::IoError(fmt::format("{}: {} MiB free, the file needs {} MiB and 1 GiB stays free", dir.string(),
                                         free_bytes >> 20, file_bytes >> 20));
    }
  }
  static std::atomic<uint64_t> temp_counter{0};
  const std::string temp = fmt::format("{}.tmp.{}.{}", path, ::getpid(), temp_counter.fetch_add(1));
  const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) return Errno("cannot create", temp);
  auto fail = [&](Status s) {
    ::close(fd);
    ::unlink(temp.c_str());
    return s;
  };
  if (::ftruncate(fd, static_cast<off_t>(file_bytes)) != 0) return fail(Errno("cannot size", temp));
  // One thread: this runs beside a model that is already serving, and the
  // page cache, not the CPU, sets the pace.
  std::vector<uint64_t> sums(plan.size());
  std::atomic<int> write_errno{0};
  const uint64_t data_offset = DataOffset(plan.size());
  for (size_t i = 0; i < plan.size(); ++i) {
    const PackedCacheEntry& e = plan[i];
    const uint8_t* src = data + e.packed_offset;
    const uint64_t span = EntrySpan(plan, i, data_bytes);
    sums[i] = XXH3_64bits(src, span);
    for (uint64_t done = 0; done < span && write_errno.load() == 0;) {
      const ssize_t n = ::pwrite(fd, src + done, std::min<uint64_t>(span - done, uint64_t{1} << 30),
                                 static_cast<off_t>(data_offset + e.packed_offset + done));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        write_errno.store(n < 0 ? errno : ENOSPC);
        break;
      }
      done += static_cast<uint64_t>(n);
    }
  }
  if (write_errno.load() != 0) {
    errno = write_errno.load();
    return fail(Errno("cannot write", temp));
  }
  const std::vector<uint8_t> header = EncodeHeader(key, plan, sums, data_bytes);
  if (::pwrite(fd, header.data(), header.size(), 0) != static_cast<ssize_t>(header.size())) {
    return fail(Errno("cannot write", temp));
  }
  if (::close(fd) != 0) {
    ::unlink(temp.c_str());
    return Errno("cannot write", temp);
  }
  if (::rename(temp.c_str(), path.c_str()) != 0) {
    const Status s = Errno("cannot rename into", path);
    ::unlink(temp.c_str());
    return s;
  }
  EvictPackedCache(dir.string(), max_bytes, path);
  return Status::Ok();
}

uint64_t EvictPackedCache(const std::string& dir, uint64_t max_bytes, const std::string& keep) {
  struct File {
    fs::path path;
    uint64_t bytes;
    fs::file_time_type used;
  };
  std::vector<File> files;
  std::error_code ec;
  uint64_t total = 0, deleted = 0;
  const auto now = fs::file_time_type::clock::now();
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    std::error_code e2;
    if (!entry.is_regular_file(e2)) continue;
    const std::string name = entry.path().filename().string();
    const auto used = entry.last_write_time(e2);
    if (e2) continue;
    const uint64_t bytes = entry.file_size(e2);
    if (e2) continue;
    if (name.find(std::string(kExtension) + ".tmp.") != std::string::npos) {
      if (now - used > kStaleTempAge && fs::remove(entry.path(), e2)) deleted += bytes;
      continue;
    }
    if (entry.path().extension() != kExtension) continue;
    total += bytes;
    if (entry.path() != fs::path(keep)) files.push_back({entry.path(), bytes, used});
  }
  std::sort(files.begin(), files.end(), [](const File& a, const File& b) { return a.used < b.used; });
  for (const File& f : files) {
    if (total <= max_bytes) break;
    std::error_code e2;
    if (fs::remove(f.path, e2)) {
      total -= f.bytes;
      deleted += f.bytes;
    }
  }
  return deleted;
}

}  // namespace jarvis
