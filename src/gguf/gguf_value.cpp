// GgufValue: converting getters and display form of one metadata value.
#include <cinttypes>
#include <cstdio>
#include <limits>

#include "gguf/gguf_reader.h"

namespace jarvis {

const char* GgufValueTypeName(GgufValueType type) {
  switch (type) {
    case GgufValueType::kUint8: return "u8";
    case GgufValueType::kInt8: return "i8";
    case GgufValueType::kUint16: return "u16";
    case GgufValueType::kInt16: return "i16";
    case GgufValueType::kUint32: return "u32";
    case GgufValueType::kInt32: return "i32";
    case GgufValueType::kFloat32: return "f32";
    case GgufValueType::kBool: return "bool";
    case GgufValueType::kString: return "string";
    case GgufValueType::kArray: return "array";
    case GgufValueType::kUint64: return "u64";
    case GgufValueType::kInt64: return "i64";
    case GgufValueType::kFloat64: return "f64";
  }
  return "unknown";
}

bool GgufValue::is_integer() const {
  return std::holds_alternative<uint64_t>(v_) || std::holds_alternative<int64_t>(v_);
}

std::optional<uint64_t> GgufValue::as_uint() const {
  if (const auto* u = std::get_if<uint64_t>(&v_)) return *u;
  if (const auto* i = std::get_if<int64_t>(&v_)) {
    if (*i >= 0) return static_cast<uint64_t>(*i);
  }
  return std::nullopt;
}

std::optional<int64_t> GgufValue::as_int() const {
  if (const auto* i = std::get_if<int64_t>(&v_)) return *i;
  if (const auto* u = std::get_if<uint64_t>(&v_)) {
    if (*u <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      return static_cast<int64_t>(*u);
    }
  }
  return std::nullopt;
}

std::optional<double> GgufValue::as_float() const {
  if (const auto* d = std::get_if<double>(&v_)) return *d;
  if (const auto* u = std::get_if<uint64_t>(&v_)) return static_cast<double>(*u);
  if (const auto* i = std::get_if<int64_t>(&v_)) return static_cast<double>(*i);
  return std::nullopt;
}

std::optional<bool> GgufValue::as_bool() const {
  if (const auto* b = std::get_if<bool>(&v_)) return *b;
  return std::nullopt;
}

std::optional<std::string_view> GgufValue::as_string() const {
  if (const auto* s = std::get_if<std::string_view>(&v_)) return *s;
  return std::nullopt;
}

const GgufArray* GgufValue::as_array() const {
  if (const auto* a = std::get_if<std::shared_ptr<const GgufArray>>(&v_)) return a->get();
  return nullptr;
}

std::string GgufValue::ToDisplayString(size_t max_len) const {
  char buf[64];
  if (const auto* u = std::get_if<uint64_t>(&v_)) {
    std::snprintf(buf, sizeof(buf), "%" PRIu64, *u);
    return buf;
  }
  if (const auto* i = std::get_if<int64_t>(&v_)) {
    std::snprintf(buf, sizeof(buf), "%" PRId64, *i);
    return buf;
  }
  if (const auto* d = std::get_if<double>(&v_)) {
    std::snprintf(buf, sizeof(buf), "%g", *d);
    return buf;
  }
  if (const auto* b = std::get_if<bool>(&v_)) return *b ? "true" : "false";
  if (const auto* s = std::get_if<std::string_view>(&v_)) {
    // Control characters (newlines in chat templates) would break a one-line
    // display; show them as escapes.
    std::string out = "\"";
    for (char c : *s) {
      if (out.size() > max_len) {
        out += "...";
        break;
      }
      if (c == '\n') {
        out += "\\n";
      } else if (c == '"' || c == '\\') {
        out += '\\';
        out += c;
      } else if (static_cast<unsigned char>(c) < 0x20) {
        std::snprintf(buf, sizeof(buf), "\\x%02x", static_cast<unsigned char>(c));
        out += buf;
      } else {
        out += c;
      }
    }
    out += '"';
    return out;
  }
  const GgufArray* a = as_array();
  if (a == nullptr) return "?";
  return "[array of " + std::to_string(a->items.size()) + " " +
         GgufValueTypeName(a->element_type) + "]";
}

}  // namespace jarvis
