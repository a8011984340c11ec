#include "chat/jinja_builtins.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ctime>

namespace jarvis::jinja {
namespace {

// --- Python str helpers (code points; case mapping is ASCII-only) -----------

uint32_t DecodeCodePoint(std::string_view cp) {
  const unsigned char c = static_cast<unsigned char>(cp[0]);
  if (cp.size() == 1) return c;
  uint32_t v = c & (0xFF >> (cp.size() + 1));
  for (size_t i = 1; i < cp.size(); ++i) v = (v << 6) | (static_cast<unsigned char>(cp[i]) & 0x3F);
  return v;
}

// str.isspace() / the default of str.strip() and str.split().
bool IsPyWhitespace(uint32_t c) {
  return c == ' ' || (c >= 0x09 && c <= 0x0D) || (c >= 0x1C && c <= 0x1F) || c == 0x85 || c == 0xA0 ||
         c == 0x1680 || (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F ||
         c == 0x205F || c == 0x3000;
}

std::string Strip(const std::string& s, const Value& chars, bool left, bool right) {
  const auto cps = CodePoints(s);
  std::vector<std::string_view> set;
  const bool by_set = chars.is_string();
  if (by_set) set = CodePoints(chars.AsString());
  auto strip_it = [&](std::string_view cp) {
    if (by_set) return std::find(set.begin(), set.end(), cp) != set.end();
    return IsPyWhitespace(DecodeCodePoint(cp));
  };
  size_t b = 0, e = cps.size();
  if (left)
    while (b < e && strip_it(cps[b])) ++b;
  if (right)
    while (e > b && strip_it(cps[e - 1])) --e;
  std::string out;
  for (size_t i = b; i < e; ++i) out += cps[i];
  return out;
}

std::string Lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}
std::string Upper(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}
std::string Capitalize(const std::string& s) {
  std::string out = Lower(s);
  if (!out.empty()) out[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(out[0])));
  return out;
}
// Python's str.title(): a letter after a non-letter is upper-cased, others lower.
std::string Title(const std::string& s) {
  std::string out = s;
  bool prev_letter = false;
  for (auto& c : out) {
    const bool letter = std::isalpha(static_cast<unsigned char>(c)) != 0;
    if (letter) c = static_cast<char>(prev_letter ? std::tolower(static_cast<unsigned char>(c))
                                                  : std::toupper(static_cast<unsigned char>(c)));
    prev_letter = letter || (static_cast<unsigned char>(c) >= 0x80);
  }
  return out;
}

std::string Replace(const std::string& s, const std::string& from, const std::string& to, int64_t count,
                    Interpreter* interp) {
  std::string out;
  if (from.empty()) {  // Python inserts `to` around every code point
    int64_t n = 0;
    for (std::string_view cp : CodePoints(s)) {
      if (count < 0 || n < count) {
        out += to;
        ++n;
      }
      out += cp;
      interp->CheckSize(out.size());
    }
    if (count < 0 || n < count) out += to;
    return out;
  }
  size_t pos = 0;
  int64_t n = 0;
  while (count < 0 || n < count) {
    const size_t hit = s.find(from, pos);
    if (hit == std::string::npos) break;
    out.append(s, pos, hit - pos);
    out += to;
    interp->CheckSize(out.size());
    pos = hit + from.size();
    ++n;
  }
  out.append(s, pos, std::string::npos);
  interp->CheckSize(out.size());
  return out;
}

List Split(const std::string& s, const Value& sep, int64_t maxsplit) {
  List out;
  if (!sep.is_string()) {  // runs of whitespace, no empty strings
    const auto cps = CodePoints(s);
    size_t i = 0;
    int64_t splits = 0;
    while (i < cps.size()) {
      while (i < cps.size() && IsPyWhitespace(DecodeCodePoint(cps[i]))) ++i;
      if (i >= cps.size()) break;
      std::string word;
      if (maxsplit >= 0 && splits >= maxsplit) {
        for (; i < cps.size(); ++i) word += cps[i];
        // Python strips trailing whitespace of the remainder only when splitting it.
        out.push_back(Value::String(Strip(word, Value(), false, true)));
        break;
      }
      while (i < cps.size() && !IsPyWhitespace(DecodeCodePoint(cps[i]))) word += cps[i++];
      out.push_back(Value::String(std::move(word)));
      ++splits;
    }
    return out;
  }
  const std::string& d = sep.AsString();
  if (d.empty()) throw JinjaError("empty separator");
  size_t pos = 0;
  int64_t splits = 0;
  while (maxsplit < 0 || splits < maxsplit) {
    const size_t hit = s.find(d, pos);
    if (hit == std::string::npos) break;
    out.push_back(Value::String(s.substr(pos, hit - pos)));
    pos = hit + d.size();
    ++splits;
  }
  out.push_back(Value::String(s.substr(pos)));
  return out;
}

List RSplit(const std::string& s, const Value& sep, int64_t maxsplit) {
  if (!sep.is_string() || maxsplit < 0) return Split(s, sep, maxsplit);
  const std::string& d = sep.AsString();
  if (d.empty()) throw JinjaError("empty separator");
  List out;
  size_t end = s.size();
  int64_t splits = 0;
  while (splits < maxsplit) {
    if (end < d.size()) break;
    const size_t hit = s.rfind(d, end - d.size());
    if (hit == std::string::npos) break;
    out.insert(out.begin(), Value::String(s.substr(hit + d.size(), end - hit - d.size())));
    end = hit;
    ++splits;
  }
  out.insert(out.begin(), Value::String(s.substr(0, end)));
  return out;
}

int64_t Length(const Value& v) {
  switch (v.kind()) {
    case Value::Kind::kUndefined: return 0;
    case Value::Kind::kString: return static_cast<int64_t>(CodePointCount(v.AsString()));
    case Value::Kind::kList:
      if (v.is_generator()) throw JinjaError("object of type 'generator' has no len()");
      return static_cast<int64_t>(v.AsList().size());
    case Value::Kind::kDict: return static_cast<int64_t>(v.AsDict().items.size());
    default: throw JinjaError("object of type '" + v.TypeName() + "' has no len()");
  }
}

std::string RequireString(const Value& v, const char* what) {
  if (v.is_undefined()) ThrowUndefined(v);
  if (!v.is_string()) throw JinjaError(std::string(what) + " must be str, not " + v.TypeName());
  return v.AsString();
}

int64_t RequireInt(const Value& v, const char* what) {
  if (v.is_undefined()) ThrowUndefined(v);
  if (!v.is_int() && !v.is_bool()) throw JinjaError(std::string(what) + " must be an integer, not " + v.TypeName());
  return v.AsInt();
}

bool StartsOrEnds(const std::string& s, const Value& affix, bool starts) {
  auto one = [&](const Value& a) {
    const std::string x = RequireString(a, starts ? "startswith argument" : "endswith argument");
    if (x.size() > s.size()) return false;
    return starts ? s.compare(0, x.size(), x) == 0 : s.compare(s.size() - x.size(), x.size(), x) == 0;
  };
  if (affix.is_list()) {
    for (const Value& a : affix.AsList())
      if (one(a)) return true;
    return false;
  }
  return one(affix);
}

// Attribute paths as filters take them ("function.name", "0").
Value GetPath(Interpreter* interp, const Value& item, const std::string& path) {
  Value v = item;
  size_t pos = 0;
  while (pos <= path.size()) {
    const size_t dot = path.find('.', pos);
    const std::string part = path.substr(pos, dot == std::string::npos ? std::string::npos : dot - pos);
    if (v.is_undefined()) return v;
    bool numeric = !part.empty() && std::all_of(part.begin(), part.end(), [](char c) { return c >= '0' && c <= '9'; });
    v = numeric ? interp->GetItem(v, Value::Int(std::stoll(part))) : interp->GetItem(v, Value::String(part));
    if (dot == std::string::npos) break;
    pos = dot + 1;
  }
  return v;
}

// str.format with positional {} / {0} and keyword {name} fields (no format specs).
std::string StrFormat(const std::string& fmt, CallArgs& args) {
  std::string out;
  size_t auto_index = 0;
  for (size_t i = 0; i < fmt.size(); ++i) {
    const char c = fmt[i];
    if (c == '{') {
      if (i + 1 < fmt.size() && fmt[i + 1] == '{') {
        out += '{';
        ++i;
        continue;
      }
      const size_t close = fmt.find('}', i);
      if (close == std::string::npos) throw JinjaError("Single '{' encountered in format string");
      const std::string field = fmt.substr(i + 1, close - i - 1);
      if (field.find(':') != std::string::npos || field.find('!') != std::string::npos)
        throw JinjaError("format specifications in str.format are not supported");
      Value v;
      if (field.empty()) {
        if (auto_index >= args.positional.size()) throw JinjaError("Replacement index out of range");
        v = args.positional[auto_index++];
      } else if (std::all_of(field.begin(), field.end(), [](char d) { return d >= '0' && d <= '9'; })) {
        const size_t k = std::stoul(field);
        if (k >= args.positional.size()) throw JinjaError("Replacement index out of range");
        v = args.positional[k];
      } else {
        bool found = false;
        for (const auto& [key, val] : args.keyword)
          if (key == field) {
            v = val;
            found = true;
          }
        if (!found) throw JinjaError("KeyError: '" + field + "'");
      }
      out += ToStr(v);
      i = close;
    } else if (c == '}') {
      if (i + 1 < fmt.size() && fmt[i + 1] == '}') ++i;
      out += '}';
    } else {
      out += c;
    }
  }
  return out;
}

Value MakeMethod(const std::string& name, NativeFunction fn) { return Value::Function(name, std::move(fn)); }

Value Unsafe(const Value& object, const std::string& name) {
  return Value::Undefined("access to attribute '" + name + "' of '" + object.TypeName() + "' object is unsafe.");
}

}  // namespace

