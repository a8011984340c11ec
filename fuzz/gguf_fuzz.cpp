// libFuzzer target: GgufFile::FromBuffer over arbitrary bytes must return an
// error or a file whose every value and tensor can be read without touching
// memory outside the input (ASan/UBSan report any such access).
#include <cstddef>
#include <cstdint>
#include <span>

#include "gguf/gguf_reader.h"

namespace {

// Accumulates into a volatile sink so the reads cannot be optimised away.
volatile uint64_t g_sink = 0;

void Touch(const jarvis::GgufValue& v) {
  uint64_t h = static_cast<uint64_t>(v.type());
  h += v.as_uint().value_or(0) + static_cast<uint64_t>(v.as_int().value_or(0));
  h += static_cast<uint64_t>(v.as_float().value_or(0.0) != 0.0) + v.as_bool().value_or(false);
  if (auto s = v.as_string()) {
    for (char c : *s) h += static_cast<unsigned char>(c);
  }
  h += v.ToDisplayString(16).size();
  if (const jarvis::GgufArray* a = v.as_array()) {
    h += static_cast<uint64_t>(a->element_type);
    for (const auto& item : a->items) Touch(item);
  }
  g_sink = g_sink + h;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto r = jarvis::GgufFile::FromBuffer(std::span<const uint8_t>(data, size), "fuzz");
  if (!r.ok()) {
    g_sink = g_sink + r.status().message().size();
    return 0;
  }
  const jarvis::GgufFile& f = **r;
  uint64_t h = f.version() + f.alignment() + f.data_offset() + f.file_size();
  for (const auto& kv : f.metadata()) {
    h += kv.key.size() + static_cast<unsigned char>(kv.key.front());
    Touch(kv.value);
    if (f.Find(kv.key) != &kv.value) __builtin_trap();  // index must agree
    h += f.GetUint(kv.key).ok() + f.GetFloat(kv.key).ok() + f.GetString(kv.key).ok() +
         f.GetBool(kv.key).ok() + (f.GetArray(kv.key) != nullptr);
  }
  for (const auto& t : f.tensors()) {
    if (f.FindTensor(t.name) != &t) __builtin_trap();
    h += static_cast<uint64_t>(t.rows()) + t.n_elements + t.dims.size();
    // First and last byte of every tensor must lie inside the input.
    h += t.data[0] + t.data[t.n_bytes - 1];
  }
  h += f.ParameterCount() + f.TensorBytes();
  g_sink = g_sink + h;
  return 0;
}
