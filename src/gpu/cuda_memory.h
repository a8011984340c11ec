// Owning handles for CUDA device memory, pinned host memory and streams, for
// code that must not include CUDA headers (tests, the offload). Errors are
// Status values naming what was being done; an allocation that fails for lack
// of memory is ResourceExhausted. Only built with CUDA (JARVIS_HAVE_CUDA).
//
// Thread safety: the handles are plain owners; use each from one thread.
#pragma once

#include <cstddef>
#include <string>
#include <utility>

#include "jarvis/status.h"

namespace jarvis::gpu {

// Maps a cudaError_t (as int) to a Status: OK for cudaSuccess,
// ResourceExhausted for cudaErrorMemoryAllocation, Unsupported for "no
// driver / no device / no kernel image for this GPU", Internal otherwise.
Status CudaStatus(int error, const std::string& what);

// The first error of the stream's queued work (synchronizes it) and any
// pending launch error.
Status SyncStream(void* stream, const std::string& what);

// cudaMalloc'd memory; empty when default-constructed or moved from.
class DeviceBuffer {
 public:
  DeviceBuffer() = default;
  ~DeviceBuffer();
  DeviceBuffer(DeviceBuffer&& other) noexcept
      : data_(std::exchange(other.data_, nullptr)), bytes_(std::exchange(other.bytes_, 0)) {}
  DeviceBuffer& operator=(DeviceBuffer&& other) noexcept;
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;

  // `what` names the buffer in the error ("KV pool (512 MiB)").
  static Result<DeviceBuffer> Allocate(size_t bytes, const std::string& what);

  void* data() const { return data_; }
  size_t bytes() const { return bytes_; }
  template <typename T>
  T* as() const { return static_cast<T*>(data_); }

 private:
  void* data_ = nullptr;
  size_t bytes_ = 0;
};

// cudaMallocHost'd (page-locked) memory, grown on demand.
class PinnedBuffer {
 public:
  PinnedBuffer() = default;
  ~PinnedBuffer();
  PinnedBuffer(const PinnedBuffer&) = delete;
  PinnedBuffer& operator=(const PinnedBuffer&) = delete;

  // Makes room for `bytes` (old contents are not kept when it grows).
  Status Reserve(size_t bytes);
  void* data() const { return data_; }
  template <typename T>
  T* as() const { return static_cast<T*>(data_); }

 private:
  void* data_ = nullptr;
  size_t bytes_ = 0;
};

// A non-blocking CUDA stream.
class CudaStream {
 public:
  CudaStream() = default;
  ~CudaStream();
  CudaStream(const CudaStream&) = delete;
  CudaStream& operator=(const CudaStream&) = delete;

  Status Create();
  void* get() const { return stream_; }

 private:
  void* stream_ = nullptr;
};

// Synchronous copies (`what` names them in errors).
Status CopyToDevice(void* dst, const void* src, size_t bytes, const std::string& what);
Status CopyToHost(void* dst, const void* src, size_t bytes, const std::string& what);
// Asynchronous on `stream`; host memory should be pinned.
Status CopyToDeviceAsync(void* dst, const void* src, size_t bytes, void* stream);
Status CopyToHostAsync(void* dst, const void* src, size_t bytes, void* stream);
Status CopyDeviceAsync(void* dst, const void* src, size_t bytes, void* stream);

}  // namespace jarvis::gpu