std::string HtmlEscape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&#34;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

namespace {

// Python's int() of a string (with optional sign and underscores, base 10).
std::optional<int64_t> ParseInt(std::string s) {
  s = Strip(s, Value(), true, true);
  if (s.empty()) return std::nullopt;
  size_t i = 0;
  bool neg = false;
  if (s[0] == '+' || s[0] == '-') {
    neg = s[0] == '-';
    i = 1;
  }
  if (i >= s.size()) return std::nullopt;
  int64_t v = 0;
  for (; i < s.size(); ++i) {
    if (s[i] < '0' || s[i] > '9') return std::nullopt;
    if (__builtin_mul_overflow(v, 10, &v) || __builtin_add_overflow(v, s[i] - '0', &v)) return std::nullopt;
  }
  return neg ? -v : v;
}

std::optional<double> ParseFloat(const std::string& s) {
  const std::string t = Strip(s, Value(), true, true);
  if (t.empty()) return std::nullopt;
  char* end = nullptr;
  const double d = std::strtod(t.c_str(), &end);
  if (end != t.c_str() + t.size()) return std::nullopt;
  return d;
}

std::vector<Value> SortValues(Interpreter* interp, List items, bool reverse, bool case_sensitive,
                              const Value& attribute) {
  std::vector<std::pair<Value, Value>> keyed;
  for (Value& v : items) {
    Value key = attribute.is_string() ? GetPath(interp, v, attribute.AsString()) : v;
    keyed.emplace_back(std::move(key), std::move(v));
  }
  std::stable_sort(keyed.begin(), keyed.end(), [&](const auto& a, const auto& b) {
    const int c = CompareValues(a.first, b.first, case_sensitive);
    return reverse ? c > 0 : c < 0;
  });
  std::vector<Value> out;
  for (auto& [k, v] : keyed) out.push_back(std::move(v));
  return out;
}

}  // namespace

