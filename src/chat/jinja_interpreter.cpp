#include "chat/jinja_interpreter.h"

#include <cmath>
#include <ctime>
#include <limits>

#include "chat/jinja_builtins.h"

namespace jarvis::jinja {

// Variables of one frame: the template's top level, a for loop, a macro call.
struct Scope : std::enable_shared_from_this<Scope> {
  Dict vars;
  std::shared_ptr<Scope> parent;
};

[[noreturn]] void ThrowUndefined(const Value& v) {
  throw JinjaError(v.undefined_hint().empty() ? std::string("value is undefined") : v.undefined_hint());
}

namespace {

// jinja2's object_type_repr, used in Undefined hints.
std::string ObjectTypeRepr(const Value& v) {
  if (v.is_none()) return "None";
  return v.TypeName() + " object";
}

Value MissingAttribute(const Value& object, const std::string& name) {
  std::string hint = "'";
  hint.append(ObjectTypeRepr(object)).append("' has no attribute '").append(name).append("'");
  return Value::Undefined(std::move(hint));
}

Value MissingElement(const Value& object, const Value& key) {
  return Value::Undefined(ObjectTypeRepr(object) + " has no element " + Repr(key));
}

[[noreturn]] void TypeError(const std::string& op, const Value& a, const Value& b) {
  throw JinjaError("unsupported operand type(s) for " + op + ": '" + a.TypeName() + "' and '" + b.TypeName() + "'");
}

int64_t FloorDiv(int64_t a, int64_t b) {
  int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}
int64_t FloorMod(int64_t a, int64_t b) {
  int64_t m = a % b;
  if (m != 0 && ((m < 0) != (b < 0))) m += b;
  return m;
}

}  // namespace

int CompareValues(const Value& a, const Value& b, bool case_sensitive) {
  if (a.is_undefined()) ThrowUndefined(a);
  if (b.is_undefined()) ThrowUndefined(b);
  if (a.is_number() && b.is_number()) {
    if (a.is_float() || b.is_float()) {
      const double x = a.AsFloat(), y = b.AsFloat();
      return x < y ? -1 : x > y ? 1 : 0;
    }
    return a.AsInt() < b.AsInt() ? -1 : a.AsInt() > b.AsInt() ? 1 : 0;
  }
  if (a.is_string() && b.is_string()) {
    if (case_sensitive) return a.AsString().compare(b.AsString()) < 0 ? -1 : a.AsString() == b.AsString() ? 0 : 1;
    std::string x = a.AsString(), y = b.AsString();
    for (auto& c : x) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    for (auto& c : y) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return x < y ? -1 : x == y ? 0 : 1;
  }
  if (a.is_list() && b.is_list()) {
    const List& x = a.AsList();
    const List& y = b.AsList();
    for (size_t i = 0; i < x.size() && i < y.size(); ++i) {
      if (x[i].Equals(y[i])) continue;
      return CompareValues(x[i], y[i], case_sensitive);
    }
    return x.size() < y.size() ? -1 : x.size() > y.size() ? 1 : 0;
  }
  throw JinjaError("'<' not supported between instances of '" + a.TypeName() + "' and '" + b.TypeName() + "'");
}

Interpreter::Interpreter(const RenderLimits& limits, Clock clock)
    : limits_(limits), clock_(clock ? std::move(clock) : Clock([] { return std::chrono::system_clock::now(); })) {
  globals_ = MakeGlobals(this);
}
Interpreter::~Interpreter() {
  for (Value& ns : namespaces_) ns.AsDict().items.clear();
  for (ScopePtr& scope : macro_scopes_) scope->vars.items.clear();
}

void Interpreter::Step() {
  if (++steps_ > limits_.max_steps)
    throw JinjaError("template exceeded the step limit (" + std::to_string(limits_.max_steps) + ")");
}

void Interpreter::CountIterations(int64_t n) {
  iterations_ += n;
  if (iterations_ > limits_.max_loop_iterations)
    throw JinjaError("template exceeded the loop iteration limit (" + std::to_string(limits_.max_loop_iterations) +
                     ")");
}

void Interpreter::CheckSize(size_t bytes) const {
  if (static_cast<int64_t>(bytes) > limits_.max_output_bytes)
    throw JinjaError("template output exceeded " + std::to_string(limits_.max_output_bytes) + " bytes");
}

void Interpreter::Append(std::string* out, std::string_view text) {
  CheckSize(out->size() + text.size());
  out->append(text);
}

std::string Interpreter::Render(const Body& body, const Value& variables) {
  auto root = std::make_shared<Scope>();
  for (const auto& [k, v] : variables.AsDict().items) root->vars.Set(k, v);
  std::string out;
  Exec(body, root, &out);
  return out;
}

Interpreter::Flow Interpreter::Exec(const Body& body, const ScopePtr& scope, std::string* out) {
  for (const StmtPtr& s : body) {
    const Flow f = ExecStmt(*s, scope, out);
    if (f != Flow::kNormal) return f;
  }
  return Flow::kNormal;
}

Interpreter::Flow Interpreter::ExecStmt(const Stmt& s, const ScopePtr& scope, std::string* out) {
  Step();
  switch (s.kind) {
    case Stmt::Kind::kText: Append(out, s.text); return Flow::kNormal;
    case Stmt::Kind::kOutput: {
      const Value v = Eval(*s.expr, scope);
      Append(out, ToStr(v));
      return Flow::kNormal;
    }
    case Stmt::Kind::kIf:
      for (const auto& [cond, body] : s.branches) {
        if (!cond || Eval(*cond, scope).Truthy()) return Exec(body, scope, out);
      }
      return Flow::kNormal;
    case Stmt::Kind::kFor: ExecFor(s, scope, out); return Flow::kNormal;
    case Stmt::Kind::kSet:
    case Stmt::Kind::kSetBlock: ExecSet(s, scope, out); return Flow::kNormal;
    case Stmt::Kind::kMacro: scope->vars.Set(s.name, MakeMacro(s, scope, s.name)); return Flow::kNormal;
    case Stmt::Kind::kCallBlock: {
      CallArgs args;
      const Value callee = Eval(*s.expr->children[0], scope);
      EvalArgs(*s.expr, 1, scope, &args);
      args.keyword.emplace_back("caller", MakeMacro(s, scope, "caller"));
      Append(out, ToStr(Call(callee, args)));
      return Flow::kNormal;
    }
    case Stmt::Kind::kFilterBlock: {
      std::string inner;
      auto child = std::make_shared<Scope>();
      child->parent = scope;
      Exec(s.body, child, &inner);
      // Apply the chain innermost first: the AST nests with a null operand at the bottom.
      std::vector<const Expr*> chain;
      for (const Expr* f = s.expr.get(); f != nullptr; f = f->children[0].get()) chain.push_back(f);
      Value v = Value::String(std::move(inner));
      for (auto it = chain.rbegin(); it != chain.rend(); ++it) {
        CallArgs args;
        EvalArgs(**it, 1, scope, &args);
        v = ApplyFilter((*it)->name, v, args);
      }
      Append(out, ToStr(v));
      return Flow::kNormal;
    }
    case Stmt::Kind::kBreak: return Flow::kBreak;
    case Stmt::Kind::kContinue: return Flow::kContinue;
    case Stmt::Kind::kScope: {
      auto child = std::make_shared<Scope>();
      child->parent = scope;
      return Exec(s.body, child, out);
    }
  }
  return Flow::kNormal;
}

namespace {

void Unpack(const std::vector<std::string>& targets, const Value& item, Dict* vars) {
  if (targets.size() == 1) {
    vars->Set(targets[0], item);
    return;
  }
  const List parts = item.Iterate();
  if (parts.size() != targets.size()) {
    if (parts.size() > targets.size())
      throw JinjaError("too many values to unpack (expected " + std::to_string(targets.size()) + ")");
    throw JinjaError("not enough values to unpack (expected " + std::to_string(targets.size()) + ", got " +
                     std::to_string(parts.size()) + ")");
  }
  for (size_t i = 0; i < targets.size(); ++i) vars->Set(targets[i], parts[i]);
}

}  // namespace

void Interpreter::ExecFor(const Stmt& s, const ScopePtr& scope, std::string* out) {
  const Value iterable = Eval(*s.expr, scope);
  if (!iterable.is_undefined() && !iterable.is_list() && !iterable.is_dict() && !iterable.is_string())
    throw JinjaError("'" + iterable.TypeName() + "' object is not iterable");
  List items = iterable.Iterate();
  CountIterations(static_cast<int64_t>(items.size()));
  auto loop_scope = std::make_shared<Scope>();
  loop_scope->parent = scope;
  if (s.condition) {  // "for x in xs if cond": filtered before loop.* is computed
    List kept;
    for (const Value& item : items) {
      Step();
      Unpack(s.targets, item, &loop_scope->vars);
      if (Eval(*s.condition, loop_scope).Truthy()) kept.push_back(item);
    }
    items = std::move(kept);
  }
  if (items.empty()) {
    Exec(s.else_body, scope, out);
    return;
  }
  const int64_t n = static_cast<int64_t>(items.size());
  const auto shared_items = std::make_shared<List>(std::move(items));
  for (int64_t i = 0; i < n; ++i) {
    Value loop = Value::MakeDict();
    Dict& d = loop.AsDict();
    d.Set("index", Value::Int(i + 1));
    d.Set("index0", Value::Int(i));
    d.Set("revindex", Value::Int(n - i));
    d.Set("revindex0", Value::Int(n - i - 1));
    d.Set("first", Value::Bool(i == 0));
    d.Set("last", Value::Bool(i == n - 1));
    d.Set("length", Value::Int(n));
    d.Set("depth", Value::Int(1));
    d.Set("depth0", Value::Int(0));
    d.Set("previtem", i > 0 ? (*shared_items)[static_cast<size_t>(i - 1)]
                            : Value::Undefined("there is no previous item"));
    d.Set("nextitem", i + 1 < n ? (*shared_items)[static_cast<size_t>(i + 1)]
                                : Value::Undefined("there is no next item"));
    d.Set("cycle", Value::Function("cycle", [i](CallArgs& args) {
            if (args.positional.empty()) throw JinjaError("no items for cycling given");
            return args.positional[static_cast<size_t>(i) % args.positional.size()];
          }));
    loop_scope->vars.Set("loop", loop);
    Unpack(s.targets, (*shared_items)[static_cast<size_t>(i)], &loop_scope->vars);
    if (Exec(s.body, loop_scope, out) == Flow::kBreak) break;
  }
}

void Interpreter::ExecSet(const Stmt& s, const ScopePtr& scope, std::string* out) {
  (void)out;
  Value v;
  if (s.kind == Stmt::Kind::kSetBlock) {
    std::string inner;
    Exec(s.body, scope, &inner);
    v = Value::String(std::move(inner));
    if (s.expr) {
      std::vector<const Expr*> chain;
      for (const Expr* f = s.expr.get(); f != nullptr; f = f->children[0].get()) chain.push_back(f);
      for (auto it = chain.rbegin(); it != chain.rend(); ++it) {
        CallArgs args;
        EvalArgs(**it, 1, scope, &args);
        v = ApplyFilter((*it)->name, v, args);
      }
    }
  } else {
    v = Eval(*s.expr, scope);
  }
  if (!s.target_attr.empty()) {
    const Value ns = Lookup(s.targets[0], scope);
    if (!ns.is_namespace()) throw JinjaError("cannot assign attribute on non-namespace object");
    ns.AsDict().Set(s.target_attr, std::move(v));
    return;
  }
  Unpack(s.targets, v, &scope->vars);
}

Value Interpreter::MakeMacro(const Stmt& s, const ScopePtr& scope, const std::string& name) {
  // The macro reads its defining scope (closures over template variables);
  // macro_scopes_ keeps that scope alive until the render ends.
  const Stmt* stmt = &s;
  macro_scopes_.push_back(scope);
  Scope* defining = scope.get();
  return Value::Function(name, [this, stmt, defining, name](CallArgs& args) {
    if (++call_depth_ > limits_.max_call_depth) {
      --call_depth_;
      throw JinjaError("template macro calls nested deeper than " + std::to_string(limits_.max_call_depth));
    }
    struct DepthRestore {
      int* d;
      ~DepthRestore() { --*d; }
    } restore{&call_depth_};
    auto frame = std::make_shared<Scope>();
    frame->parent = defining->shared_from_this();
    const auto& params = stmt->params;
    List varargs;
    for (size_t i = 0; i < args.positional.size(); ++i) {
      if (i < params.size()) frame->vars.Set(params[i].name, args.positional[i]);
      else varargs.push_back(args.positional[i]);
    }
    Value kwargs = Value::MakeDict();
    for (const auto& [k, v] : args.keyword) {
      bool is_param = false;
      for (const auto& p : params) is_param |= p.name == k;
      if (is_param) {
        frame->vars.Set(k, v);
      } else if (k == "caller") {
        frame->vars.Set("caller", v);
      } else {
        kwargs.AsDict().Set(k, v);
      }
    }
    for (const auto& p : params) {
      if (frame->vars.Find(p.name) != nullptr) continue;
      frame->vars.Set(p.name, p.default_value ? Eval(*p.default_value, frame)
                                              : Value::Undefined("parameter '" + p.name + "' was not provided"));
    }
    frame->vars.Set("varargs", Value::MakeList(std::move(varargs)));
    frame->vars.Set("kwargs", kwargs);
    std::string out;
    Exec(stmt->body, frame, &out);
    return Value::String(std::move(out));
  });
}

Value Interpreter::Lookup(const std::string& name, const ScopePtr& scope) {
  for (Scope* s = scope.get(); s != nullptr; s = s->parent.get()) {
    if (const Value* v = s->vars.Find(name)) return *v;
  }
  if (const Value* g = globals_.AsDict().Find(name)) return *g;
  return Value::Undefined("'" + name + "' is undefined");
}

void Interpreter::EvalArgs(const Expr& e, size_t first, const ScopePtr& scope, CallArgs* args) {
  for (size_t i = first; i < e.children.size(); ++i) args->positional.push_back(Eval(*e.children[i], scope));
  for (const auto& [k, v] : e.kwargs) args->keyword.emplace_back(k, Eval(*v, scope));
}

Value Interpreter::GetAttr(const Value& object, const std::string& name) {
  switch (object.kind()) {
    case Value::Kind::kUndefined: ThrowUndefined(object);
    case Value::Kind::kDict:
    case Value::Kind::kNamespace: {
      if (object.is_dict()) {
        Value method = BoundMethod(this, object, name);
        if (!method.is_undefined() || !method.undefined_hint().empty()) return method;
      }
      if (const Value* v = object.AsDict().Find(name)) return *v;
      return MissingAttribute(object, name);
    }
    default: {
      Value method = BoundMethod(this, object, name);
      if (!method.is_undefined() || !method.undefined_hint().empty()) return method;
      return MissingAttribute(object, name);
    }
  }
}

Value Interpreter::GetItem(const Value& object, const Value& key) {
  if (object.is_undefined()) ThrowUndefined(object);
  if (object.is_dict() || object.is_namespace()) {
    if (key.is_string()) {
      if (const Value* v = object.AsDict().Find(key.AsString())) return *v;
      return GetAttr(object, key.AsString());
    }
    if (const Value* v = object.AsDict().Find(ToStr(key))) return *v;
    return MissingElement(object, key);
  }
  if ((object.is_list() && !object.is_generator()) || object.is_string()) {
    if (key.is_int() || key.is_bool()) {
      int64_t i = key.AsInt();
      if (object.is_list()) {
        const int64_t n = static_cast<int64_t>(object.AsList().size());
        if (i < 0) i += n;
        if (i < 0 || i >= n) return MissingElement(object, key);
        return object.AsList()[static_cast<size_t>(i)];
      }
      const auto cps = CodePoints(object.AsString());
      const int64_t n = static_cast<int64_t>(cps.size());
      if (i < 0) i += n;
      if (i < 0 || i >= n) return MissingElement(object, key);
      return Value::String(std::string(cps[static_cast<size_t>(i)]));
    }
  }
  if (key.is_string()) return GetAttr(object, key.AsString());
  return MissingElement(object, key);
}

Value Interpreter::Call(const Value& callee, CallArgs& args) {
  if (callee.is_undefined()) ThrowUndefined(callee);
  if (!callee.is_function()) throw JinjaError("'" + callee.TypeName() + "' object is not callable");
  return callee.function()(args);
}

namespace {

Value Slice(const Value& object, const Value& start_v, const Value& stop_v, const Value& step_v) {
  auto as_index = [](const Value& v, const char* what) -> std::optional<int64_t> {
    if (v.is_undefined() || v.is_none()) return std::nullopt;
    if (!v.is_int() && !v.is_bool())
      throw JinjaError(std::string("slice ") + what + " must be an integer or None");
    return v.AsInt();
  };
  const int64_t step = as_index(step_v, "step").value_or(1);
  if (step == 0) throw JinjaError("slice step cannot be zero");
  std::vector<std::string_view> cps;
  int64_t n = 0;
  if (object.is_string()) {
    cps = CodePoints(object.AsString());
    n = static_cast<int64_t>(cps.size());
  } else if (object.is_list() && !object.is_generator()) {
    n = static_cast<int64_t>(object.AsList().size());
  } else {
    if (object.is_undefined()) ThrowUndefined(object);
    throw JinjaError("'" + object.TypeName() + "' object is not subscriptable");
  }
  // Python's slice.indices().
  auto clamp = [&](std::optional<int64_t> v, int64_t dflt) {
    if (!v) return dflt;
    int64_t x = *v;
    if (x < 0) x += n;
    if (step > 0) return std::clamp<int64_t>(x, 0, n);
    return std::clamp<int64_t>(x, -1, n - 1);
  };
  const int64_t start = clamp(as_index(start_v, "start"), step > 0 ? 0 : n - 1);
  const int64_t stop = clamp(as_index(stop_v, "stop"), step > 0 ? n : -1);
  std::vector<int64_t> idx;
  if (step > 0)
    for (int64_t i = start; i < stop; i += step) idx.push_back(i);
  else
    for (int64_t i = start; i > stop; i += step) idx.push_back(i);
  if (object.is_string()) {
    std::string out;
    for (int64_t i : idx) out += cps[static_cast<size_t>(i)];
    return Value::String(std::move(out));
  }
  List out;
  for (int64_t i : idx) out.push_back(object.AsList()[static_cast<size_t>(i)]);
  return Value::MakeList(std::move(out));
}

}  // namespace

Value Interpreter::Eval(const Expr& e, const ScopePtr& scope) {
  Step();
  switch (e.kind) {
    case Expr::Kind::kLiteral: return e.literal;
    case Expr::Kind::kName: return Lookup(e.name, scope);
    case Expr::Kind::kList:
    case Expr::Kind::kTuple: {
      List items;
      for (const auto& c : e.children) items.push_back(Eval(*c, scope));
      return Value::MakeList(std::move(items));
    }
    case Expr::Kind::kDict: {
      Value d = Value::MakeDict();
      for (size_t i = 0; i + 1 < e.children.size(); i += 2) {
        const Value k = Eval(*e.children[i], scope);
        d.AsDict().Set(k.is_string() ? k.AsString() : ToStr(k), Eval(*e.children[i + 1], scope));
      }
      return d;
    }
    case Expr::Kind::kGetAttr: return GetAttr(Eval(*e.children[0], scope), e.name);
    case Expr::Kind::kGetItem: return GetItem(Eval(*e.children[0], scope), Eval(*e.children[1], scope));
    case Expr::Kind::kSlice: {
      const Value obj = Eval(*e.children[0], scope);
      auto opt = [&](size_t i) { return e.children[i] ? Eval(*e.children[i], scope) : Value::None(); };
      return Slice(obj, opt(1), opt(2), opt(3));
    }
    case Expr::Kind::kCall: {
      const Value callee = Eval(*e.children[0], scope);
      CallArgs args;
      EvalArgs(e, 1, scope, &args);
      return Call(callee, args);
    }
    case Expr::Kind::kFilter: {
      const Value v = Eval(*e.children[0], scope);
      CallArgs args;
      EvalArgs(e, 1, scope, &args);
      return ApplyFilter(e.name, v, args);
    }
    case Expr::Kind::kTest: {
      const Value v = Eval(*e.children[0], scope);
      CallArgs args;
      EvalArgs(e, 1, scope, &args);
      const bool r = ApplyTest(e.name, v, args);
      return Value::Bool(e.negated ? !r : r);
    }
    case Expr::Kind::kUnary: {
      const Value v = Eval(*e.children[0], scope);
      if (e.name == "not") return Value::Bool(!v.Truthy());
      if (v.is_undefined()) ThrowUndefined(v);
      if (!v.is_number()) throw JinjaError("bad operand type for unary " + e.name + ": '" + v.TypeName() + "'");
      if (e.name == "+") return v.is_float() ? v : Value::Int(v.AsInt());
      if (v.is_float()) return Value::Float(-v.AsFloat());
      if (v.AsInt() == std::numeric_limits<int64_t>::min()) return Value::Float(-v.AsFloat());
      return Value::Int(-v.AsInt());
    }
    case Expr::Kind::kAnd: {
      Value a = Eval(*e.children[0], scope);
      return a.Truthy() ? Eval(*e.children[1], scope) : a;
    }
    case Expr::Kind::kOr: {
      Value a = Eval(*e.children[0], scope);
      return a.Truthy() ? a : Eval(*e.children[1], scope);
    }
    case Expr::Kind::kCondition: {
      if (Eval(*e.children[0], scope).Truthy()) return Eval(*e.children[1], scope);
      if (e.children[2]) return Eval(*e.children[2], scope);
      return Value::Undefined("the inline if expression evaluated to false and no else section was defined");
    }
    case Expr::Kind::kBinary:
      return EvalBinary(e.name, Eval(*e.children[0], scope), Eval(*e.children[1], scope));
    case Expr::Kind::kCompareChain: {
      Value left = Eval(*e.children[0], scope);
      for (size_t i = 0; i < e.ops.size(); ++i) {
        Value right = Eval(*e.children[i + 1], scope);
        if (!EvalBinary(e.ops[i], left, right).Truthy()) return Value::Bool(false);
        left = std::move(right);
      }
      return Value::Bool(true);
    }
  }
  return Value();
}

Value Interpreter::EvalBinary(const std::string& op, const Value& a, const Value& b) {
  if (op == "~") {
    // Without autoescape jinja2 compiles ~ to a plain str join (no Markup
    // escaping, unlike +).
    std::string s = ToStr(a);
    const std::string t = ToStr(b);
    CheckSize(s.size() + t.size());
    return Value::String(s + t);
  }
  if (op == "==") return Value::Bool(a.Equals(b));
  if (op == "!=") return Value::Bool(!a.Equals(b));
  if (op == "in" || op == "not in") {
    if (b.is_string() && a.is_undefined()) ThrowUndefined(a);
    const bool found = Contains(b, a);
    return Value::Bool(op == "in" ? found : !found);
  }
  if (op == "<" || op == "<=" || op == ">" || op == ">=") {
    const int c = CompareValues(a, b);
    if (op == "<") return Value::Bool(c < 0);
    if (op == "<=") return Value::Bool(c <= 0);
    if (op == ">") return Value::Bool(c > 0);
    return Value::Bool(c >= 0);
  }
  // Arithmetic.
  if (a.is_undefined()) ThrowUndefined(a);
  if (b.is_undefined()) ThrowUndefined(b);
  if (op == "%" && a.is_string()) {
    std::string s = PercentFormat(a.AsString(), b);
    CheckSize(s.size());
    return Value::String(std::move(s));
  }
  if (op == "+") {
    if (a.is_string() || b.is_string()) {
      if (!a.is_string()) TypeError("+", a, b);
      if (!b.is_string()) throw JinjaError("can only concatenate str (not \"" + b.TypeName() + "\") to str");
      CheckSize(a.AsString().size() + b.AsString().size());
      if (a.is_safe() != b.is_safe()) {  // Markup + str escapes the str
        return Value::SafeString(a.is_safe() ? a.AsString() + HtmlEscape(b.AsString())
                                             : HtmlEscape(a.AsString()) + b.AsString());
      }
      return a.is_safe() ? Value::SafeString(a.AsString() + b.AsString()) : Value::String(a.AsString() + b.AsString());
    }
    if (a.is_list() && !a.is_generator()) {
      if (!b.is_list() || b.is_generator())
        throw JinjaError("can only concatenate list (not \"" + b.TypeName() + "\") to list");
      List out = a.AsList();
      CheckSize((out.size() + b.AsList().size()) * sizeof(Value));
      out.insert(out.end(), b.AsList().begin(), b.AsList().end());
      return Value::MakeList(std::move(out));
    }
  }
  if (op == "*") {
    const Value* seq = a.is_string() || a.is_list() ? &a : b.is_string() || b.is_list() ? &b : nullptr;
    const Value* count = seq == &a ? &b : &a;
    if (seq != nullptr && (count->is_int() || count->is_bool())) {
      const int64_t n = std::max<int64_t>(0, count->AsInt());
      if (seq->is_string()) {
        if (n > 0 && seq->AsString().size() > 0) CheckSize(seq->AsString().size() * static_cast<size_t>(std::min<int64_t>(n, limits_.max_output_bytes + 1)));
        std::string out;
        for (int64_t i = 0; i < n && !seq->AsString().empty(); ++i) out += seq->AsString();
        return Value::String(std::move(out));
      }
      CountIterations(n * static_cast<int64_t>(seq->AsList().size()));
      List out;
      for (int64_t i = 0; i < n; ++i) out.insert(out.end(), seq->AsList().begin(), seq->AsList().end());
      return Value::MakeList(std::move(out));
    }
  }
  if (!a.is_number() || !b.is_number()) TypeError(op, a, b);
  const bool as_float = a.is_float() || b.is_float();
  if (op == "/") {
    if (b.AsFloat() == 0.0) throw JinjaError("division by zero");
    return Value::Float(a.AsFloat() / b.AsFloat());
  }
  if (as_float) {
    const double x = a.AsFloat(), y = b.AsFloat();
    if (op == "+") return Value::Float(x + y);
    if (op == "-") return Value::Float(x - y);
    if (op == "*") return Value::Float(x * y);
    if (op == "**") return Value::Float(std::pow(x, y));
    if (y == 0.0) throw JinjaError("float division by zero");
    if (op == "//") return Value::Float(std::floor(x / y));
    if (op == "%") {
      double m = std::fmod(x, y);
      if (m != 0 && ((m < 0) != (y < 0))) m += y;
      return Value::Float(m);
    }
  } else {
    const int64_t x = a.AsInt(), y = b.AsInt();
    int64_t r = 0;
    if (op == "+") return __builtin_add_overflow(x, y, &r) ? Value::Float(double(x) + double(y)) : Value::Int(r);
    if (op == "-") return __builtin_sub_overflow(x, y, &r) ? Value::Float(double(x) - double(y)) : Value::Int(r);
    if (op == "*") return __builtin_mul_overflow(x, y, &r) ? Value::Float(double(x) * double(y)) : Value::Int(r);
    if (op == "**") {
      if (y < 0) return Value::Float(std::pow(double(x), double(y)));
      int64_t result = 1;
      for (int64_t i = 0; i < y; ++i) {
        Step();
        if (__builtin_mul_overflow(result, x, &result)) return Value::Float(std::pow(double(x), double(y)));
      }
      return Value::Int(result);
    }
    if (y == 0) throw JinjaError(op == "%" ? "integer modulo by zero" : "integer division or modulo by zero");
    if (x == std::numeric_limits<int64_t>::min() && y == -1) return Value::Float(-static_cast<double>(x));
    if (op == "//") return Value::Int(FloorDiv(x, y));
    if (op == "%") return Value::Int(FloorMod(x, y));
  }
  TypeError(op, a, b);
}

}  // namespace jarvis::jinja
