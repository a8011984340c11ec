#include "constrain/json_schema_grammar.h"

#include <algorithm>
#include <cstdio>
#include <map>
#include <optional>
#include <set>
#include <vector>

namespace jarvis::constrain {
namespace {

using nlohmann::json;

// Shared rules every generated grammar carries (unused ones cost nothing).
constexpr const char* kJsonBasics = R"(ws ::= ( " " | "\n" [ \t]{0,16} )?
char ::= [^"\\\x00-\x1F] | "\\" ( ["\\/bfnrt] | "u" [0-9a-fA-F]{4} )
string ::= "\"" char* "\""
intpart ::= "0" | [1-9] [0-9]{0,15}
integer ::= "-"? intpart
number ::= "-"? intpart ( "." [0-9]{1,16} )? ( [eE] [-+]? [0-9]{1,3} )?
boolean ::= "true" | "false"
null ::= "null"
value ::= object | array | string | number | boolean | null
member ::= string ws ":" ws value ws
object ::= "{" ws ( member ( "," ws member )* )? "}"
array ::= "[" ws ( value ws ( "," ws value ws )* )? "]"
)";

constexpr int kMaxSchemaDepth = 64;
constexpr int64_t kMaxBound = 9999999999999999;  // 16 digits, as intpart

const std::set<std::string>& AllowedKeywords() {
  static const std::set<std::string> k = {
      "type", "properties", "required", "additionalProperties", "enum", "const", "anyOf", "oneOf",
      "items", "minItems", "maxItems", "minLength", "maxLength", "minimum", "maximum", "exclusiveMinimum",
      "exclusiveMaximum", "$ref", "$defs", "definitions", "title", "description", "default", "examples",
      "$schema", "$id", "$comment", "strict"};
  return k;
}

std::string Alternatives(const std::vector<std::string>& alts) {
  if (alts.size() == 1) return alts[0];
  std::string s = "( ";
  for (size_t i = 0; i < alts.size(); ++i) {
    if (i) s += " | ";
    s += alts[i];
  }
  return s + " )";
}

// Decimal strings of equal length a <= b: an expression for every string of
// that length in [a, b] (leading zeros allowed; the caller fixes the length).
std::string SameLengthRange(const std::string& a, const std::string& b) {
  if (a.empty()) return "\"\"";
  if (a == b) return GbnfLiteral(a);
  const size_t k = a.size() - 1;
  const std::string digits_k = k == 0 ? "" : " [0-9]{" + std::to_string(k) + "}";
  if (a[0] == b[0]) return GbnfLiteral(a.substr(0, 1)) + " " + SameLengthRange(a.substr(1), b.substr(1));
  const bool a_rest_zero = a.find_first_not_of('0', 1) == std::string::npos;
  const bool b_rest_nine = b.find_first_not_of('9', 1) == std::string::npos;
  if (a_rest_zero && b_rest_nine) return std::string("[") + a[0] + "-" + b[0] + "]" + digits_k;
  std::vector<std::string> alts;
  alts.push_back(GbnfLiteral(a.substr(0, 1)) + " " + SameLengthRange(a.substr(1), std::string(k, '9')));
  if (a[0] + 1 <= b[0] - 1) {
    alts.push_back(std::string("[") + static_cast<char>(a[0] + 1) + "-" + static_cast<char>(b[0] - 1) + "]" + digits_k);
  }
  alts.push_back(GbnfLiteral(b.substr(0, 1)) + " " + SameLengthRange(std::string(k, '0'), b.substr(1)));
  return Alternatives(alts);
}

// Decimal integers without leading zeros in [lo, hi], 0 <= lo <= hi <= kMaxBound.
std::string NonNegativeRange(int64_t lo, int64_t hi) {
  std::vector<std::string> alts;
  int64_t len_start = 0;  // smallest number with the current digit count
  int64_t len_end = 9;
  for (size_t len = 1; len <= 16 && len_start <= hi; ++len) {
    const int64_t a = std::max(lo, len_start), b = std::min(hi, len_end);
    if (a <= b) alts.push_back(SameLengthRange(std::to_string(a), std::to_string(b)));
    len_start = len_end + 1;
    len_end = len_end * 10 + 9;
  }
  return Alternatives(alts);
}

class SchemaCompiler {
 public:
  explicit SchemaCompiler(const json& root) : root_(root) {}