std::string PercentFormat(const std::string& fmt, const Value& args) {
  List values = args.is_list() ? args.AsList() : List{args};
  size_t next = 0;
  std::string out;
  for (size_t i = 0; i < fmt.size(); ++i) {
    if (fmt[i] != '%') {
      out += fmt[i];
      continue;
    }
    if (i + 1 >= fmt.size()) throw JinjaError("incomplete format");
    const char spec = fmt[++i];
    if (spec == '%') {
      out += '%';
      continue;
    }
    if (next >= values.size()) throw JinjaError("not enough arguments for format string");
    const Value& v = values[next++];
    switch (spec) {
      case 's': out += ToStr(v); break;
      case 'r': out += Repr(v); break;
      case 'd':
      case 'i':
        if (!v.is_number()) throw JinjaError("%d format: a real number is required, not " + v.TypeName());
        out += std::to_string(v.is_float() ? static_cast<int64_t>(v.AsFloat()) : v.AsInt());
        break;
      default: throw JinjaError(std::string("unsupported format character '") + spec + "'");
    }
  }
  if (next < values.size()) throw JinjaError("not all arguments converted during string formatting");
  return out;
}

Value BoundMethod(Interpreter* interp, const Value& object, const std::string& name) {
  if (object.is_string()) {
    const std::string s = object.AsString();
    if (name == "startswith" || name == "endswith") {
      const bool starts = name == "startswith";
      return MakeMethod(name, [s, starts](CallArgs& a) { return Value::Bool(StartsOrEnds(s, a.Get(0, "prefix"), starts)); });
    }
    if (name == "strip" || name == "lstrip" || name == "rstrip") {
      const bool left = name != "rstrip", right = name != "lstrip";
      return MakeMethod(name, [s, left, right](CallArgs& a) {
        return Value::String(Strip(s, a.Get(0, "chars"), left, right));
      });
    }
    if (name == "split" || name == "rsplit") {
      const bool r = name == "rsplit";
      return MakeMethod(name, [s, r](CallArgs& a) {
        const Value maxsplit = a.Get(1, "maxsplit", Value::Int(-1));
        const int64_t m = RequireInt(maxsplit, "maxsplit");
        return Value::MakeList(r ? RSplit(s, a.Get(0, "sep"), m) : Split(s, a.Get(0, "sep"), m));
      });
    }
    if (name == "splitlines") {
      return MakeMethod(name, [s](CallArgs&) {
        List out;
        size_t pos = 0;
        while (pos < s.size()) {
          size_t nl = s.find_first_of("\r\n", pos);
          if (nl == std::string::npos) {
            out.push_back(Value::String(s.substr(pos)));
            break;
          }
          out.push_back(Value::String(s.substr(pos, nl - pos)));
          pos = nl + ((s[nl] == '\r' && nl + 1 < s.size() && s[nl + 1] == '\n') ? 2 : 1);
        }
        return Value::MakeList(std::move(out));
      });
    }
    if (name == "upper") return MakeMethod(name, [s](CallArgs&) { return Value::String(Upper(s)); });
    if (name == "lower") return MakeMethod(name, [s](CallArgs&) { return Value::String(Lower(s)); });
    if (name == "title") return MakeMethod(name, [s](CallArgs&) { return Value::String(Title(s)); });
    if (name == "capitalize") return MakeMethod(name, [s](CallArgs&) { return Value::String(Capitalize(s)); });
    if (name == "replace") {
      return MakeMethod(name, [s, interp](CallArgs& a) {
        return Value::String(Replace(s, RequireString(a.Get(0, "old"), "replace() argument 1"),
                                     RequireString(a.Get(1, "new"), "replace() argument 2"),
                                     RequireInt(a.Get(2, "count", Value::Int(-1)), "count"), interp));
      });
    }
    if (name == "find" || name == "rfind" || name == "index" || name == "rindex") {
      return MakeMethod(name, [s, name](CallArgs& a) {
        const std::string sub = RequireString(a.Get(0, "sub"), "find argument");
        const size_t hit = name[0] == 'r' ? s.rfind(sub) : s.find(sub);
        if (hit == std::string::npos) {
          if (name.find("index") != std::string::npos) throw JinjaError("substring not found");
          return Value::Int(-1);
        }
        return Value::Int(static_cast<int64_t>(CodePointCount(std::string_view(s).substr(0, hit))));
      });
    }
    if (name == "count") {
      return MakeMethod(name, [s](CallArgs& a) {
        const std::string sub = RequireString(a.Get(0, "sub"), "count argument");
        if (sub.empty()) return Value::Int(static_cast<int64_t>(CodePointCount(s) + 1));
        int64_t n = 0;
        for (size_t p = s.find(sub); p != std::string::npos; p = s.find(sub, p + sub.size())) ++n;
        return Value::Int(n);
      });
    }
    if (name == "join") {
      return MakeMethod(name, [s, interp](CallArgs& a) {
        std::string out;
        bool first = true;
        for (const Value& v : a.Get(0, "iterable").Iterate()) {
          if (!first) out += s;
          first = false;
          if (!v.is_string()) throw JinjaError("sequence item: expected str instance, " + v.TypeName() + " found");
          out += v.AsString();
          interp->CheckSize(out.size());
        }
        return Value::String(std::move(out));
      });
    }
    if (name == "removeprefix" || name == "removesuffix") {
      const bool prefix = name == "removeprefix";
      return MakeMethod(name, [s, prefix](CallArgs& a) {
        const std::string x = RequireString(a.Get(0, "affix"), "argument");
        if (StartsOrEnds(s, Value::String(x), prefix))
          return Value::String(prefix ? s.substr(x.size()) : s.substr(0, s.size() - x.size()));
        return Value::String(s);
      });
    }
    if (name == "format") {
      return MakeMethod(name, [s](CallArgs& a) { return Value::String(StrFormat(s, a)); });
    }
    if (name == "isdigit" || name == "isalpha" || name == "isalnum" || name == "isspace" || name == "isupper" ||
        name == "islower") {
      return MakeMethod(name, [s, name](CallArgs&) {
        if (s.empty()) return Value::Bool(false);
        bool cased = false;
        for (unsigned char c : s) {
          if (name == "isdigit" && !std::isdigit(c)) return Value::Bool(false);
          if (name == "isalpha" && !std::isalpha(c)) return Value::Bool(false);
          if (name == "isalnum" && !std::isalnum(c)) return Value::Bool(false);
          if (name == "isspace" && !std::isspace(c)) return Value::Bool(false);
          if (name == "isupper" && std::islower(c)) return Value::Bool(false);
          if (name == "islower" && std::isupper(c)) return Value::Bool(false);
          cased |= std::isalpha(c) != 0;
        }
        return Value::Bool(name == "isupper" || name == "islower" ? cased : true);
      });
    }
    return Value();
  }
  if (object.is_dict()) {
    if (name == "items") {
      return MakeMethod(name, [object](CallArgs&) {
        List out;
        for (const auto& [k, v] : object.AsDict().items) out.push_back(Value::MakeList({Value::String(k), v}));
        return Value::MakeList(std::move(out));
      });
    }
    if (name == "keys") {
      return MakeMethod(name, [object](CallArgs&) { return Value::MakeList(object.Iterate()); });
    }
    if (name == "values") {
      return MakeMethod(name, [object](CallArgs&) {
        List out;
        for (const auto& [k, v] : object.AsDict().items) out.push_back(v);
        return Value::MakeList(std::move(out));
      });
    }
    if (name == "get") {
      return MakeMethod(name, [object](CallArgs& a) {
        const Value key = a.Get(0, "key");
        const Value* v = key.is_string() ? object.AsDict().Find(key.AsString()) : nullptr;
        return v != nullptr ? *v : a.Get(1, "default", Value::None());
      });
    }
    if (name == "copy") {
      return MakeMethod(name, [object](CallArgs&) {
        Value d = Value::MakeDict();
        d.AsDict() = object.AsDict();
        return d;
      });
    }
    if (name == "pop" || name == "popitem" || name == "update" || name == "setdefault" || name == "clear")
      return Unsafe(object, name);
    return Value();
  }
  if (object.is_list() && !object.is_generator()) {
    if (name == "index") {
      return MakeMethod(name, [object](CallArgs& a) {
        const Value x = a.Get(0, "value");
        const List& l = object.AsList();
        for (size_t i = 0; i < l.size(); ++i)
          if (l[i].Equals(x)) return Value::Int(static_cast<int64_t>(i));
        throw JinjaError(Repr(x) + " is not in list");
      });
    }
    if (name == "count") {
      return MakeMethod(name, [object](CallArgs& a) {
        const Value x = a.Get(0, "value");
        int64_t n = 0;
        for (const Value& v : object.AsList()) n += v.Equals(x);
        return Value::Int(n);
      });
    }
    if (name == "append" || name == "extend" || name == "insert" || name == "pop" || name == "remove" ||
        name == "reverse" || name == "sort" || name == "clear")
      return Unsafe(object, name);
    return Value();
  }
  return Value();
}

