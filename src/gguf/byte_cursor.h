// ByteCursor: a bounds-checked little-endian reader over untrusted bytes.
//
// Every read checks the bytes that remain first and fails with
// Status::Corruption("<name>: offset <N>: <what>") instead of reading past the
// end. Strings are returned as views into the underlying bytes (zero-copy).
// The cursor does not own the bytes. Not thread-safe (it has a position).
#pragma once

#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>

#include "jarvis/status.h"

namespace jarvis {

class ByteCursor {
 public:
  ByteCursor(std::span<const uint8_t> bytes, const std::string& name)
      : bytes_(bytes), name_(name) {}

  uint64_t pos() const { return pos_; }
  uint64_t size() const { return bytes_.size(); }
  uint64_t remaining() const { return bytes_.size() - pos_; }
  const uint8_t* data() const { return bytes_.data(); }

  // Corruption error located at `offset` (default: the current position).
  Status Error(const std::string& what) const { return ErrorAt(pos_, what); }
  Status ErrorAt(uint64_t offset, const std::string& what) const {
    return Status::Corruption(name_ + ": offset " + std::to_string(offset) + ": " + what);
  }

  // Fails unless `n` more bytes are available; `what` names the field.
  Status Need(uint64_t n, const char* what) const {
    if (n > remaining()) {
      return Error(std::string("truncated ") + what + " (needs " + std::to_string(n) +
                   " bytes, " + std::to_string(remaining()) + " left)");
    }
    return Status::Ok();
  }

  Result<uint8_t> U8(const char* what) { return Read<uint8_t>(what); }
  Result<uint16_t> U16(const char* what) { return Read<uint16_t>(what); }
  Result<uint32_t> U32(const char* what) { return Read<uint32_t>(what); }
  Result<uint64_t> U64(const char* what) { return Read<uint64_t>(what); }

  // A GGUF string: u64 length, then that many bytes (no terminator).
  Result<std::string_view> String(const char* what) {
    const uint64_t at = pos_;
    JARVIS_ASSIGN_OR_RETURN(uint64_t len, U64(what));
    if (len > remaining()) {
      pos_ = at;
      return Error(std::string(what) + " length " + std::to_string(len) +
                   " exceeds the remaining " + std::to_string(remaining() - 8) + " bytes");
    }
    std::string_view s(reinterpret_cast<const char*>(bytes_.data() + pos_),
                       static_cast<size_t>(len));
    pos_ += len;
    return s;
  }

  Status Skip(uint64_t n, const char* what) {
    JARVIS_RETURN_IF_ERROR(Need(n, what));
    pos_ += n;
    return Status::Ok();
  }

 private:
  // Host is little-endian (x86-64, aarch64 Linux); memcpy avoids unaligned UB.
  template <typename T>
  Result<T> Read(const char* what) {
    JARVIS_RETURN_IF_ERROR(Need(sizeof(T), what));
    T v;
    std::memcpy(&v, bytes_.data() + pos_, sizeof(T));
    pos_ += sizeof(T);
    return v;
  }

  std::span<const uint8_t> bytes_;
  const std::string& name_;
  uint64_t pos_ = 0;
};

}  // namespace jarvis
