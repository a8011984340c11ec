// PackedCache: the on-disk copy of a model's packed weights
// (model/weight_packing.h), so that a later load maps the file instead of
// repacking ("instant reload": docs/ARCHITECTURE.md, Loading).
//
// Why: repacking costs 0.5-1.3 s per GB at every load, most of it the kernel
// zeroing fresh anonymous pages. A cache file in the page cache maps and
// verifies at memory speed (the pages must be read for the first token
// anyway; the checksum pass is what faults them in).
//
// One file per (model content, packing plan, layout): `<model stem>-<key>.jvpack`
// in the cache directory, where key = XXH3-128 of
//   - the layout: kPackedCacheFormat and PackLayoutFingerprint() (lanes,
//     per-type block layout; whatever the packed bytes depend on besides the
//     source bytes);
//   - the model file's identity: size and mtime (ns);
//   - its content, sampled: the whole header + tensor-info block and 64
//     evenly spaced 4 KiB pages of the data (a full hash would cost about
//     0.17 s per GB even from the page cache: more than the whole reload);
//   - the plan: each packed matrix's source offset, type, rows and row bytes
//     (a different GPU split packs different layers: another file).
// File layout (little-endian; untrusted when read back):
//   header (64 bytes): magic "JVPACKED", u32 format, u32 n_entries,
//     u64 key_lo, key_hi, u64 data_offset, u64 file_bytes, u64 reserved,
//     u64 header_checksum (XXH3-64 of the header before it + the entry table)
//   entry table, n_entries x 48 bytes: u64 source_offset, u32 type,
//     u32 reserved, i64 rows, u64 row_bytes, u64 packed_offset (from
//     data_offset), u64 checksum (XXH3-64 of the matrix's span: its packed
//     bytes and the zero padding up to the next matrix or the end, so that
//     every data byte is checked)
//   data at data_offset (4 KiB aligned): the matrices, each 64-byte aligned,
//     exactly as PackedWeights lays them out in memory.
// A file is used only if every field matches what this process would write
// and every checksum holds; otherwise it is ignored (one log line), the
// weights are repacked and the file rewritten.
//
// Writers write `<name>.tmp.<pid>.<n>` and rename(2) it into place, so
// readers see a whole file or none and concurrent writers of the same key
// both succeed (the last rename wins; the contents are the same). No fsync:
// a file torn by a crash fails its checksums and is rewritten.
//
// The directory is bounded: after each write the least recently used files
// (mtime, refreshed on every hit) are deleted until the total is at most the
// limit; the file just written is kept even when it alone exceeds it.
//
// Thread safety: free functions; concurrent calls (threads or processes) on
// one directory are safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "jarvis/status.h"
#include "quant/ggml_type.h"

namespace jarvis {

// 2: checksums cover the padding between matrices too (1 left it unchecked).
inline constexpr uint32_t kPackedCacheFormat = 2;

// Cache location and size as the load options carry them.
struct PackedCacheSettings {
  std::string dir;                        // empty: no cache
  uint64_t max_bytes = uint64_t{32} << 30;  // whole files evicted (LRU) above this
  bool enabled() const { return !dir.empty(); }
};

// The directory a RuntimeOptions::packed_cache value names: "off" -> ""
// (disabled); "" -> $XDG_CACHE_HOME/jarvis/packed, else
// $HOME/.cache/jarvis/packed (disabled when neither is set); anything else
// as given.
std::string ResolvePackedCacheDir(const std::string& option);

// One packed matrix of the plan: where its source rows lie in the model file
// and where its packed bytes go (offset within the data region).
struct PackedCacheEntry {
  uint64_t source_offset = 0;
  GgmlType type = GgmlType::kF32;
  int64_t rows = 0;
  uint64_t row_bytes = 0;
  uint64_t packed_offset = 0;
  uint64_t packed_bytes = 0;
};

struct PackedCacheKey {
  uint64_t lo = 0, hi = 0;
  bool operator==(const PackedCacheKey&) const = default;
};

// The key of `plan` for the model file `model_path` mapped at `file` (size
// bytes). IoError when the file cannot be stat'ed.
Result<PackedCacheKey> ComputePackedCacheKey(const std::string& model_path, const uint8_t* file, uint64_t size,
                                             uint64_t header_bytes, const std::vector<PackedCacheEntry>& plan);

// The cache file's path for a model and key.
std::string PackedCacheFilePath(const std::string& dir, const std::string& model_path, const PackedCacheKey& key);

// A validated cache file, mapped read-only (and guarded against truncation,
// util/mapping_guard.h). data() is the packed buffer (64-byte aligned).
class PackedCacheMapping {
 public:
  ~PackedCacheMapping();
  PackedCacheMapping(const PackedCacheMapping&) = delete;
  PackedCacheMapping& operator=(const PackedCacheMapping&) = delete;
  const uint8_t* data() const { return base_ + data_offset_; }
  const std::string& path() const { return path_; }
  // Whether the file was truncated under the mapping since (reads gave zeros).
  bool damaged() const;

 private:
  friend Result<std::unique_ptr<PackedCacheMapping>> OpenPackedCache(const std::string&, const PackedCacheKey&,
                                                                     const std::vector<PackedCacheEntry>&, uint64_t);
  PackedCacheMapping() = default;
  std::string path_;
  const uint8_t* base_ = nullptr;
  size_t size_ = 0;
  uint64_t data_offset_ = 0;
};

// Maps and validates the cache file at `path` against `key` and `plan`
// (data_bytes: the packed buffer's size). NotFound when there is no file;
// Corruption (the reason) when it is truncated, damaged, stale or foreign;
// IoError when it cannot be read. On success the file's mtime is refreshed
// (LRU).
Result<std::unique_ptr<PackedCacheMapping>> OpenPackedCache(const std::string& path, const PackedCacheKey& key,
                                                            const std::vector<PackedCacheEntry>& plan,
                                                            uint64_t data_bytes);

// Writes `data` (data_bytes, laid out as `plan` says) to `path` atomically
// (on the calling thread only),
// then evicts least recently used files of the directory above `max_bytes`.
// Creates the directory. IoError when it cannot be written (read-only, full:
// less than the file plus 1 GiB free); the temp file is removed then.
Status WritePackedCache(const std::string& path, const PackedCacheKey& key, const std::vector<PackedCacheEntry>& plan,
                        const uint8_t* data, uint64_t data_bytes, uint64_t max_bytes);

// Deletes the least recently used *.jvpack files of `dir` until they total at
// most `max_bytes`, never `keep`; also removes temp files older than a day
// (left by crashed writers). Returns the bytes deleted.
uint64_t EvictPackedCache(const std::string& dir, uint64_t max_bytes, const std::string& keep);

}  // namespace jarvis
