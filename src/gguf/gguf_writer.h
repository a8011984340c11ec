// GgufWriter: builds a GGUF v3 file, streaming tensor data to disk so that a
// file larger than memory (an 8B model) can be written with bounded RAM.
//
// Usage:
//   GgufWriter w;
//   w.SetString("general.architecture", "llama");
//   w.SetUint32("llama.block_count", 22);
//   w.SetStringArray("tokenizer.ggml.tokens", tokens);
//   w.AddTensor("token_embd.weight", {2048, 32000}, GgmlType::kQ4_K);
//   Status s = w.WriteFile(path, [&](size_t index, const GgufTensorPlan& t,
//                                    std::span<uint8_t> out) -> Status {
//     ... fill out (t.n_bytes bytes) with tensor `index`'s data ...
//   });
//
// WriteFile writes to "<path>.tmp.<pid>" and renames it over `path` only on
// success, so a failure never leaves a partial file. The fill callback gets one
// tensor at a time in AddTensor order; its buffer is reused between tensors.
// Metadata keys keep insertion order; setting a key again replaces its value.
//
// Thread safety: none; use one writer from one thread.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "gguf/gguf_reader.h"
#include "jarvis/status.h"
#include "quant/ggml_type.h"

namespace jarvis {

struct GgufTensorPlan {
  std::string name;
  std::vector<int64_t> dims;  // ggml order: dims[0] = row length
  GgmlType type;
  uint64_t n_bytes;
  uint64_t offset;  // within the data section, set by the writer
};

class GgufWriter {
 public:
  using FillFn = std::function<Status(size_t index, const GgufTensorPlan& tensor,
                                      std::span<uint8_t> out)>;

  GgufWriter();
  ~GgufWriter();  // out of line: Entry is complete only in the .cpp
  GgufWriter(const GgufWriter&) = delete;
  GgufWriter& operator=(const GgufWriter&) = delete;

  void SetUint8(std::string_view key, uint8_t v);
  void SetInt8(std::string_view key, int8_t v);
  void SetUint16(std::string_view key, uint16_t v);
  void SetInt16(std::string_view key, int16_t v);
  void SetUint32(std::string_view key, uint32_t v);
  void SetInt32(std::string_view key, int32_t v);
  void SetUint64(std::string_view key, uint64_t v);
  void SetInt64(std::string_view key, int64_t v);
  void SetFloat32(std::string_view key, float v);
  void SetFloat64(std::string_view key, double v);
  void SetBool(std::string_view key, bool v);
  void SetString(std::string_view key, std::string_view v);
  void SetStringArray(std::string_view key, const std::vector<std::string>& v);
  void SetFloat32Array(std::string_view key, const std::vector<float>& v);
  void SetInt32Array(std::string_view key, const std::vector<int32_t>& v);
  // Copies any value read by GgufReader (including nested arrays), so
  // `jarvis quantize` can preserve metadata it does not understand.
  void SetValue(std::string_view key, const GgufValue& v);
  void Remove(std::string_view key);

  // general.alignment is written when it differs from 32 (a general.alignment
  // key set through the other setters is rewritten to match). REQUIRES: power of 2.
  void SetAlignment(uint32_t alignment);
  uint32_t alignment() const { return alignment_; }

  // InvalidArgument for a duplicate name, bad dims, or a row length that is not
  // a multiple of the type's block size.
  Status AddTensor(std::string name, std::vector<int64_t> dims, GgmlType type);
  const std::vector<GgufTensorPlan>& tensors() const { return tensors_; }

  Status WriteFile(const std::string& path, const FillFn& fill);

 private:
  struct Entry;
  std::vector<Entry> entries_;  // defined in the .cpp
  std::vector<GgufTensorPlan> tensors_;
  uint32_t alignment_ = 32;

  Entry& Put(std::string_view key, GgufValueType type);
  void LayoutTensors();  // assigns offsets for the current alignment
  Status WriteTo(int fd, const std::string& path, const FillFn& fill);
};

}  // namespace jarvis
