// jinja2's built-in globals, filters, tests and the Python methods a sandboxed
// template may call on str, dict and list values. The filter and test tables
// are Interpreter::ApplyFilter / ApplyTest (defined in jinja_builtins.cpp).
#pragma once

#include <string>

#include "chat/jinja_interpreter.h"

namespace jarvis::jinja {

// range, namespace, dict, raise_exception, strftime_now, cycler-free subset.
Value MakeGlobals(Interpreter* interp);

// `object.name` when it names a Python method: a callable bound to `object`;
// an Undefined carrying the sandbox's "unsafe" message for mutating methods
// (list.append, dict.pop, ...); a hint-less Undefined when there is no such
// method.
Value BoundMethod(Interpreter* interp, const Value& object, const std::string& name);

// markupsafe.escape of a str.
std::string HtmlEscape(const std::string& s);

// Python's `needle in haystack` (substring, list member, dict key).
bool Contains(const Value& haystack, const Value& needle);

// Python's printf-style "fmt % args".
std::string PercentFormat(const std::string& fmt, const Value& args);

}  // namespace jarvis::jinja
