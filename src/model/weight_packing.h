// PackedWeights: the load-time, lane-interleaved copy of a model's quantized
// matrices for the int8 kernels (layout: kernels/cpu/weight_pack.h).
//
// Why: decode streams every weight once per token, and reading 16 rows of the
// GGUF layout at once costs a transpose per block; the packed copy is read
// with plain, sequential vector loads (llama3-1b q4_0 decode: see the issue
// 4 note / README bench table). Cost: one pass over the weights at load
// (parallel) and the same number of bytes in anonymous memory; the packed
// tensors' file pages are then released from this process (MADV_DONTNEED),
// so resident memory stays about one copy of the weights. The mapping stays
// valid: the scalar reference path and embedding lookups fault pages back
// in on demand.
//
// Packing is skipped (every matrix keeps packed == nullptr, results are the
// same bits) when the caller turns it off (ModelLoadOptions::repack; the CLI
// maps JARVIS_REPACK=0 to it), when the CPU lacks AVX2, or when the scalar
// kernels are active.
//
// With a packed cache (model/packed_cache.h) the packed copy is instead
// mapped from a file written by an earlier load of the same model, or written
// there after packing. The file's pages are shared page cache, not this
// process's anonymous memory; a missing, damaged or foreign file only means
// packing as without a cache. The file is written by a background thread
// after Pack() returns, so the first load reaches its first token as fast as
// without a cache (writing into the page cache ran at ~200 MB/s on the CI
// machine kind: 3.4 s for 700 MB); the destructor waits for it.
//
// Thread safety: the packed bytes are immutable after Pack(); every method
// may be called from any thread.
#pragma once

#include <cstddef>
#include <future>
#include <memory>
#include <mutex>
#include <string>

#include "jarvis/status.h"
#include "model/packed_cache.h"
#include "model/weights.h"

namespace jarvis {

class PackedWeights {
 public:
  // Packs the matrices of layers [0, cpu_layers) of `w` in place (sets their
  // `packed`), and the output matrix when every layer runs on the CPU (the
  // rest belongs to a GPU offload, which reads the GGUF layout); returns
  // null when packing is off or nothing qualifies. ResourceExhausted if the
  // memory cannot be had.
  // `enabled` false: packs nothing (returns null). With `file` (the GGUF
  // file `w` is bound to) and an enabled `cache`, maps the packed copy from
  // the cache when a valid file is there, else packs and writes one.
  static Result<std::unique_ptr<PackedWeights>> Pack(ModelWeights* w, int32_t cpu_layers, bool enabled = true,
                                                     const GgufFile* file = nullptr,
                                                     const PackedCacheSettings& cache = {});
  // Whether Pack() would pack on this machine with the active kernels.
  static bool Enabled();

  ~PackedWeights();
  PackedWeights(const PackedWeights&) = delete;
  PackedWeights& operator=(const PackedWeights&) = delete;

  size_t bytes() const { return bytes_; }
  int matrices() const { return matrices_; }
  // Wall time of Pack(): packing (and writing the cache), or mapping and
  // verifying the cache file.
  double seconds() const { return seconds_; }
  // Whether the copy was mapped from the packed cache (else packed now).
  bool from_cache() const { return cache_ != nullptr; }
  // The cache file read, or written (WaitForCacheWrite says whether that
  // worked); empty when none.
  const std::string& cache_path() const { return cache_path_; }
  // Where the packed weights came from, for the load log line and `jarvis
  // bench`: "packed now in 1.20 s, caching to P", then "... cached to P
  // (3.40 s)"; "from cache P (0.15 s)"; "packed now in 1.20 s (no packed
  // cache)".
  std::string Describe() const;
  // Blocks until the cache file Pack() started writing is complete; its
  // status (Ok when nothing was to be written).
  Status WaitForCacheWrite() const;
  // Whether the cache file was truncated under its mapping (the packed
  // bytes then read as zeros: results computed since are wrong).
  bool damaged() const { return cache_ != nullptr && cache_->damaged(); }

 private:
  PackedWeights() = default;
  std::unique_ptr<PackedCacheMapping> cache_;  // set: the copy is this file's
  std::string cache_path_;
  mutable std::mutex note_mu_;
  std::string cache_note_;  // guarded by note_mu_ (the writer updates it)
  std::shared_future<Status> cache_write_;  // the background write, if any
  void* base_ = nullptr;  // anonymous mapping when packed now
  size_t bytes_ = 0;
  int matrices_ = 0;
  double seconds_ = 0.0;
};

}  // namespace jarvis
