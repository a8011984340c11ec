#include "api/json_fields.h"

#include <algorithm>
#include <cmath>
#include <string_view>
#include <utility>

namespace jarvis::api {

JsonFields::JsonFields(const nlohmann::json& object, std::string prefix)
    : object_(object), prefix_(std::move(prefix)) {}

void JsonFields::Fail(const char* key, const std::string& what) {
  if (status_.ok()) status_ = Status::InvalidArgument("'" + prefix_ + key + "' " + what);
}

const nlohmann::json* JsonFields::Raw(const char* key) const {
  if (!object_.is_object()) return nullptr;
  auto it = object_.find(key);
  if (it == object_.end() || it->is_null()) return nullptr;
  return &*it;
}

std::optional<std::string> JsonFields::String(const char* key) {
  const nlohmann::json* v = Raw(key);
  if (v == nullptr || !ok()) return std::nullopt;
  if (!v->is_string()) {
    Fail(key, "must be a string");
    return std::nullopt;
  }
  return v->get<std::string>();
}

std::optional<bool> JsonFields::Bool(const char* key) {
  const nlohmann::json* v = Raw(key);
  if (v == nullptr || !ok()) return std::nullopt;
  if (!v->is_boolean()) {
    Fail(key, "must be a boolean");
    return std::nullopt;
  }
  return v->get<bool>();
}

std::optional<double> JsonFields::Number(const char* key, double min, double max) {
  const nlohmann::json* v = Raw(key);
  if (v == nullptr || !ok()) return std::nullopt;
  if (!v->is_number()) {
    Fail(key, "must be a number");
    return std::nullopt;
  }
  const double d = v->get<double>();
  if (!std::isfinite(d) || d < min || d > max) {
    Fail(key, "must be between " + nlohmann::json(min).dump() + " and " + nlohmann::json(max).dump());
    return std::nullopt;
  }
  return d;
}

std::optional<int64_t> JsonFields::Integer(const char* key, int64_t min, int64_t max) {
  const nlohmann::json* v = Raw(key);
  if (v == nullptr || !ok()) return std::nullopt;
  int64_t n = 0;
  if (v->is_number_unsigned()) {
    const uint64_t u = v->get<uint64_t>();
    n = u > static_cast<uint64_t>(INT64_MAX) ? INT64_MAX : static_cast<int64_t>(u);
  } else if (v->is_number_integer()) {
    n = v->get<int64_t>();
  } else if (v->is_number_float() && std::isfinite(v->get<double>()) &&
             std::floor(v->get<double>()) == v->get<double>() && std::fabs(v->get<double>()) < 9e18) {
    n = static_cast<int64_t>(v->get<double>());
  } else {
    Fail(key, "must be an integer");
    return std::nullopt;
  }
  if (n < min || n > max) {
    Fail(key, "must be between " + std::to_string(min) + " and " + std::to_string(max));
    return std::nullopt;
  }
  return n;
}

std::optional<std::vector<std::string>> JsonFields::StringOrStrings(const char* key) {
  const nlohmann::json* v = Raw(key);
  if (v == nullptr || !ok()) return std::nullopt;
  std::vector<std::string> out;
  if (v->is_string()) {
    out.push_back(v->get<std::string>());
  } else if (v->is_array()) {
    for (const auto& item : *v) {
      if (!item.is_string()) {
        Fail(key, "must be a string or an array of strings");
        return std::nullopt;
      }
      out.push_back(item.get<std::string>());
    }
  } else {
    Fail(key, "must be a string or an array of strings");
    return std::nullopt;
  }
  return out;
}

const nlohmann::json* JsonFields::Object(const char* key) {
  const nlohmann::json* v = Raw(key);
  if (v == nullptr || !ok()) return nullptr;
  if (!v->is_object()) {
    Fail(key, "must be an object");
    return nullptr;
  }
  return v;
}

const nlohmann::json* JsonFields::Array(const char* key) {
  const nlohmann::json* v = Raw(key);
  if (v == nullptr || !ok()) return nullptr;
  if (!v->is_array()) {
    Fail(key, "must be an array");
    return nullptr;
  }
  return v;
}

namespace {

// The deepest array/object nesting in `text` (strings skipped), stopping
// once past `limit`. Why: nlohmann's parser is iterative, but copying or
// walking a json value recurses, so a body of a million '[' would overflow
// the stack after parsing.
size_t NestingDepth(std::string_view text, size_t limit) {
  size_t depth = 0, deepest = 0;
  bool in_string = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      deepest = std::max(deepest, ++depth);
      if (deepest > limit) break;
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return deepest;
}

}  // namespace

Result<nlohmann::json> ParseJsonObject(const std::string& body) {
  if (NestingDepth(body, kMaxJsonDepth) > kMaxJsonDepth) {
    return Status::InvalidArgument("request body nests arrays/objects deeper than " + std::to_string(kMaxJsonDepth) +
                                   " levels");
  }
  nlohmann::json j = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return Status::InvalidArgument("request body is not valid JSON");
  if (!j.is_object()) return Status::InvalidArgument("request body must be a JSON object");
  return j;
}

}  // namespace jarvis::api