  Result<std::string> CompileRoot(const std::string& prefix, const std::string& suffix) {
    JARVIS_ASSIGN_OR_RETURN(std::string body, Value(root_, 0));
    std::string root = "root ::= ";
    if (!prefix.empty()) root += GbnfLiteral(prefix) + " ";
    root += body;
    if (!suffix.empty()) root += " " + GbnfLiteral(suffix);
    std::string out = root + "\n" + kJsonBasics;
    for (const std::string& r : rules_) out += r + "\n";
    return out;
  }

 private:
  std::string NewRule(const std::string& body) {
    const std::string name = "s" + std::to_string(rules_.size() + reserved_);
    rules_.push_back(name + " ::= " + body);
    return name;
  }

  Result<std::string> Value(const json& s, int depth) {
    if (depth > kMaxSchemaDepth) return Status::InvalidArgument("the JSON schema nests deeper than 64 levels");
    if (s.is_boolean()) {
      if (s.get<bool>()) return std::string("value");
      return Status::InvalidArgument("the JSON schema `false` matches nothing");
    }
    if (!s.is_object()) return Status::InvalidArgument("a JSON schema must be an object or a boolean");
    for (const auto& [key, v] : s.items()) {
      if (AllowedKeywords().count(key) == 0) {
        return Status::InvalidArgument("unsupported JSON Schema keyword '" + key + "'");
      }
    }
    if (s.contains("$ref")) return Ref(s["$ref"], depth);
    if (s.contains("const")) return Literal(s["const"]);
    if (s.contains("enum")) {
      const json& e = s["enum"];
      if (!e.is_array() || e.empty()) return Status::InvalidArgument("JSON schema: enum must be a non-empty array");
      std::vector<std::string> alts;
      for (const json& v : e) {
        JARVIS_ASSIGN_OR_RETURN(std::string lit, Literal(v));
        alts.push_back(lit);
      }
      return Alternatives(alts);
    }
    for (const char* key : {"anyOf", "oneOf"}) {
      if (!s.contains(key)) continue;
      const json& list = s[key];
      if (!list.is_array() || list.empty()) {
        return Status::InvalidArgument(std::string("JSON schema: ") + key + " must be a non-empty array");
      }
      std::vector<std::string> alts;
      for (const json& branch : list) {
        JARVIS_ASSIGN_OR_RETURN(std::string b, Value(branch, depth + 1));
        alts.push_back(b);
      }
      return Alternatives(alts);
    }
    std::vector<std::string> types;
    if (s.contains("type")) {
      const json& t = s["type"];
      if (t.is_string()) {
        types.push_back(t.get<std::string>());
      } else if (t.is_array() && !t.empty()) {
        for (const json& x : t) {
          if (!x.is_string()) return Status::InvalidArgument("JSON schema: type must be a string or strings");
          types.push_back(x.get<std::string>());
        }
      } else {
        return Status::InvalidArgument("JSON schema: type must be a string or a non-empty array");
      }
    } else if (s.contains("properties") || s.contains("required") || s.contains("additionalProperties")) {
      types.push_back("object");
    } else if (s.contains("items") || s.contains("minItems") || s.contains("maxItems")) {
      types.push_back("array");
    } else if (s.contains("minLength") || s.contains("maxLength")) {
      types.push_back("string");
    } else if (s.contains("minimum") || s.contains("maximum")) {
      types.push_back("number");
    } else {
      return std::string("value");
    }
    std::vector<std::string> alts;
    for (const std::string& t : types) {
      JARVIS_ASSIGN_OR_RETURN(std::string a, Typed(s, t, depth));
      alts.push_back(a);
    }
    return Alternatives(alts);
  }

  Result<std::string> Literal(const json& v) {
    try {
      return GbnfLiteral(v.dump());
    } catch (const json::exception& e) {
      return Status::InvalidArgument(std::string("JSON schema: bad const/enum value: ") + e.what());
    }
  }

  Result<std::string> Ref(const json& ref, int depth) {
    if (!ref.is_string()) return Status::InvalidArgument("JSON schema: $ref must be a string");
    const std::string path = ref.get<std::string>();
    auto it = refs_.find(path);
    if (it != refs_.end()) return it->second;
    if (path.empty() || path[0] != '#') {
      return Status::InvalidArgument("JSON schema: only local $ref (#/...) is supported, not '" + path + "'");
    }
    const json* target = nullptr;
    try {
      target = &root_.at(json::json_pointer(path.substr(1)));
    } catch (const json::exception&) {
      return Status::InvalidArgument("JSON schema: $ref '" + path + "' does not resolve");
    }
    // Name the rule before compiling its body, so recursive schemas refer to it.
    const std::string name = "ref" + std::to_string(refs_.size());
    refs_.emplace(path, name);
    JARVIS_ASSIGN_OR_RETURN(std::string body, Value(*target, depth + 1));
    rules_.push_back(name + " ::= " + body);
    return name;
  }

