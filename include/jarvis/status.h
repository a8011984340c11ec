// Status and Result<T>: how every jarvis layer reports expected failures.
//
// A Status is either OK or carries a code and a message. Expected failures
// (missing file, corrupt GGUF, bad request) are values, never exceptions or
// aborts; exceptions, where a dependency throws, are caught inside the module
// that called it.
//
// Thread safety: Status and Result are values; distinct objects may be used from
// different threads without synchronization.
#pragma once

#include <cassert>
#include <string>
#include <utility>
#include <variant>

namespace jarvis {

enum class StatusCode {
  kOk = 0,
  kInvalidArgument,   // the caller passed something wrong (bad flag, bad request field)
  kNotFound,          // a file, model, key or tensor does not exist
  kCorruption,        // bytes on disk are not what the format says
  kIoError,           // the operating system refused a read, write or map
  kUnsupported,       // valid input we cannot handle yet (unknown arch, type)
  kResourceExhausted, // out of memory, queue full, context full
  kCancelled,         // the caller or a deadline stopped the work
  kInternal,          // a bug in jarvis
};

const char* StatusCodeName(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;  // OK
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() { return Status(); }
  static Status InvalidArgument(std::string m) { return {StatusCode::kInvalidArgument, std::move(m)}; }
  static Status NotFound(std::string m) { return {StatusCode::kNotFound, std::move(m)}; }
  static Status Corruption(std::string m) { return {StatusCode::kCorruption, std::move(m)}; }
  static Status IoError(std::string m) { return {StatusCode::kIoError, std::move(m)}; }
  static Status Unsupported(std::string m) { return {StatusCode::kUnsupported, std::move(m)}; }
  static Status ResourceExhausted(std::string m) { return {StatusCode::kResourceExhausted, std::move(m)}; }
  static Status Cancelled(std::string m) { return {StatusCode::kCancelled, std::move(m)}; }
  static Status Internal(std::string m) { return {StatusCode::kInternal, std::move(m)}; }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }
  // "Corruption: model.gguf: offset 24: tensor count 99999999 exceeds file size"
  std::string ToString() const;

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

// Result<T> holds either a T or a non-OK Status.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}  // NOLINT(google-explicit-constructor)
  Result(Status status) : v_(std::move(status)) {  // NOLINT(google-explicit-constructor)
    assert(!std::get<Status>(v_).ok() && "Result built from an OK Status");
  }

  bool ok() const { return std::holds_alternative<T>(v_); }
  // REQUIRES: !ok()
  const Status& status() const& { return std::get<Status>(v_); }
  Status status() && { return ok() ? Status() : std::get<Status>(std::move(v_)); }
  // REQUIRES: ok()
  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace jarvis

#define JARVIS_CONCAT_INNER_(a, b) a##b
#define JARVIS_CONCAT_(a, b) JARVIS_CONCAT_INNER_(a, b)

// Returns from the enclosing function if `expr` (a Status) is not OK.
#define JARVIS_RETURN_IF_ERROR(expr)               \
  do {                                             \
    ::jarvis::Status jarvis_status_ = (expr);      \
    if (!jarvis_status_.ok()) return jarvis_status_; \
  } while (0)

// JARVIS_ASSIGN_OR_RETURN(auto x, MakeX()): unwraps a Result or returns its Status.
#define JARVIS_ASSIGN_OR_RETURN(lhs, expr) \
  JARVIS_ASSIGN_OR_RETURN_IMPL_(JARVIS_CONCAT_(jarvis_result_, __LINE__), lhs, expr)
#define JARVIS_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                                  \
  if (!tmp.ok()) return std::move(tmp).status();      \
  lhs = std::move(tmp).value()
