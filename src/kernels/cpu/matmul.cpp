// MatMul's front door: picks the active ISA's kernels (or the BF16 dot-product
// path), quantizes the activations once per call into per-thread scratch, and splits the weight
// rows over the pool in tiles (each output is computed by one thread, in an
// order fixed by the kernel: see matmul_int8_impl.h).
#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "kernels/cpu/matmul.h"
#include "kernels/cpu/matmul_isa.h"
#include "util/cpu_features.h"

namespace jarvis {
namespace {

namespace ki = kernels_internal;

struct IsaKernels {
  bool (*has_kernel)(GgmlType);
  bool (*wants_int8)(GgmlType);
  int64_t (*row_tile)();
  void (*quantize)(GgmlType, const float*, int64_t, int64_t, const ki::QuantActs&);
  size_t (*scratch_bytes)(const ki::MatMulArgs&);
  void (*rows)(const ki::MatMulArgs&, int64_t, int64_t, uint8_t*);
};

#define JARVIS_ISA_KERNELS(ns)                                                                    \
  IsaKernels {                                                                                   \
    ki::ns::HasKernel, ki::ns::WantsInt8, ki::ns::RowTile, ki::ns::QuantizeActs, ki::ns::ScratchBytes, \
        ki::ns::MatMulRows                                                                        \
  }
constexpr IsaKernels kAvx2 = JARVIS_ISA_KERNELS(avx2);
constexpr IsaKernels kAvx512 = JARVIS_ISA_KERNELS(avx512);
constexpr IsaKernels kAmx = JARVIS_ISA_KERNELS(amx);
#undef JARVIS_ISA_KERNELS

const IsaKernels* KernelsFor(KernelIsa isa) {
  switch (isa) {
    case KernelIsa::kAvx2:
      return &kAvx2;
    case KernelIsa::kAvx512:
      return &kAvx512;
    case KernelIsa::kAmx:
      return &kAmx;
    case KernelIsa::kScalar:
      break;
  }
  return nullptr;
}

bool IsKType(GgmlType type) { return Int8ActsOf(type) == Int8Acts::kBlock256; }

// Carves the int8 activation arrays for n_tokens x cols out of `buf`, each
// 64-byte aligned.
ki::QuantActs LayoutActs(std::vector<uint8_t>& buf, GgmlType type, int64_t n_tokens, int64_t cols) {
  ki::QuantActs a;
  a.n_tokens = n_tokens;
  a.cols = cols;
  a.block = IsKType(type) ? 256 : 32;
  const auto n = static_cast<size_t>(n_tokens);
  const auto c = static_cast<size_t>(cols);
  const size_t nb = c / static_cast<size_t>(a.block);
  auto align = [](size_t v) { return (v + 63) & ~size_t{63}; };
  const size_t qs_bytes = align(n * c);
  const size_t d_bytes = align(n * nb * sizeof(float));
  const size_t corr_bytes = a.block == 32 ? align(n * nb * sizeof(int32_t)) : 0;
  const size_t s16_bytes = a.block == 256 ? align(n * (c / 16) * sizeof(int16_t)) : 0;
  const size_t s32_bytes = a.block == 256 ? align(n * (c / 32) * sizeof(int16_t)) : 0;
  const size_t total = qs_bytes + d_bytes + corr_bytes + s16_bytes + s32_bytes + 64;
  if (buf.size() < total) buf.resize(total);
  uint8_t* p = buf.data();
  p += (64 - reinterpret_cast<uintptr_t>(p) % 64) % 64;
  a.qs = reinterpret_cast<int8_t*>(p);
  p += qs_bytes;
  a.d = reinterpret_cast<float*>(p);
  p += d_bytes;
  if (corr_bytes > 0) a.corr = reinterpret_cast<int32_t*>(p);
  p += corr_bytes;
  if (s16_bytes > 0) a.sum16 = reinterpret_cast<int16_t*>(p);
  p += s16_bytes;
  if (s32_bytes > 0) a.sum32 = reinterpret_cast<int16_t*>(p);
  return a;
}

// Runs rows(begin, end, scratch) over [0, n_rows) in tiles of `tile` rows.
// Row tiles are handed out in small chunks from a shared counter rather
// than split statically: a thread that the OS preempts (a busy machine)
// does not hold up the whole call. Which thread computes a row does not
// change its bits (matmul_int8_impl.h). `scratch` is 64-byte aligned
// per-thread memory of scratch_bytes.
template <typename Rows>
void RunRowTiles(ThreadPool& pool, int64_t n_rows, int64_t tile, size_t scratch_bytes, const Rows& rows) {
  const int64_t n_tiles = (n_rows + tile - 1) / tile;
  struct Job {
    const Rows* rows;
    int64_t n_rows, tile, n_tiles, chunk;
    size_t scratch_bytes;
    std::atomic<int64_t> next{0};
  } job{&rows, n_rows, tile, n_tiles, std::clamp<int64_t>(n_tiles / (16 * pool.size()), 1, 8), scratch_bytes};
  // One pointer captured: std::function keeps it inline (no allocation).
  auto work = [j = &job](int, int) {
    thread_local std::vector<uint8_t> scratch;
    uint8_t* s = nullptr;
    if (j->scratch_bytes > 0) {
      if (scratch.size() < j->scratch_bytes + 64) scratch.resize(j->scratch_bytes + 64);
      s = scratch.data() + (64 - reinterpret_cast<uintptr_t>(scratch.data()) % 64) % 64;
    }
    for (;;) {
      const int64_t begin = j->next.fetch_add(j->chunk, std::memory_order_relaxed);
      if (begin >= j->n_tiles) break;
      const int64_t end = std::min(j->n_tiles, begin + j->chunk);
      (*j->rows)(begin * j->tile, std::min(j->n_rows, end * j->tile), s);
    }
  };
  if (pool.size() == 1 || n_tiles == 1) {
    work(0, 1);
  } else {
    pool.Run(work);
  }
}

// F16 / BF16 weights with BF16 dot products (matmul_avx512bf16.cpp).
void MatMulBf16Dot(const WeightMatrix& w, const float* x, int64_t n_tokens, float* y, ThreadPool& pool) {
  namespace bf = ki::avx512bf16;
  ki::Bf16Args args;
  args.w = w.data;
  args.f16 = w.type == GgmlType::kF16;
  args.rows = w.rows;
  args.cols = w.cols;
  args.row_bytes = w.row_bytes;
  args.stride = bf::ActStride(w.cols);
  args.n_tokens = n_tokens;
  args.y = y;
  thread_local std::vector<uint16_t> acts;
  const size_t act_values = static_cast<size_t>(n_tokens * args.stride) + 32;  // + room to align
  if (acts.size() < act_values) acts.resize(act_values);
  uint16_t* aligned = acts.data() + (64 - reinterpret_cast<uintptr_t>(acts.data()) % 64) % 64 / 2;
  args.acts = aligned;
  if (n_tokens < 4 || pool.size() == 1) {
    bf::ConvertActs(x, w.cols, 0, n_tokens, aligned);
  } else {
    pool.ParallelFor(n_tokens, 1, [&](int64_t begin, int64_t end) { bf::ConvertActs(x, w.cols, begin, end, aligned); });
  }
  RunRowTiles(pool, w.rows, bf::RowTile(), bf::ScratchBytes(w.cols),
              [&](int64_t begin, int64_t end, uint8_t* scratch) { bf::MatMulRows(args, begin, end, scratch); });
}

}  // namespace

bool HasFastMatMul(GgmlType type, KernelIsa isa) {
  const IsaKernels* k = KernelsFor(isa);
  return k != nullptr && CpuSupportsIsa(isa) && k->has_kernel(type);
}

bool UsesBf16Dot(const WeightMatrix& w) {
  if (!w.bf16_dot || (w.type != GgmlType::kF16 && w.type != GgmlType::kBF16)) return false;
  const KernelIsa isa = ActiveKernelIsa();
  return (isa == KernelIsa::kAvx512 || isa == KernelIsa::kAmx) && GetCpuFeatures().avx512bf16;
}

void MatMul(const WeightMatrix& w, const float* x, int64_t n_tokens, float* y, ThreadPool& pool) {
  if (n_tokens > 0 && UsesBf16Dot(w)) {
    MatMulBf16Dot(w, x, n_tokens, y, pool);
    return;
  }
  const IsaKernels* k = KernelsFor(ActiveKernelIsa());
  if (k == nullptr || !k->has_kernel(w.type) || n_tokens <= 0) {
    MatMulReference(w, x, n_tokens, y, pool);
    return;
  }
  ki::MatMulArgs args;
  args.w = w.data;
  args.type = w.type;
  args.rows = w.rows;
  args.cols = w.cols;
  args.row_bytes = w.row_bytes;
  args.packed = w.packed;
  args.x = x;
  args.n_tokens = n_tokens;
  args.y = y;
  if (k->wants_int8(w.type)) {
    thread_local std::vector<uint8_t> acts;
    args.acts = LayoutActs(acts, w.type, n_tokens, w.cols);
    if (n_tokens < 4 || pool.size() == 1) {
      k->quantize(w.type, x, 0, n_tokens, args.acts);
    } else {
      pool.ParallelFor(n_tokens, 1, [&](int64_t begin, int64_t end) { k->quantize(w.type, x, begin, end, args.acts); });
    }
  }
  RunRowTiles(pool, w.rows, k->row_tile(), k->scratch_bytes(args),
              [&](int64_t begin, int64_t end, uint8_t* scratch) { k->rows(args, begin, end, scratch); });
}

}  // namespace jarvis
