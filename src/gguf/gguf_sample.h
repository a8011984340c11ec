// A small GGUF file with every metadata value type, nested arrays and tensors
// of several types, for tests and as a fuzzing seed. Header-only so that test
// binaries and the fuzz seed tool can share it without a library of its own.
//
// Tensor data is a deterministic byte pattern (SampleByte) that readers can
// regenerate to compare.
#pragma once

#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "gguf/gguf_writer.h"

namespace jarvis::sample {

inline uint8_t SampleByte(size_t tensor_index, size_t i) {
  return static_cast<uint8_t>((i * 31 + tensor_index * 7 + (i >> 8)) & 0xff);
}

struct SampleTensor {
  const char* name;
  std::vector<int64_t> dims;
  GgmlType type;
};

inline std::vector<SampleTensor> SampleTensors() {
  return {{"tok.f32", {64, 3}, GgmlType::kF32},   {"a.f16", {17}, GgmlType::kF16},
          {"b.q4_0", {64, 2}, GgmlType::kQ4_0},   {"c.q8_0", {32, 1, 2}, GgmlType::kQ8_0},
          {"d.q4_k", {256, 2}, GgmlType::kQ4_K},  {"e.i8", {5}, GgmlType::kI8},
          {"f.q6_k", {256, 1, 1, 2}, GgmlType::kQ6_K}};
}

inline std::shared_ptr<const GgufArray> MakeArray(GgufValueType type, std::vector<GgufValue> items) {
  auto a = std::make_shared<GgufArray>();
  a->element_type = type;
  a->items = std::move(items);
  return a;
}

// Fills `w` with one key of every type (keys "t.<type>"), arrays, and tensors.
inline void FillSampleWriter(GgufWriter& w) {
  w.SetString("general.architecture", "sample");
  w.SetUint8("t.u8", 200);
  w.SetInt8("t.i8", -100);
  w.SetUint16("t.u16", 60000);
  w.SetInt16("t.i16", -30000);
  w.SetUint32("t.u32", 4000000000u);
  w.SetInt32("t.i32", -2000000000);
  w.SetUint64("t.u64", std::numeric_limits<uint64_t>::max());
  w.SetInt64("t.i64", std::numeric_limits<int64_t>::min());
  w.SetFloat32("t.f32", 1e-5f);
  w.SetFloat64("t.f64", -2.5e300);
  w.SetBool("t.bool", true);
  w.SetString("t.string", "h\xc3\xa9llo\n\"world\"");
  w.SetString("t.empty_string", "");
  w.SetStringArray("t.strings", {"<unk>", "", "a b", "\xe2\x96\x81the"});
  w.SetFloat32Array("t.floats", {0.5f, -1.0f, 3.25f});
  w.SetInt32Array("t.ints", {1, -2, 3, 2147483647});
  w.SetInt32Array("t.empty_array", {});
  // [[1, 2], [], [3]] of u16 and [["x"], [[true]]]-like mixed nesting.
  using T = GgufValueType;
  auto u16 = [](uint64_t v) { return GgufValue(T::kUint16, v); };
  GgufValue nested(T::kArray,
                   MakeArray(T::kArray, {GgufValue(T::kArray, MakeArray(T::kUint16, {u16(1), u16(2)})),
                                         GgufValue(T::kArray, MakeArray(T::kUint16, {})),
                                         GgufValue(T::kArray, MakeArray(T::kUint16, {u16(3)}))}));
  w.SetValue("t.nested", nested);
  GgufValue deep(T::kArray,
                 MakeArray(T::kArray,
                           {GgufValue(T::kArray,
                                      MakeArray(T::kArray, {GgufValue(T::kArray,
                                                                      MakeArray(T::kString,
                                                                                {GgufValue(T::kString, std::string_view("deep"))}))}))}));
  w.SetValue("t.deep", deep);
  for (const auto& t : SampleTensors()) {
    (void)w.AddTensor(t.name, t.dims, t.type);
  }
}

inline Status WriteSample(const std::string& path, uint32_t alignment = 32) {
  GgufWriter w;
  FillSampleWriter(w);
  w.SetAlignment(alignment);
  return w.WriteFile(path, [](size_t index, const GgufTensorPlan&, std::span<uint8_t> out) {
    for (size_t i = 0; i < out.size(); ++i) out[i] = SampleByte(index, i);
    return Status::Ok();
  });
}

}  // namespace jarvis::sample
