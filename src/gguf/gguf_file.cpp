// GgufFile lookups and typed getters over already-validated content.
#include "gguf/gguf_reader.h"

namespace jarvis {

int64_t GgufTensorInfo::rows() const {
  int64_t r = 1;
  for (size_t i = 1; i < dims.size(); ++i) r *= dims[i];  // validated: no overflow
  return r;
}

GgufFile::~GgufFile() = default;

const GgufValue* GgufFile::Find(std::string_view key) const {
  auto it = key_index_.find(key);
  return it == key_index_.end() ? nullptr : &metadata_[it->second].value;
}

namespace {

Status Missing(const std::string& file, std::string_view key) {
  return Status::NotFound(file + ": metadata key '" + std::string(key) + "' not found");
}

Status WrongType(const std::string& file, std::string_view key, const GgufValue& v,
                 const char* wanted) {
  return Status::InvalidArgument(file + ": metadata key '" + std::string(key) + "' is " +
                                 GgufValueTypeName(v.type()) + " " + v.ToDisplayString() +
                                 ", expected " + wanted);
}

}  // namespace

Result<uint64_t> GgufFile::GetUint(std::string_view key) const {
  const GgufValue* v = Find(key);
  if (v == nullptr) return Missing(name_, key);
  if (auto u = v->as_uint()) return *u;
  return WrongType(name_, key, *v, "a non-negative integer");
}

Result<double> GgufFile::GetFloat(std::string_view key) const {
  const GgufValue* v = Find(key);
  if (v == nullptr) return Missing(name_, key);
  if (auto d = v->as_float()) return *d;
  return WrongType(name_, key, *v, "a number");
}

Result<std::string_view> GgufFile::GetString(std::string_view key) const {
  const GgufValue* v = Find(key);
  if (v == nullptr) return Missing(name_, key);
  if (auto s = v->as_string()) return *s;
  return WrongType(name_, key, *v, "a string");
}

Result<bool> GgufFile::GetBool(std::string_view key) const {
  const GgufValue* v = Find(key);
  if (v == nullptr) return Missing(name_, key);
  if (auto b = v->as_bool()) return *b;
  return WrongType(name_, key, *v, "a bool");
}

const GgufArray* GgufFile::GetArray(std::string_view key) const {
  const GgufValue* v = Find(key);
  return v == nullptr ? nullptr : v->as_array();
}

const GgufTensorInfo* GgufFile::FindTensor(std::string_view name) const {
  auto it = tensor_index_.find(name);
  return it == tensor_index_.end() ? nullptr : &tensors_[it->second];
}

uint64_t GgufFile::ParameterCount() const {
  uint64_t n = 0;
  for (const auto& t : tensors_) n += t.n_elements;
  return n;
}

uint64_t GgufFile::TensorBytes() const {
  uint64_t n = 0;
  for (const auto& t : tensors_) n += t.n_bytes;
  return n;
}

}  // namespace jarvis
