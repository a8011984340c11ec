// The values a Jinja template computes with, modelled on the Python objects
// jinja2 hands a template (None, bool, int, float, str, list, dict, callables,
// Undefined, namespace()).
//
// Lists, dicts and namespaces are shared by reference, as in Python: a
// namespace mutated inside a loop is seen after it. Dicts keep insertion order
// (Python 3.7+), which tojson and iteration expose. Strings are UTF-8; the
// operations Python defines on code points (len, indexing, slicing, iterating)
// work on code points.
//
// Thread safety: a Value graph belongs to one render; distinct renders share
// nothing.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace jarvis::jinja {

// A template error: what jinja2 would raise. The interpreter throws it
// internally; the public entry points (jinja_template.h) turn it into a Status.
class JinjaError : public std::runtime_error {
 public:
  explicit JinjaError(const std::string& message) : std::runtime_error(message) {}
};

class Value;
struct Dict;

// Lists and dicts nest at most this deep, so that printing, tojson, ==
// and destruction (all recursive) cannot exhaust the stack.
inline constexpr uint32_t kMaxValueDepth = 256;
using List = std::vector<Value>;
struct CallArgs;
using NativeFunction = std::function<Value(CallArgs&)>;

class Value {
 public:
  enum class Kind { kUndefined, kNone, kBool, kInt, kFloat, kString, kList, kDict, kFunction, kNamespace };

  Value() = default;  // Undefined
  static Value Undefined(std::string hint = {});
  static Value None();
  static Value Bool(bool b);
  static Value Int(int64_t i);
  static Value Float(double f);
  static Value String(std::string s);
  // markupsafe.Markup (what |safe and |escape return): concatenating it with
  // a plain str HTML-escapes the plain side, as Python does.
  static Value SafeString(std::string s);
  static Value MakeList(List items = {});
  // A lazily computed sequence in jinja2 (map, select, ...): iterates like a
  // list but has no len() and tojson refuses it, as in Python.
  static Value Generator(List items);
  static Value MakeDict();
  static Value Function(std::string name, NativeFunction fn);
  static Value Namespace();
  static Value FromJson(const nlohmann::ordered_json& j);

  Kind kind() const { return kind_; }
  bool is_undefined() const { return kind_ == Kind::kUndefined; }
  bool is_none() const { return kind_ == Kind::kNone; }
  bool is_bool() const { return kind_ == Kind::kBool; }
  bool is_int() const { return kind_ == Kind::kInt; }
  bool is_float() const { return kind_ == Kind::kFloat; }
  bool is_number() const { return kind_ == Kind::kInt || kind_ == Kind::kFloat || kind_ == Kind::kBool; }
  bool is_string() const { return kind_ == Kind::kString; }
  bool is_list() const { return kind_ == Kind::kList; }
  bool is_dict() const { return kind_ == Kind::kDict; }
  bool is_function() const { return kind_ == Kind::kFunction; }
  bool is_namespace() const { return kind_ == Kind::kNamespace; }
  bool is_generator() const { return kind_ == Kind::kList && generator_; }
  bool is_safe() const { return kind_ == Kind::kString && generator_; }

  bool AsBool() const { return b_; }
  int64_t AsInt() const { return kind_ == Kind::kBool ? (b_ ? 1 : 0) : i_; }
  double AsFloat() const { return kind_ == Kind::kFloat ? f_ : static_cast<double>(AsInt()); }
  const std::string& AsString() const { return *s_; }
  List& AsList() const { return *list_; }
  Dict& AsDict() const { return *dict_; }  // dicts and namespaces
  const std::string& function_name() const { return *s_; }
  const NativeFunction& function() const { return *fn_; }
  // Why a value is undefined ("'x' is undefined"), for the error raised when
  // it is used in a way Undefined forbids.
  const std::string& undefined_hint() const { return *s_; }

  // 0 for scalars, 1 + the deepest element for lists and dicts.
  uint32_t depth() const;

  // Python truthiness.
  bool Truthy() const;
  // Python's type name ("NoneType", "str", "dict", ...), for error messages.
  std::string TypeName() const;
  // Iteration as Python does it: list items, dict keys, string code points;
  // Undefined iterates as empty; anything else raises.
  List Iterate() const;
  // Python ==.
  bool Equals(const Value& other) const;

 private:
  Kind kind_ = Kind::kUndefined;
  bool b_ = false;
  bool generator_ = false;  // lists: a generator; strings: Markup
  uint32_t depth_ = 0;  // lists (dicts keep theirs in Dict::depth)
  int64_t i_ = 0;
  double f_ = 0.0;
  std::shared_ptr<const std::string> s_ = std::make_shared<const std::string>();
  std::shared_ptr<List> list_;
  std::shared_ptr<Dict> dict_;
  std::shared_ptr<NativeFunction> fn_;
};

// An insertion-ordered map from string keys (JSON and templates only use
// string keys; other keys are converted to their str()).
struct Dict {
  std::vector<std::pair<std::string, Value>> items;
  uint32_t depth = 1;  // see Value::depth(); Set raises past kMaxValueDepth

  const Value* Find(std::string_view key) const;
  Value* Find(std::string_view key);
  void Set(const std::string& key, Value value);
};

// Arguments of a call: positional, then keyword (in call order).
struct CallArgs {
  std::vector<Value> positional;
  std::vector<std::pair<std::string, Value>> keyword;

  // Binds the argument named `name` at position `index` (positional first,
  // then keyword); `fallback` when absent. Used by built-ins.
  Value Get(size_t index, std::string_view name, Value fallback = Value()) const;
  bool Has(size_t index, std::string_view name) const;
};

// --- Conversions --------------------------------------------------------------

// Python's str(): None -> "None", True -> "True", 1.0 -> "1.0", lists and
// dicts as their repr(); Undefined -> "".
std::string ToStr(const Value& v);
// Python's repr() (strings quoted).
std::string Repr(const Value& v);
// Python's float repr ("1.0", "0.1", "1e-05", "1e+16", "inf", "nan").
std::string FormatFloat(double f);

struct JsonDumpOptions {
  int indent = -1;                 // < 0: single line
  std::string indent_text;         // used instead of `indent` spaces when non-empty
  std::string item_separator;      // empty: Python's default (", " or "," with indent)
  std::string key_separator;       // empty: ": "
  bool has_separators = false;     // item/key separators given explicitly
  bool sort_keys = false;
  bool ensure_ascii = false;
};
// json.dumps as transformers' tojson calls it (ensure_ascii=False by default).
// Raises for values JSON cannot hold (Undefined, generators, functions).
std::string ToJson(const Value& v, const JsonDumpOptions& options);

// --- UTF-8 code points (Python str semantics) --------------------------------

std::vector<std::string_view> CodePoints(std::string_view s);
size_t CodePointCount(std::string_view s);

}  // namespace jarvis::jinja
