// MappedFile: a read-only memory map of a whole file. Non-copyable, movable.
// The mapping lives until the object is destroyed; spans taken from data() must
// not outlive it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "jarvis/status.h"

namespace jarvis {

class MappedFile {
 public:
  // Maps `path` read-only. Errors: NotFound (no such file), InvalidArgument
  // (a directory or not a regular file), IoError (open/mmap failed).
  static Result<std::unique_ptr<MappedFile>> Open(const std::string& path);

  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  std::span<const uint8_t> bytes() const { return {data_, size_}; }
  const uint8_t* data() const { return data_; }
  size_t size() const { return size_; }
  const std::string& path() const { return path_; }

 private:
  MappedFile(std::string path, const uint8_t* data, size_t size)
      : path_(std::move(path)), data_(data), size_(size) {}
  std::string path_;
  const uint8_t* data_;
  size_t size_;
};

}  // namespace jarvis