Value MakeGlobals(Interpreter* interp) {
  Value g = Value::MakeDict();
  Dict& d = g.AsDict();
  d.Set("range", Value::Function("range", [interp](CallArgs& a) {
          int64_t start = 0, stop = 0, step = 1;
          if (a.positional.size() == 1) {
            stop = RequireInt(a.positional[0], "range() argument");
          } else if (a.positional.size() >= 2) {
            start = RequireInt(a.positional[0], "range() argument");
            stop = RequireInt(a.positional[1], "range() argument");
            if (a.positional.size() >= 3) step = RequireInt(a.positional[2], "range() argument");
          } else {
            throw JinjaError("range expected at least 1 argument, got 0");
          }
          if (step == 0) throw JinjaError("range() arg 3 must not be zero");
          const double count = std::ceil((static_cast<double>(stop) - static_cast<double>(start)) / static_cast<double>(step));
          if (count > static_cast<double>(interp->limits().max_loop_iterations))
            throw JinjaError("range() too large for a template (limit " +
                             std::to_string(interp->limits().max_loop_iterations) + ")");
          List out;
          if (step > 0)
            for (int64_t i = start; i < stop; i += step) out.push_back(Value::Int(i));
          else
            for (int64_t i = start; i > stop; i += step) out.push_back(Value::Int(i));
          return Value::MakeList(std::move(out));
        }));
  d.Set("namespace", Value::Function("namespace", [interp](CallArgs& a) {
          Value ns = Value::Namespace();
          interp->TrackNamespace(ns);
          for (const Value& p : a.positional) {
            if (!p.is_dict()) throw JinjaError("namespace() positional argument must be a dict");
            for (const auto& [k, v] : p.AsDict().items) ns.AsDict().Set(k, v);
          }
          for (const auto& [k, v] : a.keyword) ns.AsDict().Set(k, v);
          return ns;
        }));
  d.Set("dict", Value::Function("dict", [](CallArgs& a) {
          Value out = Value::MakeDict();
          for (const Value& p : a.positional) {
            if (p.is_dict()) {
              for (const auto& [k, v] : p.AsDict().items) out.AsDict().Set(k, v);
            } else {
              for (const Value& pair : p.Iterate()) {
                const List kv = pair.Iterate();
                if (kv.size() != 2) throw JinjaError("dictionary update sequence element has wrong length");
                out.AsDict().Set(ToStr(kv[0]), kv[1]);
              }
            }
          }
          for (const auto& [k, v] : a.keyword) out.AsDict().Set(k, v);
          return out;
        }));
  d.Set("raise_exception", Value::Function("raise_exception", [](CallArgs& a) -> Value {
          throw JinjaError(ToStr(a.Get(0, "message")));
        }));
  d.Set("strftime_now", Value::Function("strftime_now", [interp](CallArgs& a) {
          const std::string fmt = RequireString(a.Get(0, "format"), "strftime_now() argument");
          const std::time_t t = std::chrono::system_clock::to_time_t(interp->Now());
          std::tm tm{};
          localtime_r(&t, &tm);
          char buf[512];
          if (fmt.size() > 200) throw JinjaError("strftime_now() format too long");
          const size_t n = std::strftime(buf, sizeof buf, fmt.c_str(), &tm);
          return Value::String(std::string(buf, n));
        }));
  return g;
}