  static Result<std::optional<int64_t>> IntField(const json& s, const char* key) {
    if (!s.contains(key)) return std::optional<int64_t>();
    const json& v = s[key];
    if (!v.is_number()) return Status::InvalidArgument(std::string("JSON schema: ") + key + " must be a number");
    if (v.is_number_float()) {
      const double d = v.get<double>();
      if (d != static_cast<double>(static_cast<int64_t>(d))) {
        return Status::InvalidArgument(std::string("JSON schema: ") + key + " must be an integer here");
      }
    }
    const double d = v.get<double>();
    if (d < -static_cast<double>(kMaxBound) || d > static_cast<double>(kMaxBound)) {
      return Status::InvalidArgument(std::string("JSON schema: ") + key + " is beyond 16 digits");
    }
    return std::optional<int64_t>(static_cast<int64_t>(d));
  }

  Result<std::string> Typed(const json& s, const std::string& type, int depth) {
    if (type == "string") return String(s);
    if (type == "integer") return Integer(s);
    if (type == "number") {
      for (const char* k : {"minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"}) {
        if (s.contains(k)) {
          return Status::InvalidArgument(std::string("unsupported JSON Schema keyword '") + k +
                                         "' on type number (supported on integer)");
        }
      }
      return std::string("number");
    }
    if (type == "boolean") return std::string("boolean");
    if (type == "null") return std::string("null");
    if (type == "object") return Object(s, depth);
    if (type == "array") return Array(s, depth);
    return Status::InvalidArgument("JSON schema: unknown type '" + type + "'");
  }

  Result<std::string> String(const json& s) {
    JARVIS_ASSIGN_OR_RETURN(auto min, IntField(s, "minLength"));
    JARVIS_ASSIGN_OR_RETURN(auto max, IntField(s, "maxLength"));
    if (!min && !max) return std::string("string");
    const int64_t lo = min.value_or(0);
    if (lo < 0 || (max && (*max < lo)) || lo > 10000 || (max && *max > 10000)) {
      return Status::InvalidArgument("JSON schema: minLength/maxLength must satisfy 0 <= min <= max <= 10000");
    }
    const std::string count = max ? "{" + std::to_string(lo) + "," + std::to_string(*max) + "}"
                                   : "{" + std::to_string(lo) + ",}";
    return NewRule("\"\\\"\" char" + count + " \"\\\"\"");
  }

  Result<std::string> Integer(const json& s) {
    JARVIS_ASSIGN_OR_RETURN(auto min, IntField(s, "minimum"));
    JARVIS_ASSIGN_OR_RETURN(auto max, IntField(s, "maximum"));
    JARVIS_ASSIGN_OR_RETURN(auto xmin, IntField(s, "exclusiveMinimum"));
    JARVIS_ASSIGN_OR_RETURN(auto xmax, IntField(s, "exclusiveMaximum"));
    if (xmin) min = std::max(min.value_or(*xmin + 1), *xmin + 1);
    if (xmax) max = std::min(max.value_or(*xmax - 1), *xmax - 1);
    if (!min && !max) return std::string("integer");
    if (min && max && *min > *max) return Status::InvalidArgument("JSON schema: minimum is above maximum");
    std::vector<std::string> alts;
    const int64_t lo = min.value_or(-kMaxBound), hi = max.value_or(kMaxBound);
    if (lo < 0) {  // -n for n in [max(1, -hi), -lo]
      alts.push_back("\"-\" " + NonNegativeRange(std::max<int64_t>(1, hi < 0 ? -hi : 1), -lo));
    }
    if (hi >= 0) alts.push_back(NonNegativeRange(std::max<int64_t>(0, lo), hi));
    return NewRule(Alternatives(alts));
  }

