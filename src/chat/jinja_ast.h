// The syntax tree of a parsed Jinja template (jinja_parser.h builds it,
// jinja_interpreter.cpp walks it).
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "chat/jinja_value.h"

namespace jarvis::jinja {

struct Expr;
using ExprPtr = std::unique_ptr<Expr>;

struct Expr {
  enum class Kind {
    kLiteral,   // literal
    kName,      // name
    kList,      // children: items
    kTuple,     // children: items (a tuple is a list at run time)
    kDict,      // children: key0, value0, key1, value1, ...
    kGetAttr,   // children[0].name
    kGetItem,   // children[0][children[1]]
    kSlice,     // children[0][children[1]:children[2]:children[3]] (each may be null)
    kCall,      // children[0](children[1..], kwargs)
    kFilter,    // children[0] | name(children[1..], kwargs); children[0] null in a filter block
    kTest,      // children[0] is [not] name(children[1..], kwargs)
    kUnary,     // name ("-", "+", "not") children[0]
    kBinary,    // children[0] name children[1]: + - * / // % ** ~ == != < <= > >= in "not in"
    kAnd,       // children[0] and children[1]
    kOr,        // children[0] or children[1]
    kCondition, // children[1] if children[0] else children[2] (children[2] may be null)
    kCompareChain, // children[0] ops[0] children[1] ops[1] children[2] ... (Python's a < b < c)
  };
  Kind kind;
  int line = 0;
  Value literal;
  std::string name;
  bool negated = false;  // "is not"
  std::vector<ExprPtr> children;
  std::vector<std::pair<std::string, ExprPtr>> kwargs;
  std::vector<std::string> ops;  // kCompareChain
};

struct Stmt;
using StmtPtr = std::unique_ptr<Stmt>;
using Body = std::vector<StmtPtr>;

struct MacroParam {
  std::string name;
  ExprPtr default_value;  // null: required
};

struct Stmt {
  enum class Kind {
    kText,       // text
    kOutput,     // {{ expr }}
    kIf,         // branches (a null condition is the else branch)
    kFor,        // for targets in expr [if condition]: body [else else_body]
    kSet,        // set targets = expr, or set target_object.target_attr = expr
    kSetBlock,   // set targets[0] [| filter] %}body{% endset
    kMacro,      // macro name(params): body
    kCallBlock,  // call(params) expr: body (body is the caller)
    kFilterBlock,// filter expr (a kFilter chain with a null operand): body
    kBreak,
    kContinue,
    kScope,      // body in its own scope ({% generation %})
  };
  Kind kind;
  int line = 0;
  std::string text;
  ExprPtr expr;
  ExprPtr condition;
  std::vector<std::string> targets;
  std::string target_attr;  // set ns.attr: targets[0] = "ns", target_attr = "attr"
  std::vector<std::pair<ExprPtr, Body>> branches;
  Body body;
  Body else_body;
  std::string name;
  std::vector<MacroParam> params;
};

}  // namespace jarvis::jinja