// --- Tests -------------------------------------------------------------------

bool Interpreter::ApplyTest(const std::string& name, const Value& v, CallArgs& args) {
  const Value arg = args.Get(0, "other");
  if (name == "defined") return !v.is_undefined();
  if (name == "undefined") return v.is_undefined();
  if (name == "none") return v.is_none();
  if (name == "string") return v.is_string();
  if (name == "mapping") return v.is_dict();
  if (name == "iterable") return v.is_undefined() || v.is_list() || v.is_dict() || v.is_string();
  if (name == "sequence") return v.is_undefined() || (v.is_list() && !v.is_generator()) || v.is_dict() || v.is_string();
  if (name == "number") return v.is_number();
  if (name == "integer") return v.is_int();
  if (name == "float") return v.is_float();
  if (name == "boolean") return v.is_bool();
  if (name == "true") return v.is_bool() && v.AsBool();
  if (name == "false") return v.is_bool() && !v.AsBool();
  if (name == "callable") return v.is_function();
  if (name == "eq" || name == "equalto" || name == "==") return v.Equals(arg);
  if (name == "ne" || name == "!=") return !v.Equals(arg);
  if (name == "lt" || name == "lessthan" || name == "<") return CompareValues(v, arg) < 0;
  if (name == "le" || name == "<=") return CompareValues(v, arg) <= 0;
  if (name == "gt" || name == "greaterthan" || name == ">") return CompareValues(v, arg) > 0;
  if (name == "ge" || name == ">=") return CompareValues(v, arg) >= 0;
  if (name == "in") return Contains(args.Get(0, "seq"), v);
  if (name == "sameas") {
    if (v.is_list() && arg.is_list()) return &v.AsList() == &arg.AsList();
    if ((v.is_dict() || v.is_namespace()) && (arg.is_dict() || arg.is_namespace())) return &v.AsDict() == &arg.AsDict();
    return v.kind() == arg.kind() && v.Equals(arg);
  }
  if (name == "odd" || name == "even" || name == "divisibleby") {
    if (v.is_undefined()) ThrowUndefined(v);
    if (!v.is_number()) throw JinjaError("unsupported operand type(s) for %: '" + v.TypeName() + "' and 'int'");
    const int64_t x = v.is_float() ? static_cast<int64_t>(v.AsFloat()) : v.AsInt();
    if (name == "odd") return x % 2 != 0;
    if (name == "even") return x % 2 == 0;
    const int64_t n = RequireInt(args.Get(0, "num"), "divisibleby argument");
    if (n == 0) throw JinjaError("integer division or modulo by zero");
    return x % n == 0;
  }
  if (name == "lower") return v.is_string() && Lower(v.AsString()) == v.AsString();
  if (name == "upper") return v.is_string() && Upper(v.AsString()) == v.AsString();
  if (name == "escaped") return false;
  if (name == "filter") {
    static const char* const kFilters[] = {"abs", "attr", "capitalize", "count", "d", "default", "dictsort", "e",
        "escape", "first", "float", "forceescape", "format", "indent", "int", "items", "join", "last", "length",
        "list", "lower", "map", "max", "min", "reject", "rejectattr", "replace", "reverse", "round", "safe",
        "select", "selectattr", "sort", "string", "sum", "title", "tojson", "trim", "unique", "upper", "wordcount",
        "center", "batch"};
    if (!v.is_string()) return false;
    for (const char* f : kFilters)
      if (v.AsString() == f) return true;
    return false;
  }
  if (name == "test") {
    static const char* const kTests[] = {"defined", "undefined", "none", "string", "mapping", "iterable", "sequence",
        "number", "integer", "float", "boolean", "true", "false", "callable", "eq", "equalto", "ne", "lt", "le", "gt",
        "ge", "in", "sameas", "odd", "even", "divisibleby", "lower", "upper", "escaped", "filter", "test"};
    if (!v.is_string()) return false;
    for (const char* t : kTests)
      if (v.AsString() == t) return true;
    return false;
  }
  throw JinjaError("No test named '" + name + "' found.");
}