  Result<std::string> Object(const json& s, int depth) {
    const json* props = s.contains("properties") ? &s["properties"] : nullptr;
    if (props && !props->is_object()) return Status::InvalidArgument("JSON schema: properties must be an object");
    std::set<std::string> required;
    if (s.contains("required")) {
      if (!s["required"].is_array()) return Status::InvalidArgument("JSON schema: required must be an array");
      for (const json& r : s["required"]) {
        if (!r.is_string()) return Status::InvalidArgument("JSON schema: required must list strings");
        required.insert(r.get<std::string>());
      }
    }
    const json additional = s.contains("additionalProperties") ? s["additionalProperties"] : json(true);
    if (!additional.is_boolean() && !additional.is_object()) {
      return Status::InvalidArgument("JSON schema: additionalProperties must be a boolean or a schema");
    }
    if ((!props || props->empty()) && required.empty()) {
      if (additional.is_boolean()) return std::string(additional.get<bool>() ? "object" : "( \"{\" ws \"}\" )");
      JARVIS_ASSIGN_OR_RETURN(std::string v, Value(additional, depth + 1));
      const std::string kv = NewRule("string ws \":\" ws " + v + " ws");
      return NewRule("\"{\" ws ( " + kv + " ( \",\" ws " + kv + " )* )? \"}\"");
    }
    struct Prop {
      std::string kv;
      bool required;
    };
    std::vector<Prop> list;
    std::set<std::string> declared;
    if (props) {
      for (const auto& [name, sub] : props->items()) {
        JARVIS_ASSIGN_OR_RETURN(std::string v, Value(sub, depth + 1));
        JARVIS_ASSIGN_OR_RETURN(std::string key, Literal(json(name)));
        list.push_back({NewRule(key + " ws \":\" ws " + v + " ws"), required.count(name) != 0});
        declared.insert(name);
      }
    }
    for (const std::string& name : required) {  // required but not described: any value
      if (declared.count(name)) continue;
      JARVIS_ASSIGN_OR_RETURN(std::string key, Literal(json(name)));
      list.push_back({NewRule(key + " ws \":\" ws value ws"), true});
    }
    // after[i]: properties i.. once something was written (each needs a comma);
    // first[i]: properties i.. when nothing was written yet.
    const size_t n = list.size();
    std::vector<std::string> after(n + 1), first(n + 1);
    after[n] = "\"\"";
    first[n] = "\"\"";
    for (size_t i = n; i-- > 0;) {
      const std::string with_comma = "\",\" ws " + list[i].kv;
      after[i] = NewRule((list[i].required ? with_comma : "( " + with_comma + " )?") + " " + after[i + 1]);
      const std::string start_here = list[i].kv + " " + after[i + 1];
      first[i] = NewRule(list[i].required ? start_here : start_here + " | " + first[i + 1]);
    }
    return NewRule("\"{\" ws " + first[0] + " \"}\"");
  }

  Result<std::string> Array(const json& s, int depth) {
    std::string item = "value";
    if (s.contains("items")) {
      if (s["items"].is_array()) return Status::InvalidArgument("unsupported JSON Schema keyword 'items' as an array (tuples)");
      JARVIS_ASSIGN_OR_RETURN(item, Value(s["items"], depth + 1));
    }
    JARVIS_ASSIGN_OR_RETURN(auto min, IntField(s, "minItems"));
    JARVIS_ASSIGN_OR_RETURN(auto max, IntField(s, "maxItems"));
    const int64_t lo = min.value_or(0);
    if (lo < 0 || (max && *max < lo) || lo > 10000 || (max && *max > 10000)) {
      return Status::InvalidArgument("JSON schema: minItems/maxItems must satisfy 0 <= min <= max <= 10000");
    }
    if (max && *max == 0) return std::string("( \"[\" ws \"]\" )");
    const std::string elem = NewRule(item + " ws");
    const std::string more_lo = std::to_string(std::max<int64_t>(0, lo - 1));
    const std::string more = "( \",\" ws " + elem + " )" +
                             (max ? "{" + more_lo + "," + std::to_string(*max - 1) + "}" : "{" + more_lo + ",}");
    const std::string body = elem + " " + more;
    return NewRule("\"[\" ws " + (lo == 0 ? "( " + body + " )?" : body) + " \"]\"");
  }

  const json& root_;
  std::vector<std::string> rules_;
  std::map<std::string, std::string> refs_;
  size_t reserved_ = 0;
};

}  // namespace

std::string GbnfLiteral(std::string_view text) {
  std::string out = "\"";
  for (char ch : text) {
    const unsigned char c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20 || c == 0x7F) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\x%02X", c);
          out += buf;
        } else {
          out += ch;
        }
    }
  }
  return out + "\"";
}

Result<std::string> JsonSchemaToGbnf(const nlohmann::json& schema) {
  return SchemaCompiler(schema).CompileRoot("", "");
}

std::string JsonObjectGbnf() { return std::string("root ::= object\n") + kJsonBasics; }

Result<std::string> JsonValueBetweenLiteralsGbnf(std::string_view prefix, const nlohmann::json& schema,
                                                 std::string_view suffix) {
  return SchemaCompiler(schema).CompileRoot(std::string(prefix), std::string(suffix));
}

}  // namespace jarvis::constrain
