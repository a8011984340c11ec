#if defined(JARVIS_HAVE_CUDA)

#include "gpu/cuda_memory.h"

#include <cuda_runtime.h>

namespace jarvis::gpu {

Status CudaStatus(int error, const std::string& what) {
  const auto e = static_cast<cudaError_t>(error);
  if (e == cudaSuccess) return Status::Ok();
  const std::string message = what + ": " + cudaGetErrorName(e) + " (" + cudaGetErrorString(e) + ")";
  switch (e) {
    case cudaErrorMemoryAllocation:
      return Status::ResourceExhausted(message);
    case cudaErrorNoDevice:
    case cudaErrorInsufficientDriver:
    case cudaErrorNoKernelImageForDevice:
    case cudaErrorUnsupportedPtxVersion:
    case cudaErrorInvalidDevice:
      return Status::Unsupported(message);
    default:
      return Status::Internal(message);
  }
}

Status SyncStream(void* stream, const std::string& what) {
  JARVIS_RETURN_IF_ERROR(CudaStatus(cudaGetLastError(), what + " (launch)"));
  return CudaStatus(cudaStreamSynchronize(static_cast<cudaStream_t>(stream)), what);
}

DeviceBuffer::~DeviceBuffer() {
  if (data_ != nullptr) cudaFree(data_);
}

DeviceBuffer& DeviceBuffer::operator=(DeviceBuffer&& other) noexcept {
  if (this != &other) {
    if (data_ != nullptr) cudaFree(data_);
    data_ = std::exchange(other.data_, nullptr);
    bytes_ = std::exchange(other.bytes_, 0);
  }
  return *this;
}

Result<DeviceBuffer> DeviceBuffer::Allocate(size_t bytes, const std::string& what) {
  DeviceBuffer buffer;
  if (bytes == 0) return buffer;
  const cudaError_t e = cudaMalloc(&buffer.data_, bytes);
  if (e != cudaSuccess) {
    buffer.data_ = nullptr;
    cudaGetLastError();  // OOM is not sticky: clear it so the next launch check does not see it
    return CudaStatus(e, "cudaMalloc " + what + " (" + std::to_string(bytes >> 20) + " MiB)");
  }
  buffer.bytes_ = bytes;
  return buffer;
}

PinnedBuffer::~PinnedBuffer() {
  if (data_ != nullptr) cudaFreeHost(data_);
}

Status PinnedBuffer::Reserve(size_t bytes) {
  if (bytes <= bytes_) return Status::Ok();
  if (data_ != nullptr) cudaFreeHost(data_);
  data_ = nullptr;
  bytes_ = 0;
  const cudaError_t e = cudaMallocHost(&data_, bytes);
  if (e != cudaSuccess) {
    data_ = nullptr;
    cudaGetLastError();
    return CudaStatus(e, "cudaMallocHost (" + std::to_string(bytes) + " bytes)");
  }
  bytes_ = bytes;
  return Status::Ok();
}

CudaStream::~CudaStream() {
  if (stream_ != nullptr) cudaStreamDestroy(static_cast<cudaStream_t>(stream_));
}

Status CudaStream::Create() {
  cudaStream_t s = nullptr;
  JARVIS_RETURN_IF_ERROR(CudaStatus(cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking), "cudaStreamCreate"));
  stream_ = s;
  return Status::Ok();
}

Status CopyToDevice(void* dst, const void* src, size_t bytes, const std::string& what) {
  return CudaStatus(cudaMemcpy(dst, src, bytes, cudaMemcpyHostToDevice), "copy to device: " + what);
}

Status CopyToHost(void* dst, const void* src, size_t bytes, const std::string& what) {
  return CudaStatus(cudaMemcpy(dst, src, bytes, cudaMemcpyDeviceToHost), "copy to host: " + what);
}

Status CopyToDeviceAsync(void* dst, const void* src, size_t bytes, void* stream) {
  return CudaStatus(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyHostToDevice, static_cast<cudaStream_t>(stream)),
                    "cudaMemcpyAsync to device");
}

Status CopyToHostAsync(void* dst, const void* src, size_t bytes, void* stream) {
  return CudaStatus(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToHost, static_cast<cudaStream_t>(stream)),
                    "cudaMemcpyAsync to host");
}

Status CopyDeviceAsync(void* dst, const void* src, size_t bytes, void* stream) {
  return CudaStatus(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToDevice, static_cast<cudaStream_t>(stream)),
                    "cudaMemcpyAsync device to device");
}

}  // namespace jarvis::gpu

#endif  // JARVIS_HAVE_CUDA