// --- Filters -----------------------------------------------------------------

Value Interpreter::ApplyFilter(const std::string& name, const Value& v, CallArgs& args) {
  auto str_of = [&](const Value& x) { return ToStr(x); };
  if (name == "tojson") {
    JsonDumpOptions o;
    o.ensure_ascii = args.Get(0, "ensure_ascii", Value::Bool(false)).Truthy();
    const Value indent = args.Get(1, "indent", Value::None());
    if (indent.is_int()) o.indent = static_cast<int>(std::clamp<int64_t>(indent.AsInt(), 0, 64));
    else if (indent.is_string()) {
      o.indent_text = indent.AsString();
      if (o.indent_text.empty()) o.indent = 0;
    }
    const Value seps = args.Get(2, "separators", Value::None());
    if (seps.is_list()) {
      if (seps.AsList().size() != 2) throw JinjaError("separators must be a pair");
      o.has_separators = true;
      o.item_separator = str_of(seps.AsList()[0]);
      o.key_separator = str_of(seps.AsList()[1]);
    }
    o.sort_keys = args.Get(3, "sort_keys", Value::Bool(false)).Truthy();
    std::string out = ToJson(v, o);
    CheckSize(out.size());
    return Value::String(std::move(out));
  }
  if (name == "length" || name == "count") return Value::Int(Length(v));
  if (name == "trim") {
    std::string t = Strip(str_of(v), args.Get(0, "chars", Value::None()), true, true);
    return v.is_safe() ? Value::SafeString(std::move(t)) : Value::String(std::move(t));
  }
  if (name == "string") return Value::String(str_of(v));
  if (name == "safe") return Value::SafeString(str_of(v));
  if (name == "escape" || name == "e" || name == "forceescape")
    return v.is_safe() && name != "forceescape" ? v : Value::SafeString(HtmlEscape(str_of(v)));
  if (name == "lower") return Value::String(Lower(str_of(v)));
  if (name == "upper") return Value::String(Upper(str_of(v)));
  if (name == "capitalize") return Value::String(Capitalize(str_of(v)));
  if (name == "title") {
    // jinja2's title: words start after whitespace or one of -([{"'.
    std::string s = str_of(v);
    bool start = true;
    for (auto& c : s) {
      const unsigned char u = static_cast<unsigned char>(c);
      if (std::isspace(u) || c == '-' || c == '(' || c == '[' || c == '{' || c == '"' || c == '\'') {
        start = true;
        continue;
      }
      c = static_cast<char>(start ? std::toupper(u) : std::tolower(u));
      start = false;
    }
    return Value::String(std::move(s));
  }
  if (name == "default" || name == "d") {
    const bool boolean = args.Get(1, "boolean", Value::Bool(false)).Truthy();
    if (v.is_undefined() || (boolean && !v.Truthy())) return args.Get(0, "default_value", Value::String(""));
    return v;
  }
  if (name == "join") {
    const Value sep = args.Get(0, "d", Value::String(""));
    const Value attribute = args.Get(1, "attribute", Value::None());
    std::string out;
    bool first = true;
    for (const Value& item : v.Iterate()) {
      if (!first) out += str_of(sep);
      first = false;
      out += str_of(attribute.is_none() ? item : GetPath(this, item, str_of(attribute)));
      CheckSize(out.size());
    }
    return Value::String(std::move(out));
  }
  if (name == "first") {
    const List items = v.Iterate();
    return items.empty() ? Value::Undefined("No first item, sequence was empty.") : items.front();
  }
  if (name == "last") {
    if (v.is_generator()) throw JinjaError("'generator' object is not reversible");
    const List items = v.Iterate();
    return items.empty() ? Value::Undefined("No last item, sequence was empty.") : items.back();
  }
  if (name == "list") return Value::MakeList(v.Iterate());
  if (name == "unique") {
    const bool cs = args.Get(0, "case_sensitive", Value::Bool(false)).Truthy();
    const Value attribute = args.Get(1, "attribute", Value::None());
    List out, seen;
    for (const Value& item : v.Iterate()) {
      Value key = attribute.is_none() ? item : GetPath(this, item, str_of(attribute));
      if (!cs && key.is_string()) key = Value::String(Lower(key.AsString()));
      bool dup = false;
      for (const Value& s : seen) dup |= s.Equals(key);
      if (dup) continue;
      seen.push_back(key);
      out.push_back(item);
    }
    return Value::Generator(std::move(out));
  }
  if (name == "reverse") {
    if (v.is_string()) {
      auto cps = CodePoints(v.AsString());
      std::string out;
      for (auto it = cps.rbegin(); it != cps.rend(); ++it) out += *it;
      return Value::String(std::move(out));
    }
    List items = v.Iterate();
    std::reverse(items.begin(), items.end());
    return Value::Generator(std::move(items));
  }
  if (name == "sort") {
    return Value::MakeList(SortValues(this, v.Iterate(), args.Get(0, "reverse", Value::Bool(false)).Truthy(),
                                      args.Get(1, "case_sensitive", Value::Bool(false)).Truthy(),
                                      args.Get(2, "attribute", Value::None())));
  }
  if (name == "dictsort") {
    if (!v.is_dict()) throw JinjaError("dictsort: expected a mapping, got " + v.TypeName());
    const bool cs = args.Get(0, "case_sensitive", Value::Bool(false)).Truthy();
    const std::string by = str_of(args.Get(1, "by", Value::String("key")));
    const bool reverse = args.Get(2, "reverse", Value::Bool(false)).Truthy();
    if (by != "key" && by != "value") throw JinjaError("You can only sort by either \"key\" or \"value\"");
    List pairs;
    for (const auto& [k, x] : v.AsDict().items) pairs.push_back(Value::MakeList({Value::String(k), x}));
    std::stable_sort(pairs.begin(), pairs.end(), [&](const Value& a, const Value& b) {
      const size_t i = by == "key" ? 0 : 1;
      const int c = CompareValues(a.AsList()[i], b.AsList()[i], cs);
      return reverse ? c > 0 : c < 0;
    });
    return Value::MakeList(std::move(pairs));
  }
  if (name == "items") {
    if (v.is_undefined()) return Value::Generator({});
    if (!v.is_dict()) throw JinjaError("Can only get item pairs from a mapping.");
    List pairs;
    for (const auto& [k, x] : v.AsDict().items) pairs.push_back(Value::MakeList({Value::String(k), x}));
    return Value::Generator(std::move(pairs));
  }
  if (name == "int") {
    const Value dflt = args.Get(0, "default", Value::Int(0));
    if (v.is_int()) return v;
    if (v.is_bool()) return Value::Int(v.AsInt());
    if (v.is_float()) {
      if (!std::isfinite(v.AsFloat())) return dflt;
      return Value::Int(static_cast<int64_t>(v.AsFloat()));
    }
    if (v.is_string()) {
      if (auto i = ParseInt(v.AsString())) return Value::Int(*i);
      if (auto f = ParseFloat(v.AsString()); f && std::isfinite(*f)) return Value::Int(static_cast<int64_t>(*f));
    }
    return dflt;
  }
  if (name == "float") {
    const Value dflt = args.Get(0, "default", Value::Float(0.0));
    if (v.is_number()) return Value::Float(v.AsFloat());
    if (v.is_string())
      if (auto f = ParseFloat(v.AsString())) return Value::Float(*f);
    return dflt;
  }
  if (name == "abs") {
    if (v.is_undefined()) ThrowUndefined(v);
    if (v.is_float()) return Value::Float(std::fabs(v.AsFloat()));
    if (v.is_number()) return v.AsInt() == INT64_MIN ? Value::Float(-v.AsFloat()) : Value::Int(std::llabs(v.AsInt()));
    throw JinjaError("bad operand type for abs(): '" + v.TypeName() + "'");
  }
  if (name == "round") {
    if (!v.is_number()) throw JinjaError("round: expected a number, got " + v.TypeName());
    const int64_t precision = RequireInt(args.Get(0, "precision", Value::Int(0)), "precision");
    const std::string method = str_of(args.Get(1, "method", Value::String("common")));
    const double scale = std::pow(10.0, static_cast<double>(std::clamp<int64_t>(precision, -300, 300)));
    double x = v.AsFloat() * scale;
    // Python's round() halves to even (round(2.5) == 2); the default FP rounding mode does too.
    x = method == "floor" ? std::floor(x) : method == "ceil" ? std::ceil(x) : std::nearbyint(x);
    return Value::Float(x / scale);
  }
  if (name == "sum") {
    const Value attribute = args.Get(0, "attribute", Value::None());
    Value total = args.Get(1, "start", Value::Int(0));
    for (const Value& item : v.Iterate()) {
      Value x = attribute.is_none() ? item : GetPath(this, item, str_of(attribute));
      total = total.is_float() || x.is_float() ? Value::Float(total.AsFloat() + x.AsFloat())
                                               : (x.is_number() ? Value::Int(total.AsInt() + x.AsInt())
                                                                : throw JinjaError("sum: unsupported operand type '" + x.TypeName() + "'"));
    }
    return total;
  }
  if (name == "min" || name == "max") {
    const List items = v.Iterate();
    if (items.empty()) return Value::Undefined("No aggregated item, sequence was empty.");
    const bool cs = args.Get(0, "case_sensitive", Value::Bool(false)).Truthy();
    const Value attribute = args.Get(1, "attribute", Value::None());
    size_t best = 0;
    for (size_t i = 1; i < items.size(); ++i) {
      const Value a = attribute.is_none() ? items[i] : GetPath(this, items[i], str_of(attribute));
      const Value b = attribute.is_none() ? items[best] : GetPath(this, items[best], str_of(attribute));
      const int c = CompareValues(a, b, cs);
      if (name == "min" ? c < 0 : c > 0) best = i;
    }
    return items[best];
  }
  if (name == "replace") {
    if (v.is_undefined()) return Value::String("");
    const int64_t count = RequireInt(args.Get(2, "count", Value::Int(-1)), "count");
    return Value::String(Replace(str_of(v), str_of(args.Get(0, "old")), str_of(args.Get(1, "new")), count, this));
  }
  if (name == "indent") {
    const Value width_v = args.Get(0, "width", Value::Int(4));
    const std::string pad = width_v.is_string() ? width_v.AsString()
                                                : std::string(static_cast<size_t>(std::clamp<int64_t>(RequireInt(width_v, "width"), 0, 1024)), ' ');
    const bool first = args.Get(1, "first", Value::Bool(false)).Truthy();
    const bool blank = args.Get(2, "blank", Value::Bool(false)).Truthy();
    std::string s = str_of(v);
    // jinja2 splits on newlines (str.splitlines) and rejoins with "\n".
    std::vector<std::string> lines;
    {
      size_t pos = 0;
      while (true) {
        const size_t nl = s.find('\n', pos);
        if (nl == std::string::npos) {
          lines.push_back(s.substr(pos));
          break;
        }
        lines.push_back(s.substr(pos, nl - pos));
        pos = nl + 1;
      }
    }
    std::string out;
    for (size_t i = 0; i < lines.size(); ++i) {
      if (i > 0) out += '\n';
      const bool indent_this = (i > 0 || first) && (blank || !Strip(lines[i], Value(), true, true).empty());
      if (indent_this) out += pad;
      out += lines[i];
      CheckSize(out.size());
    }
    return Value::String(std::move(out));
  }
  if (name == "center") {
    const std::string s = str_of(v);
    const int64_t width = std::clamp<int64_t>(RequireInt(args.Get(0, "width", Value::Int(80)), "width"), 0, 1 << 16);
    const int64_t len = static_cast<int64_t>(CodePointCount(s));
    if (width <= len) return Value::String(s);
    const int64_t total = width - len;
    const int64_t left = total / 2 + (total & width & 1);
    return Value::String(std::string(static_cast<size_t>(left), ' ') + s + std::string(static_cast<size_t>(total - left), ' '));
  }
  if (name == "wordcount") return Value::Int(static_cast<int64_t>(Split(str_of(v), Value(), -1).size()));
  if (name == "attr") return GetAttr(v, str_of(args.Get(0, "name")));
  if (name == "format") {
    if (!args.keyword.empty()) throw JinjaError("format: keyword arguments are not supported");
    return Value::String(PercentFormat(str_of(v), Value::MakeList(args.positional)));
  }
  if (name == "batch") {
    const int64_t n = RequireInt(args.Get(0, "linecount"), "linecount");
    if (n <= 0) throw JinjaError("batch: linecount must be positive");
    const Value fill = args.Get(1, "fill_with", Value::None());
    List out, cur;
    for (const Value& item : v.Iterate()) {
      cur.push_back(item);
      if (static_cast<int64_t>(cur.size()) == n) {
        out.push_back(Value::MakeList(std::move(cur)));
        cur.clear();
      }
    }
    if (!cur.empty()) {
      if (!fill.is_none())
        while (static_cast<int64_t>(cur.size()) < n) cur.push_back(fill);
      out.push_back(Value::MakeList(std::move(cur)));
    }
    return Value::Generator(std::move(out));
  }
  if (name == "map") {
    List out;
    if (!v.Truthy()) return Value::Generator({});  // jinja2: "if value:" before iterating
    if (args.Has(0, "") && !args.positional.empty()) {
      const std::string filter = str_of(args.positional[0]);
      CallArgs rest;
      rest.positional.assign(args.positional.begin() + 1, args.positional.end());
      rest.keyword = args.keyword;
      for (const Value& item : v.Iterate()) {
        Step();
        CallArgs copy = rest;
        out.push_back(ApplyFilter(filter, item, copy));
      }
    } else {
      const Value attribute = args.Get(99, "attribute");
      if (!attribute.is_string() && !attribute.is_int()) throw JinjaError("map: expected a filter name or attribute=");
      const bool has_default = args.Has(99, "default");
      const Value dflt = args.Get(99, "default");
      for (const Value& item : v.Iterate()) {
        Step();
        Value x = GetPath(this, item, str_of(attribute));
        if (x.is_undefined() && has_default) x = dflt;
        out.push_back(x);
      }
    }
    return Value::Generator(std::move(out));
  }
  if (name == "select" || name == "reject" || name == "selectattr" || name == "rejectattr") {
    const bool by_attr = name == "selectattr" || name == "rejectattr";
    const bool keep_if = name == "select" || name == "selectattr";
    size_t next = 0;
    std::string attribute;
    if (by_attr) {
      if (args.positional.empty()) throw JinjaError(name + ": missing attribute");
      attribute = str_of(args.positional[next++]);
    }
    std::string test;
    if (next < args.positional.size()) test = str_of(args.positional[next++]);
    CallArgs test_args;
    test_args.positional.assign(args.positional.begin() + static_cast<std::ptrdiff_t>(std::min(next, args.positional.size())),
                                args.positional.end());
    test_args.keyword = args.keyword;
    List out;
    if (!v.Truthy()) return Value::Generator({});  // jinja2: "if value:" before iterating
    for (const Value& item : v.Iterate()) {
      Step();
      const Value x = by_attr ? GetPath(this, item, attribute) : item;
      CallArgs copy = test_args;
      const bool ok = test.empty() ? x.Truthy() : ApplyTest(test, x, copy);
      if (ok == keep_if) out.push_back(item);
    }
    return Value::Generator(std::move(out));
  }
  throw JinjaError("No filter named '" + name + "' found.");
}

bool Contains(const Value& haystack, const Value& needle) {
  if (haystack.is_string()) {
    if (!needle.is_string()) throw JinjaError("'in <string>' requires string as left operand, not " + needle.TypeName());
    return haystack.AsString().find(needle.AsString()) != std::string::npos;
  }
  if (haystack.is_dict()) return needle.is_string() && haystack.AsDict().Find(needle.AsString()) != nullptr;
  if (haystack.is_list()) {
    for (const Value& x : haystack.AsList())
      if (x.Equals(needle)) return true;
    return false;
  }
  if (haystack.is_undefined()) return false;
  throw JinjaError("argument of type '" + haystack.TypeName() + "' is not iterable");
}

}  // namespace jarvis::jinja
