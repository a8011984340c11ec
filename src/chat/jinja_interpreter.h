// Walks a parsed template (jinja_ast.h) and produces its output, with the
// semantics of jinja2's ImmutableSandboxedEnvironment as Hugging Face
// transformers configures it (default Undefined, unsafe mutating methods,
// loop controls, raise_exception, strftime_now).
//
// Every render is bounded (RenderLimits): a template from an untrusted GGUF
// cannot loop forever, recurse without end or produce unbounded output.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "chat/jinja_ast.h"

namespace jarvis::jinja {

struct RenderLimits {
  int64_t max_steps = 50'000'000;          // expression evaluations + statements executed
  int64_t max_loop_iterations = 5'000'000; // for-loop iterations in total (and range() length)
  int64_t max_output_bytes = 16 << 20;     // the rendered text, and any single string built
  int max_call_depth = 100;                // nested macro / caller calls
};

using Clock = std::function<std::chrono::system_clock::time_point()>;

struct Scope;

class Interpreter {
 public:
  Interpreter(const RenderLimits& limits, Clock clock);
  ~Interpreter();

  // Renders `body` with `variables` (a dict) as the template's context.
  // Throws JinjaError.
  std::string Render(const Body& body, const Value& variables);

  // Used by the built-ins (jinja_builtins.cpp).
  Value ApplyFilter(const std::string& name, const Value& value, CallArgs& args);
  bool ApplyTest(const std::string& name, const Value& value, CallArgs& args);
  Value GetAttr(const Value& object, const std::string& name);
  Value GetItem(const Value& object, const Value& key);
  Value Call(const Value& callee, CallArgs& args);
  void CheckSize(size_t bytes) const;
  void CountIterations(int64_t n);
  const RenderLimits& limits() const { return limits_; }
  // namespace() objects of this render; ~Interpreter empties them, so that a
  // namespace holding itself ({% set ns.me = ns %}) cannot leak.
  void TrackNamespace(const Value& ns) { namespaces_.push_back(ns); }
  std::chrono::system_clock::time_point Now() const { return clock_(); }

 private:
  enum class Flow { kNormal, kBreak, kContinue };
  using ScopePtr = std::shared_ptr<Scope>;

  Flow Exec(const Body& body, const ScopePtr& scope, std::string* out);
  Flow ExecStmt(const Stmt& s, const ScopePtr& scope, std::string* out);
  void ExecFor(const Stmt& s, const ScopePtr& scope, std::string* out);
  void ExecSet(const Stmt& s, const ScopePtr& scope, std::string* out);
  Value MakeMacro(const Stmt& s, const ScopePtr& scope, const std::string& name);
  Value Eval(const Expr& e, const ScopePtr& scope);
  Value EvalBinary(const std::string& op, const Value& a, const Value& b);
  void EvalArgs(const Expr& e, size_t first, const ScopePtr& scope, CallArgs* args);
  Value Lookup(const std::string& name, const ScopePtr& scope);
  void Step();
  void Append(std::string* out, std::string_view text);

  RenderLimits limits_;
  Clock clock_;
  int64_t steps_ = 0;
  int64_t iterations_ = 0;
  int call_depth_ = 0;
  Value globals_;
  // Scopes that macros close over. A macro holds its scope by raw pointer
  // (a shared_ptr would form a cycle: scope -> macro value -> scope); the
  // scopes live here until the render ends.
  std::vector<ScopePtr> macro_scopes_;
  std::vector<Value> namespaces_;
};

// Raises the error an Undefined raises when used (its hint, or
// "'x' is undefined").
[[noreturn]] void ThrowUndefined(const Value& v);

// Python-like binary helpers shared by filters.
int CompareValues(const Value& a, const Value& b, bool case_sensitive = true);

}  // namespace jarvis::jinja
