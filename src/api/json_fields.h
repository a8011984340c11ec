// JsonFields: typed, range-checked reads of the optional fields of one JSON
// object, for request validation. A missing field or JSON null reads as
// "absent" (std::nullopt); a field of the wrong type or out of range is an
// error: the first one is kept (status()) and later reads return nullopt.
// Unknown fields are never looked at, so they are ignored.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "jarvis/status.h"

namespace jarvis::api {

class JsonFields {
 public:
  // `object` must outlive this reader. `prefix` names the object in messages
  // ("options." gives "'options.top_k' must be an integer").
  explicit JsonFields(const nlohmann::json& object, std::string prefix = "");

  std::optional<std::string> String(const char* key);
  std::optional<bool> Bool(const char* key);
  std::optional<double> Number(const char* key, double min, double max);
  // Accepts integral JSON numbers (also 16.0).
  std::optional<int64_t> Integer(const char* key, int64_t min, int64_t max);
  // A string or an array of strings (OpenAI/Ollama "stop").
  std::optional<std::vector<std::string>> StringOrStrings(const char* key);
  // The raw value when it is an object / array (else an error).
  const nlohmann::json* Object(const char* key);
  const nlohmann::json* Array(const char* key);
  // The raw value of any type, or nullptr when absent.
  const nlohmann::json* Raw(const char* key) const;

  bool ok() const { return status_.ok(); }
  const Status& status() const { return status_; }
  void Fail(const char* key, const std::string& what);

 private:
  const nlohmann::json& object_;
  std::string prefix_;
  Status status_;
};

// Parses a request body that must be a JSON object.
// Deeper nesting in a request body is refused (400) before parsing.
inline constexpr size_t kMaxJsonDepth = 64;
Result<nlohmann::json> ParseJsonObject(const std::string& body);

}  // namespace jarvis::api
