// GGUF reader: parses and validates a GGUF v2/v3 file, memory-mapped, with
// zero-copy views of metadata strings and tensor data.
//
// GGUF layout (all integers little-endian):
//   1. magic "GGUF" (4 bytes), version u32 (2 or 3; v1 is refused)
//   2. tensor_count u64, metadata_kv_count u64
//   3. metadata_kv_count times: key (string), value type u32, value
//        string = u64 length + bytes (no terminator)
//        array  = element type u32 + u64 count + elements (arrays may nest)
//   4. tensor_count times: name (string), n_dims u32 (1..4), dims u64[n_dims]
//      (dims[0] is the row length, the fastest-varying one), type u32,
//      offset u64 (relative to the start of the data section)
//   5. padding to `general.alignment` (default 32), then the data section;
//      every tensor offset is a multiple of the alignment.
//
// Untrusted input: every count and length is checked against the bytes that
// remain before anything is allocated; errors are Status::Corruption naming the
// file, the byte offset and what is wrong. Parsing never aborts or hangs.
// Also refused: duplicate or empty keys and tensor names, arrays nested deeper
// than 8, dims < 1, element or byte counts that overflow, unknown tensor types,
// row lengths that are not a multiple of the type's block size, a
// general.alignment that is not a nonzero power of two, tensor data that is
// misaligned, outside the file or overlapping another tensor. A file with no
// tensors may end without the final padding (vocabulary-only files).
//
// Thread safety: a GgufFile is immutable after Open(); any number of threads
// may read it concurrently.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <variant>
#include <vector>

#include "jarvis/status.h"
#include "quant/ggml_type.h"
#include "util/mapped_file.h"

namespace jarvis {

enum class GgufValueType : uint32_t {
  kUint8 = 0,
  kInt8 = 1,
  kUint16 = 2,
  kInt16 = 3,
  kUint32 = 4,
  kInt32 = 5,
  kFloat32 = 6,
  kBool = 7,
  kString = 8,
  kArray = 9,
  kUint64 = 10,
  kInt64 = 11,
  kFloat64 = 12,
};
const char* GgufValueTypeName(GgufValueType type);

struct GgufArray;

// One metadata value. Strings are views into the mapped file (or the buffer
// given to FromBuffer) and live as long as the GgufFile.
class GgufValue {
 public:
  using Storage = std::variant<uint64_t, int64_t, double, bool, std::string_view,
                               std::shared_ptr<const GgufArray>>;
  GgufValue(GgufValueType type, Storage v) : type_(type), v_(std::move(v)) {}

  GgufValueType type() const { return type_; }
  bool is_integer() const;
  bool is_float() const { return type_ == GgufValueType::kFloat32 || type_ == GgufValueType::kFloat64; }

  // Converting getters: nullopt when the value has another kind or does not fit.
  std::optional<uint64_t> as_uint() const;   // any integer type, if >= 0
  std::optional<int64_t> as_int() const;     // any integer type, if it fits
  std::optional<double> as_float() const;    // float types and integer types
  std::optional<bool> as_bool() const;
  std::optional<std::string_view> as_string() const;
  const GgufArray* as_array() const;         // nullptr when not an array

  // Short human form: 42, 1e-05, "llama", [array of 32000 string], true.
  std::string ToDisplayString(size_t max_len = 60) const;

 private:
  GgufValueType type_;
  Storage v_;
};

struct GgufArray {
  GgufValueType element_type;
  std::vector<GgufValue> items;
};

struct GgufKeyValue {
  std::string_view key;
  GgufValue value;
};

struct GgufTensorInfo {
  std::string_view name;
  std::vector<int64_t> dims;  // ggml order: dims[0] = row length
  GgmlType type;
  uint64_t offset;     // relative to the data section
  uint64_t n_elements;
  uint64_t n_bytes;
  const uint8_t* data;  // points into the mapping; valid while the GgufFile lives

  int64_t rows() const;  // product of dims[1..]
};

class GgufFile {
 public:
  // Maps and validates `path`. Errors: NotFound / IoError / InvalidArgument from
  // opening, Corruption for malformed content, Unsupported for GGUF v1.
  static Result<std::unique_ptr<GgufFile>> Open(const std::string& path);
  // Parses bytes owned by the caller (tests, fuzzing). `bytes` must outlive the
  // returned object. `name` is used in error messages.
  static Result<std::unique_ptr<GgufFile>> FromBuffer(std::span<const uint8_t> bytes,
                                                      std::string name = "<buffer>");

  GgufFile(const GgufFile&) = delete;
  GgufFile& operator=(const GgufFile&) = delete;
  ~GgufFile();

  const std::string& name() const { return name_; }
  uint32_t version() const { return version_; }
  uint64_t alignment() const { return alignment_; }
  uint64_t data_offset() const { return data_offset_; }  // absolute file offset
  uint64_t file_size() const { return bytes_.size(); }

  const std::vector<GgufKeyValue>& metadata() const { return metadata_; }
  const GgufValue* Find(std::string_view key) const;

  // Typed getters that name the key in their errors: NotFound when absent,
  // InvalidArgument when of the wrong type.
  Result<uint64_t> GetUint(std::string_view key) const;
  Result<double> GetFloat(std::string_view key) const;
  Result<std::string_view> GetString(std::string_view key) const;
  Result<bool> GetBool(std::string_view key) const;
  const GgufArray* GetArray(std::string_view key) const;  // nullptr when absent or not an array

  const std::vector<GgufTensorInfo>& tensors() const { return tensors_; }
  const GgufTensorInfo* FindTensor(std::string_view name) const;
  // Sum of n_elements over all tensors.
  uint64_t ParameterCount() const;
  // Sum of n_bytes over all tensors.
  uint64_t TensorBytes() const;

 private:
  GgufFile() = default;
  friend class GgufParser;

  std::string name_;
  std::unique_ptr<MappedFile> file_;  // null for FromBuffer
  std::span<const uint8_t> bytes_;
  uint32_t version_ = 0;
  uint64_t alignment_ = 32;
  uint64_t data_offset_ = 0;
  std::vector<GgufKeyValue> metadata_;
  std::vector<GgufTensorInfo> tensors_;
  std::unordered_map<std::string_view, size_t> key_index_;     // into metadata_
  std::unordered_map<std::string_view, size_t> tensor_index_;  // into tensors_
};

}  // namespace jarvis
