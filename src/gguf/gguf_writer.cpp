// GgufWriter: metadata is encoded to bytes when set; WriteFile streams the
// header, then each tensor through one reused buffer, into a temp file that is
// renamed over the target only when everything (including fsync) succeeded.
#include "gguf/gguf_writer.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <new>

namespace jarvis {

namespace {

constexpr uint32_t kVersion = 3;
constexpr uint32_t kDefaultAlignment = 32;
constexpr size_t kFlushBytes = 1 << 20;
constexpr std::string_view kAlignmentKey = "general.alignment";

template <typename T>
void Append(std::vector<uint8_t>& out, T v) {
  const size_t at = out.size();
  out.resize(at + sizeof(T));
  std::memcpy(out.data() + at, &v, sizeof(T));
}

void AppendString(std::vector<uint8_t>& out, std::string_view s) {
  Append<uint64_t>(out, s.size());
  out.insert(out.end(), s.begin(), s.end());
}

// Encodes the payload of a value of `type` (the bytes after its type field).
// Values from GgufReader always match their type; a mismatched hand-built
// value encodes as zero / empty.
void EncodePayload(std::vector<uint8_t>& out, GgufValueType type, const GgufValue& v) {
  const uint64_t u = v.as_uint().value_or(static_cast<uint64_t>(v.as_int().value_or(0)));
  switch (type) {
    case GgufValueType::kUint8:
    case GgufValueType::kInt8: Append<uint8_t>(out, static_cast<uint8_t>(u)); return;
    case GgufValueType::kUint16:
    case GgufValueType::kInt16: Append<uint16_t>(out, static_cast<uint16_t>(u)); return;
    case GgufValueType::kUint32:
    case GgufValueType::kInt32: Append<uint32_t>(out, static_cast<uint32_t>(u)); return;
    case GgufValueType::kUint64:
    case GgufValueType::kInt64: Append<uint64_t>(out, u); return;
    case GgufValueType::kFloat32:
      Append<float>(out, static_cast<float>(v.as_float().value_or(0.0)));
      return;
    case GgufValueType::kFloat64: Append<double>(out, v.as_float().value_or(0.0)); return;
    case GgufValueType::kBool: Append<uint8_t>(out, v.as_bool().value_or(false) ? 1 : 0); return;
    case GgufValueType::kString: AppendString(out, v.as_string().value_or("")); return;
    case GgufValueType::kArray: {
      const GgufArray* a = v.as_array();
      const GgufValueType elem = a != nullptr ? a->element_type : GgufValueType::kUint8;
      Append<uint32_t>(out, static_cast<uint32_t>(elem));
      Append<uint64_t>(out, a != nullptr ? a->items.size() : 0);
      if (a != nullptr) {
        for (const GgufValue& item : a->items) EncodePayload(out, elem, item);
      }
      return;
    }
  }
}

std::string Errno(const std::string& what, const std::string& path) {
  return path + ": " + what + ": " + std::strerror(errno);
}

// Writes all of `bytes`, retrying short writes and EINTR.
Status WriteAll(int fd, std::span<const uint8_t> bytes, const std::string& path) {
  while (!bytes.empty()) {
    const ssize_t n = ::write(fd, bytes.data(), bytes.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return Status::IoError(Errno("write failed", path));
    }
    bytes = bytes.subspan(static_cast<size_t>(n));
  }
  return Status::Ok();
}

}  // namespace

struct GgufWriter::Entry {
  std::string key;
  GgufValueType type;
  std::vector<uint8_t> payload;
};

GgufWriter::GgufWriter() = default;
GgufWriter::~GgufWriter() = default;

GgufWriter::Entry& GgufWriter::Put(std::string_view key, GgufValueType type) {
  auto it = std::find_if(entries_.begin(), entries_.end(),
                         [&](const Entry& e) { return e.key == key; });
  if (it == entries_.end()) {
    entries_.push_back(Entry{std::string(key), type, {}});
    return entries_.back();
  }
  it->type = type;
  it->payload.clear();
  return *it;
}

void GgufWriter::SetUint8(std::string_view k, uint8_t v) { Append(Put(k, GgufValueType::kUint8).payload, v); }
void GgufWriter::SetInt8(std::string_view k, int8_t v) { Append(Put(k, GgufValueType::kInt8).payload, v); }
void GgufWriter::SetUint16(std::string_view k, uint16_t v) { Append(Put(k, GgufValueType::kUint16).payload, v); }
void GgufWriter::SetInt16(std::string_view k, int16_t v) { Append(Put(k, GgufValueType::kInt16).payload, v); }
void GgufWriter::SetUint32(std::string_view k, uint32_t v) { Append(Put(k, GgufValueType::kUint32).payload, v); }
void GgufWriter::SetInt32(std::string_view k, int32_t v) { Append(Put(k, GgufValueType::kInt32).payload, v); }
void GgufWriter::SetUint64(std::string_view k, uint64_t v) { Append(Put(k, GgufValueType::kUint64).payload, v); }
void GgufWriter::SetInt64(std::string_view k, int64_t v) { Append(Put(k, GgufValueType::kInt64).payload, v); }
void GgufWriter::SetFloat32(std::string_view k, float v) { Append(Put(k, GgufValueType::kFloat32).payload, v); }
void GgufWriter::SetFloat64(std::string_view k, double v) { Append(Put(k, GgufValueType::kFloat64).payload, v); }
void GgufWriter::SetBool(std::string_view k, bool v) {
  Append<uint8_t>(Put(k, GgufValueType::kBool).payload, v ? 1 : 0);
}
void GgufWriter::SetString(std::string_view k, std::string_view v) {
  AppendString(Put(k, GgufValueType::kString).payload, v);
}

void GgufWriter::SetStringArray(std::string_view k, const std::vector<std::string>& v) {
  auto& p = Put(k, GgufValueType::kArray).payload;
  Append<uint32_t>(p, static_cast<uint32_t>(GgufValueType::kString));
  Append<uint64_t>(p, v.size());
  for (const auto& s : v) AppendString(p, s);
}

void GgufWriter::SetFloat32Array(std::string_view k, const std::vector<float>& v) {
  auto& p = Put(k, GgufValueType::kArray).payload;
  Append<uint32_t>(p, static_cast<uint32_t>(GgufValueType::kFloat32));
  Append<uint64_t>(p, v.size());
  for (float x : v) Append(p, x);
}

void GgufWriter::SetInt32Array(std::string_view k, const std::vector<int32_t>& v) {
  auto& p = Put(k, GgufValueType::kArray).payload;
  Append<uint32_t>(p, static_cast<uint32_t>(GgufValueType::kInt32));
  Append<uint64_t>(p, v.size());
  for (int32_t x : v) Append(p, x);
}

void GgufWriter::SetValue(std::string_view k, const GgufValue& v) {
  EncodePayload(Put(k, v.type()).payload, v.type(), v);
}

void GgufWriter::Remove(std::string_view key) {
  std::erase_if(entries_, [&](const Entry& e) { return e.key == key; });
}

void GgufWriter::SetAlignment(uint32_t alignment) {
  alignment_ = std::has_single_bit(alignment) ? alignment : kDefaultAlignment;
  LayoutTensors();
}

Status GgufWriter::AddTensor(std::string name, std::vector<int64_t> dims, GgmlType type) {
  if (name.empty()) return Status::InvalidArgument("tensor name is empty");
  for (const auto& t : tensors_) {
    if (t.name == name) return Status::InvalidArgument("duplicate tensor name '" + name + "'");
  }
  if (dims.empty() || dims.size() > 4) {
    return Status::InvalidArgument("tensor '" + name + "': " + std::to_string(dims.size()) +
                                   " dims, expected 1..4");
  }
  int64_t n = 1;
  for (int64_t d : dims) {
    if (d < 1 || __builtin_mul_overflow(n, d, &n)) {
      return Status::InvalidArgument("tensor '" + name + "': bad dimension " + std::to_string(d));
    }
  }
  const GgmlTypeTraits* traits = FindTypeTraits(static_cast<uint32_t>(type));
  if (traits == nullptr) return Status::InvalidArgument("tensor '" + name + "': unknown type");
  if (dims[0] % traits->block_size != 0) {
    return Status::InvalidArgument("tensor '" + name + "': row length " + std::to_string(dims[0]) +
                                   " is not a multiple of the " + traits->name + " block size " +
                                   std::to_string(traits->block_size));
  }
  uint64_t n_bytes = 0;
  if (__builtin_mul_overflow(static_cast<uint64_t>(n / traits->block_size),
                             static_cast<uint64_t>(traits->type_size), &n_bytes)) {
    return Status::InvalidArgument("tensor '" + name + "': too large");
  }
  tensors_.push_back(GgufTensorPlan{std::move(name), std::move(dims), type, n_bytes, 0});
  LayoutTensors();
  return Status::Ok();
}

void GgufWriter::LayoutTensors() {
  uint64_t offset = 0;
  for (auto& t : tensors_) {
    t.offset = offset;
    offset += (t.n_bytes + alignment_ - 1) / alignment_ * alignment_;
  }
}

Status GgufWriter::WriteFile(const std::string& path, const FillFn& fill) {
  const std::string tmp = path + ".tmp." + std::to_string(::getpid());
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return Status::IoError(Errno("cannot create", tmp));
  Status s;
  try {
    s = WriteTo(fd, tmp, fill);
  } catch (const std::bad_alloc&) {
    s = Status::ResourceExhausted(path + ": out of memory while writing");
  } catch (const std::exception& e) {
    s = Status::Internal(path + ": " + e.what());
  }
  if (s.ok() && ::fsync(fd) != 0) s = Status::IoError(Errno("fsync failed", tmp));
  if (::close(fd) != 0 && s.ok()) s = Status::IoError(Errno("close failed", tmp));
  if (s.ok() && std::rename(tmp.c_str(), path.c_str()) != 0) {
    s = Status::IoError(Errno("cannot rename temp file to", path));
  }
  if (!s.ok()) ::unlink(tmp.c_str());
  return s;
}

Status GgufWriter::WriteTo(int fd, const std::string& path, const FillFn& fill) {
  LayoutTensors();
  const bool has_alignment_key =
      std::any_of(entries_.begin(), entries_.end(), [](const Entry& e) { return e.key == kAlignmentKey; });
  const bool add_alignment_key = !has_alignment_key && alignment_ != kDefaultAlignment;

  std::vector<uint8_t> buf;
  buf.reserve(kFlushBytes + 4096);
  uint64_t written = 0;
  auto flush = [&]() -> Status {
    JARVIS_RETURN_IF_ERROR(WriteAll(fd, buf, path));
    written += buf.size();
    buf.clear();
    return Status::Ok();
  };
  auto maybe_flush = [&]() -> Status { return buf.size() >= kFlushBytes ? flush() : Status::Ok(); };

  buf.insert(buf.end(), {'G', 'G', 'U', 'F'});
  Append<uint32_t>(buf, kVersion);
  Append<uint64_t>(buf, tensors_.size());
  Append<uint64_t>(buf, entries_.size() + (add_alignment_key ? 1 : 0));
  for (const Entry& e : entries_) {
    AppendString(buf, e.key);
    if (e.key == kAlignmentKey) {  // always agrees with the layout we write
      Append<uint32_t>(buf, static_cast<uint32_t>(GgufValueType::kUint32));
      Append<uint32_t>(buf, alignment_);
    } else {
      Append<uint32_t>(buf, static_cast<uint32_t>(e.type));
      buf.insert(buf.end(), e.payload.begin(), e.payload.end());
    }
    JARVIS_RETURN_IF_ERROR(maybe_flush());
  }
  if (add_alignment_key) {
    AppendString(buf, kAlignmentKey);
    Append<uint32_t>(buf, static_cast<uint32_t>(GgufValueType::kUint32));
    Append<uint32_t>(buf, alignment_);
  }
  for (const GgufTensorPlan& t : tensors_) {
    AppendString(buf, t.name);
    Append<uint32_t>(buf, static_cast<uint32_t>(t.dims.size()));
    for (int64_t d : t.dims) Append<uint64_t>(buf, static_cast<uint64_t>(d));
    Append<uint32_t>(buf, static_cast<uint32_t>(t.type));
    Append<uint64_t>(buf, t.offset);
    JARVIS_RETURN_IF_ERROR(maybe_flush());
  }
  auto pad_to_alignment = [&]() {
    const uint64_t pos = written + buf.size();
    buf.resize(buf.size() + (alignment_ - pos % alignment_) % alignment_, 0);
  };
  pad_to_alignment();
  JARVIS_RETURN_IF_ERROR(flush());

  // Reused for every tensor, sized once for the largest: growing it tensor by
  // tensor would briefly hold the old and the new buffer together (an 8B
  // synth peaked at 730 MB that way).
  std::vector<uint8_t> data;
  uint64_t largest = 0;
  for (const GgufTensorPlan& t : tensors_) largest = std::max(largest, t.n_bytes);
  data.reserve(largest);
  for (size_t i = 0; i < tensors_.size(); ++i) {
    const GgufTensorPlan& t = tensors_[i];
    data.assign(t.n_bytes, 0);
    JARVIS_RETURN_IF_ERROR(fill(i, t, std::span<uint8_t>(data)));
    JARVIS_RETURN_IF_ERROR(WriteAll(fd, data, path));
    written += data.size();
    pad_to_alignment();
    JARVIS_RETURN_IF_ERROR(flush());
  }
  return Status::Ok();
}

}  // namespace jarvis
