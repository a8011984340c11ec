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
// Thread safety: immutable after Pack().
#pragma once

#include <cstddef>
#include <memory>

#include "jarvis/status.h"
#include "model/weights.h"

namespace jarvis {

class PackedWeights {
 public:
  // Packs the matrices of layers [0, cpu_layers) of `w` in place (sets their
  // `packed`), and the output matrix when every layer runs on the CPU (the
  // rest belongs to a GPU offload, which reads the GGUF layout); returns
  // null when packing is off or nothing qualifies. ResourceExhausted if the
  // memory cannot be had.
  // `enabled` false: packs nothing (returns null).
  static Result<std::unique_ptr<PackedWeights>> Pack(ModelWeights* w, int32_t cpu_layers, bool enabled = true);
  // Whether Pack() would pack on this machine with the active kernels.
  static bool Enabled();

  ~PackedWeights();
  PackedWeights(const PackedWeights&) = delete;
  PackedWeights& operator=(const PackedWeights&) = delete;

  size_t bytes() const { return bytes_; }
  int matrices() const { return matrices_; }
  double seconds() const { return seconds_; }

 private:
  PackedWeights() = default;
  void* base_ = nullptr;
  size_t bytes_ = 0;
  int matrices_ = 0;
  double seconds_ = 0.0;
};

}  // namespace jarvis
