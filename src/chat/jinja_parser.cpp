#include "chat/jinja_parser.h"

#include <cstdlib>
#include <string>
#include <vector>

namespace jarvis::jinja {
namespace {

// --- Lexer -------------------------------------------------------------------

struct Token {
  enum class Type { kText, kVarBegin, kVarEnd, kBlockBegin, kBlockEnd, kName, kString, kInt, kFloat, kOp, kEof };
  Type type;
  std::string value;
  int line = 1;
};

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }
bool IsNameStart(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}
bool IsNameChar(char c) { return IsNameStart(c) || (c >= '0' && c <= '9'); }

// jinja2 reads the source through str.splitlines() and joins with "\n": line
// ends are normalized and one final newline is dropped (keep_trailing_newline
// is off).
std::string NormalizeNewlines(std::string_view src) {
  std::string out;
  out.reserve(src.size());
  for (size_t i = 0; i < src.size(); ++i) {
    if (src[i] == '\r') {
      out += '\n';
      if (i + 1 < src.size() && src[i + 1] == '\n') ++i;
    } else {
      out += src[i];
    }
  }
  if (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

class Lexer {
 public:
  Lexer(std::string_view source, const LexOptions& options) : src_(NormalizeNewlines(source)), opt_(options) {}

  std::vector<Token> Run() {
    bool line_starting = true;  // the previous tag's match ended with "\n" (jinja2's rule for lstrip)
    while (pos_ < src_.size()) {
      const size_t start = FindTagStart(pos_);
      std::string text = src_.substr(pos_, start - pos_);
      if (start == src_.size()) {
        PushText(std::move(text));
        pos_ = start;
        break;
      }
      const char kind = src_[start + 1];  // '{', '%' or '#'
      const char sign = start + 2 < src_.size() ? src_[start + 2] : '\0';
      if (sign == '-') {
        while (!text.empty() && IsSpace(text.back())) text.pop_back();
      } else if (sign != '+' && opt_.lstrip_blocks && kind != '{') {
        const size_t nl = text.rfind('\n');
        const size_t l_pos = nl == std::string::npos ? 0 : nl + 1;
        if (l_pos > 0 || line_starting) {
          bool blank = true;
          for (size_t i = l_pos; i < text.size(); ++i)
            if (!IsSpace(text[i])) blank = false;
          if (blank) text.resize(l_pos);
        }
      }
      line_ += CountNewlines(src_.substr(pos_, start - pos_));
      PushText(std::move(text));
      pos_ = start + 2 + ((sign == '-' || sign == '+') ? 1 : 0);
      if (kind == '#') {
        line_starting = LexComment();
      } else if (kind == '{') {
        tokens_.push_back({Token::Type::kVarBegin, "", line_});
        LexInside(/*block=*/false);
        line_starting = false;
      } else {
        tokens_.push_back({Token::Type::kBlockBegin, "", line_});
        const size_t first = tokens_.size();
        line_starting = LexInside(/*block=*/true);
        if (tokens_.size() == first + 2 && tokens_[first].type == Token::Type::kName && tokens_[first].value == "raw") {
          tokens_.resize(first - 1);
          line_starting = LexRaw();
        }
      }
    }
    tokens_.push_back({Token::Type::kEof, "", line_});
    return std::move(tokens_);
  }

 private:
  static int CountNewlines(std::string_view s) {
    int n = 0;
    for (char c : s) n += c == '\n';
    return n;
  }

  size_t FindTagStart(size_t from) const {
    for (size_t i = from; i + 1 < src_.size(); ++i) {
      if (src_[i] == '{' && (src_[i + 1] == '{' || src_[i + 1] == '%' || src_[i + 1] == '#')) return i;
    }
    return src_.size();
  }

  void PushText(std::string text) {
    if (!text.empty()) tokens_.push_back({Token::Type::kText, std::move(text), line_});
  }

  [[noreturn]] void Fail(const std::string& what) const {
    throw JinjaError("template syntax error (line " + std::to_string(line_) + "): " + what);
  }

  // After a tag's closing marker: "-" strips all following whitespace;
  // trim_blocks drops one newline after a block/comment tag. Returns whether
  // the consumed end ended with a newline.
  bool AfterTagEnd(char sign, bool block_like) {
    if (sign == '-') {
      size_t p = pos_;
      while (p < src_.size() && IsSpace(src_[p])) ++p;
      const bool nl = p > pos_ && src_[p - 1] == '\n';
      line_ += CountNewlines(std::string_view(src_).substr(pos_, p - pos_));
      pos_ = p;
      return nl;
    }
    if (block_like && sign != '+' && opt_.trim_blocks && pos_ < src_.size() && src_[pos_] == '\n') {
      ++pos_;
      ++line_;
      return true;
    }
    return false;
  }

  bool LexComment() {
    const size_t end = src_.find("#}", pos_);
    if (end == std::string::npos) Fail("unterminated comment");
    line_ += CountNewlines(std::string_view(src_).substr(pos_, end - pos_));
    const char sign = end > pos_ && (src_[end - 1] == '-' || src_[end - 1] == '+') ? src_[end - 1] : '\0';
    pos_ = end + 2;
    return AfterTagEnd(sign, true);
  }

  bool LexRaw() {
    // Everything up to {% endraw %} is text.
    size_t search = pos_;
    while (true) {
      const size_t open = src_.find("{%", search);
      if (open == std::string::npos) Fail("missing endraw");
      size_t p = open + 2;
      char sign_open = '\0';
      if (p < src_.size() && (src_[p] == '-' || src_[p] == '+')) sign_open = src_[p++];
      while (p < src_.size() && IsSpace(src_[p])) ++p;
      if (src_.compare(p, 6, "endraw") != 0) {
        search = open + 2;
        continue;
      }
      p += 6;
      while (p < src_.size() && IsSpace(src_[p])) ++p;
      char sign_close = '\0';
      if (p < src_.size() && (src_[p] == '-' || src_[p] == '+')) sign_close = src_[p++];
      if (src_.compare(p, 2, "%}") != 0) {
        search = open + 2;
        continue;
      }
      std::string text = src_.substr(pos_, open - pos_);
      if (sign_open == '-')
        while (!text.empty() && IsSpace(text.back())) text.pop_back();
      line_ += CountNewlines(std::string_view(src_).substr(pos_, p - pos_));
      PushText(std::move(text));
      pos_ = p + 2;
      return AfterTagEnd(sign_close, true);
    }
  }

  // Tokens of one {{ }} or {% %} tag, up to and including its end marker.
  bool LexInside(bool block) {
    const char closer = block ? '%' : '}';
    int depth = 0;  // brackets: "}}" inside a dict literal does not end the tag
    while (true) {
      while (pos_ < src_.size() && IsSpace(src_[pos_])) {
        if (src_[pos_] == '\n') ++line_;
        ++pos_;
      }
      if (pos_ >= src_.size()) Fail(block ? "unterminated block tag" : "unterminated variable tag");
      const char c = src_[pos_];
      if (depth == 0) {
        char sign = '\0';
        size_t p = pos_;
        const std::string end_marker = std::string(1, closer) + "}";
        if ((c == '-' || c == '+') && src_.compare(p + 1, 2, end_marker) == 0) {
          sign = c;
          p += 1;
        }
        if (src_.compare(p, 2, end_marker) == 0) {
          pos_ = p + 2;
          tokens_.push_back({block ? Token::Type::kBlockEnd : Token::Type::kVarEnd, "", line_});
          return AfterTagEnd(sign, block);
        }
      }
      if (IsNameStart(c)) {
        size_t p = pos_;
        while (p < src_.size() && IsNameChar(src_[p])) ++p;
        tokens_.push_back({Token::Type::kName, src_.substr(pos_, p - pos_), line_});
        pos_ = p;
      } else if (c >= '0' && c <= '9') {
        LexNumber();
      } else if (c == '\'' || c == '"') {
        LexString(c);
      } else {
        static const char* const kOps[] = {"//", "**", "==", "!=", "<=", ">=", "+", "-", "*", "/", "%", "~", "<",
                                           ">",  "=",  "(",  ")",  "[",  "]",  "{", "}", ",", ".", ":", "|"};
        std::string op;
        for (const char* o : kOps) {
          if (src_.compare(pos_, std::char_traits<char>::length(o), o) == 0) {
            op = o;
            break;
          }
        }
        if (op.empty()) Fail(std::string("unexpected character '") + c + "'");
        if (op == "(" || op == "[" || op == "{") ++depth;
        if (op == ")" || op == "]" || op == "}") --depth;
        if (depth < 0) depth = 0;
        tokens_.push_back({Token::Type::kOp, op, line_});
        pos_ += op.size();
      }
    }
  }

  void LexNumber() {
    size_t p = pos_;
    bool is_float = false;
    auto digits = [&] {
      while (p < src_.size() && ((src_[p] >= '0' && src_[p] <= '9') || src_[p] == '_')) ++p;
    };
    digits();
    if (p + 1 < src_.size() && src_[p] == '.' && src_[p + 1] >= '0' && src_[p + 1] <= '9') {
      is_float = true;
      ++p;
      digits();
    }
    if (p < src_.size() && (src_[p] == 'e' || src_[p] == 'E')) {
      size_t q = p + 1;
      if (q < src_.size() && (src_[q] == '+' || src_[q] == '-')) ++q;
      if (q < src_.size() && src_[q] >= '0' && src_[q] <= '9') {
        is_float = true;
        p = q;
        digits();
      }
    }
    std::string text;
    for (size_t i = pos_; i < p; ++i)
      if (src_[i] != '_') text += src_[i];
    tokens_.push_back({is_float ? Token::Type::kFloat : Token::Type::kInt, text, line_});
    pos_ = p;
  }

  static void AppendUtf8(uint32_t cp, std::string* out) {
    if (cp < 0x80) {
      *out += static_cast<char>(cp);
    } else if (cp < 0x800) {
      *out += static_cast<char>(0xC0 | (cp >> 6));
      *out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
      *out += static_cast<char>(0xE0 | (cp >> 12));
      *out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      *out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
      *out += static_cast<char>(0xF0 | (cp >> 18));
      *out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
      *out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      *out += static_cast<char>(0x80 | (cp & 0x3F));
    }
  }

  // A Python string literal (jinja2 unescapes with Python's rules).
  void LexString(char quote) {
    std::string out;
    size_t p = pos_ + 1;
    while (true) {
      if (p >= src_.size()) Fail("unterminated string");
      const char c = src_[p];
      if (c == quote) break;
      if (c == '\n') ++line_;
      if (c != '\\') {
        out += c;
        ++p;
        continue;
      }
      if (p + 1 >= src_.size()) Fail("unterminated string");
      const char e = src_[p + 1];
      p += 2;
      auto hex = [&](int n) {
        if (p + static_cast<size_t>(n) > src_.size()) Fail("bad escape in string");
        const std::string h = src_.substr(p, static_cast<size_t>(n));
        for (char x : h)
          if (!std::isxdigit(static_cast<unsigned char>(x))) Fail("bad escape in string");
        p += static_cast<size_t>(n);
        return static_cast<uint32_t>(std::strtoul(h.c_str(), nullptr, 16));
      };
      switch (e) {
        case 'n': out += '\n'; break;
        case 't': out += '\t'; break;
        case 'r': out += '\r'; break;
        case '\\': out += '\\'; break;
        case '\'': out += '\''; break;
        case '"': out += '"'; break;
        case 'a': out += '\a'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'v': out += '\v'; break;
        case '0': out += '\0'; break;
        case '\n': ++line_; break;  // line continuation
        case 'x': AppendUtf8(hex(2), &out); break;
        case 'u': AppendUtf8(hex(4), &out); break;
        case 'U': {
          const uint32_t cp = hex(8);
          if (cp > 0x10FFFF) Fail("bad \\U escape in string");
          AppendUtf8(cp, &out);
          break;
        }
        default:  // Python keeps unknown escapes verbatim
          out += '\\';
          out += e;
      }
    }
    tokens_.push_back({Token::Type::kString, std::move(out), line_});
    pos_ = p + 1;
  }

  std::string src_;
  LexOptions opt_;
  size_t pos_ = 0;
  int line_ = 1;
  std::vector<Token> tokens_;
};

// --- Parser ------------------------------------------------------------------

class Parser {
 public:
  explicit Parser(std::vector<Token> tokens) : t_(std::move(tokens)) {}

  Body ParseAll() {
    std::string end;
    Body body = ParseBody({}, &end);
    return body;
  }

 private:
  using Type = Token::Type;

  const Token& Cur() const { return t_[i_]; }
  const Token& Peek(size_t k = 1) const { return t_[std::min(i_ + k, t_.size() - 1)]; }
  void Next() {
    if (i_ + 1 < t_.size()) ++i_;
  }
  bool IsOp(std::string_view op) const { return Cur().type == Type::kOp && Cur().value == op; }
  bool IsName(std::string_view n) const { return Cur().type == Type::kName && Cur().value == n; }
  [[noreturn]] void Fail(const std::string& what) const {
    throw JinjaError("template syntax error (line " + std::to_string(Cur().line) + "): " + what);
  }
  void ExpectOp(std::string_view op) {
    if (!IsOp(op)) Fail("expected '" + std::string(op) + "'" + Found());
    Next();
  }
  std::string Found() const {
    switch (Cur().type) {
      case Type::kEof: return ", found end of template";
      case Type::kBlockEnd: return ", found end of block tag";
      case Type::kVarEnd: return ", found end of print tag";
      default: return ", found '" + Cur().value + "'";
    }
  }
  std::string ExpectName() {
    if (Cur().type != Type::kName) Fail("expected a name" + Found());
    std::string n = Cur().value;
    Next();
    return n;
  }
  void ExpectBlockEnd() {
    if (Cur().type != Type::kBlockEnd) Fail("expected end of block tag" + Found());
    Next();
  }

  struct DepthGuard {
    explicit DepthGuard(Parser* parser) : p(parser) {
      if (++p->depth_ > kMaxParseDepth) p->Fail("template nested too deeply");
    }
    ~DepthGuard() { --p->depth_; }
    Parser* p;
  };

  // Statements until one of `ends` (a block tag whose first name is in
  // `ends`); leaves the parser after that name and stores it in *end.
  Body ParseBody(const std::vector<std::string>& ends, std::string* end) {
    DepthGuard guard(this);
    Body body;
    while (true) {
      const Token& tok = Cur();
      if (tok.type == Type::kEof) {
        if (!ends.empty()) Fail("unexpected end of template, expected '" + ends[0] + "'");
        return body;
      }
      if (tok.type == Type::kText) {
        auto s = std::make_unique<Stmt>();
        s->kind = Stmt::Kind::kText;
        s->line = tok.line;
        s->text = tok.value;
        body.push_back(std::move(s));
        Next();
      } else if (tok.type == Type::kVarBegin) {
        auto s = std::make_unique<Stmt>();
        s->kind = Stmt::Kind::kOutput;
        s->line = tok.line;
        Next();
        s->expr = ParseTuple(/*allow_condition=*/true);
        if (Cur().type != Type::kVarEnd) Fail("expected end of print tag" + Found());
        Next();
        body.push_back(std::move(s));
      } else if (tok.type == Type::kBlockBegin) {
        Next();
        if (Cur().type != Type::kName) Fail("expected a statement name" + Found());
        const std::string name = Cur().value;
        for (const auto& e : ends) {
          if (name == e) {
            Next();
            *end = name;
            return body;
          }
        }
        body.push_back(ParseStatement());
      } else {
        Fail("unexpected token" + Found());
      }
    }
  }

  StmtPtr ParseStatement() {
    const std::string name = Cur().value;
    const int line = Cur().line;
    Next();
    auto s = std::make_unique<Stmt>();
    s->line = line;
    if (name == "if") {
      s->kind = Stmt::Kind::kIf;
      ExprPtr cond = ParseExpression(true);
      ExpectBlockEnd();
      while (true) {
        std::string end;
        Body body = ParseBody({"elif", "else", "endif"}, &end);
        s->branches.emplace_back(std::move(cond), std::move(body));
        if (end == "elif") {
          cond = ParseExpression(true);
          ExpectBlockEnd();
        } else if (end == "else") {
          ExpectBlockEnd();
          Body else_body = ParseBody({"endif"}, &end);
          s->branches.emplace_back(nullptr, std::move(else_body));
          ExpectBlockEnd();
          break;
        } else {
          ExpectBlockEnd();
          break;
        }
      }
    } else if (name == "for") {
      s->kind = Stmt::Kind::kFor;
      s->targets = ParseTargets();
      if (!IsName("in")) Fail("expected 'in'" + Found());
      Next();
      s->expr = ParseTuple(/*allow_condition=*/false);
      if (IsName("if")) {
        Next();
        s->condition = ParseExpression(true);
      }
      if (IsName("recursive")) Fail("recursive loops are not supported");
      ExpectBlockEnd();
      std::string end;
      s->body = ParseBody({"else", "endfor"}, &end);
      ExpectBlockEnd();
      if (end == "else") {
        s->else_body = ParseBody({"endfor"}, &end);
        ExpectBlockEnd();
      }
    } else if (name == "set") {
      const std::string first = ExpectName();
      if (IsOp(".")) {
        Next();
        s->kind = Stmt::Kind::kSet;
        s->targets = {first};
        s->target_attr = ExpectName();
        ExpectOp("=");
        s->expr = ParseTuple(true);
        ExpectBlockEnd();
      } else {
        std::vector<std::string> targets = {first};
        while (IsOp(",")) {
          Next();
          if (Cur().type != Type::kName) break;
          targets.push_back(ExpectName());
        }
        s->targets = std::move(targets);
        if (IsOp("=")) {
          Next();
          s->kind = Stmt::Kind::kSet;
          s->expr = ParseTuple(true);
          ExpectBlockEnd();
        } else {
          s->kind = Stmt::Kind::kSetBlock;
          if (s->targets.size() != 1) Fail("a block set assigns one name");
          if (IsOp("|")) s->expr = ParseFilterChain(nullptr);
          ExpectBlockEnd();
          std::string end;
          s->body = ParseBody({"endset"}, &end);
          ExpectBlockEnd();
        }
      }
    } else if (name == "macro") {
      s->kind = Stmt::Kind::kMacro;
      s->name = ExpectName();
      s->params = ParseParams();
      ExpectBlockEnd();
      std::string end;
      s->body = ParseBody({"endmacro"}, &end);
      if (Cur().type == Type::kName) Next();  // {% endmacro name %}
      ExpectBlockEnd();
    } else if (name == "call") {
      s->kind = Stmt::Kind::kCallBlock;
      if (IsOp("(")) s->params = ParseParams();
      s->expr = ParseExpression(true);
      if (s->expr->kind != Expr::Kind::kCall) Fail("expected a call after 'call'");
      ExpectBlockEnd();
      std::string end;
      s->body = ParseBody({"endcall"}, &end);
      ExpectBlockEnd();
    } else if (name == "filter") {
      s->kind = Stmt::Kind::kFilterBlock;
      s->expr = ParseFilterChain(nullptr, /*first_has_bar=*/false);
      ExpectBlockEnd();
      std::string end;
      s->body = ParseBody({"endfilter"}, &end);
      ExpectBlockEnd();
    } else if (name == "generation") {
      s->kind = Stmt::Kind::kScope;
      ExpectBlockEnd();
      std::string end;
      s->body = ParseBody({"endgeneration"}, &end);
      ExpectBlockEnd();
    } else if (name == "break" || name == "continue") {
      s->kind = name == "break" ? Stmt::Kind::kBreak : Stmt::Kind::kContinue;
      ExpectBlockEnd();
    } else {
      Fail("unknown or unsupported tag '" + name + "'");
    }
    return s;
  }

  std::vector<std::string> ParseTargets() {
    std::vector<std::string> targets;
    const bool paren = IsOp("(");
    if (paren) Next();
    targets.push_back(ExpectName());
    while (IsOp(",")) {
      Next();
      if (Cur().type != Type::kName) break;
      targets.push_back(ExpectName());
    }
    if (paren) ExpectOp(")");
    return targets;
  }

  std::vector<MacroParam> ParseParams() {
    std::vector<MacroParam> params;
    ExpectOp("(");
    while (!IsOp(")")) {
      if (!params.empty()) ExpectOp(",");
      if (IsOp(")")) break;
      MacroParam p;
      p.name = ExpectName();
      if (IsOp("=")) {
        Next();
        p.default_value = ParseExpression(true);
      }
      params.push_back(std::move(p));
    }
    Next();
    return params;
  }

  ExprPtr Make(Expr::Kind kind) {
    auto e = std::make_unique<Expr>();
    e->kind = kind;
    e->line = Cur().line;
    return e;
  }

  // "a, b" outside brackets is a tuple (for targets, set, print).
  ExprPtr ParseTuple(bool allow_condition) {
    ExprPtr first = ParseExpression(allow_condition);
    if (!IsOp(",")) return first;
    ExprPtr tuple = Make(Expr::Kind::kTuple);
    tuple->children.push_back(std::move(first));
    while (IsOp(",")) {
      Next();
      if (Cur().type == Type::kBlockEnd || Cur().type == Type::kVarEnd || IsOp(")")) break;
      tuple->children.push_back(ParseExpression(allow_condition));
    }
    return tuple;
  }

  ExprPtr ParseExpression(bool allow_condition) {
    DepthGuard guard(this);
    ExprPtr e = ParseOr();
    if (!allow_condition) return e;
    while (IsName("if")) {
      Next();
      ExprPtr cond = ParseOr();
      ExprPtr c = Make(Expr::Kind::kCondition);
      c->children.push_back(std::move(cond));
      c->children.push_back(std::move(e));
      if (IsName("else")) {
        Next();
        c->children.push_back(ParseExpression(true));
      } else {
        c->children.push_back(nullptr);
      }
      e = std::move(c);
    }
    return e;
  }

  ExprPtr Binary(Expr::Kind kind, std::string op, ExprPtr a, ExprPtr b) {
    ExprPtr e = Make(kind);
    e->name = std::move(op);
    e->children.push_back(std::move(a));
    e->children.push_back(std::move(b));
    return e;
  }

  ExprPtr ParseOr() {
    ExprPtr e = ParseAnd();
    while (IsName("or")) {
      Next();
      e = Binary(Expr::Kind::kOr, "or", std::move(e), ParseAnd());
    }
    return e;
  }
  ExprPtr ParseAnd() {
    ExprPtr e = ParseNot();
    while (IsName("and")) {
      Next();
      e = Binary(Expr::Kind::kAnd, "and", std::move(e), ParseNot());
    }
    return e;
  }
  ExprPtr ParseNot() {
    if (IsName("not")) {
      DepthGuard guard(this);
      Next();
      ExprPtr e = Make(Expr::Kind::kUnary);
      e->name = "not";
      e->children.push_back(ParseNot());
      return e;
    }
    return ParseCompare();
  }
  ExprPtr ParseCompare() {
    ExprPtr first = ParseMath1();
    ExprPtr chain;  // more than one comparison: a < b < c
    ExprPtr e = std::move(first);
    while (true) {
      std::string op;
      if (Cur().type == Type::kOp &&
          (Cur().value == "==" || Cur().value == "!=" || Cur().value == "<" || Cur().value == "<=" ||
           Cur().value == ">" || Cur().value == ">=")) {
        op = Cur().value;
        Next();
      } else if (IsName("in")) {
        op = "in";
        Next();
      } else if (IsName("not") && Peek().type == Type::kName && Peek().value == "in") {
        op = "not in";
        Next();
        Next();
      } else {
        break;
      }
      if (!chain) {
        chain = Make(Expr::Kind::kCompareChain);
        chain->children.push_back(std::move(e));
      }
      chain->ops.push_back(op);
      chain->children.push_back(ParseMath1());
    }
    if (!chain) return e;
    if (chain->ops.size() == 1) {
      return Binary(Expr::Kind::kBinary, chain->ops[0], std::move(chain->children[0]), std::move(chain->children[1]));
    }
    return chain;
  }
  ExprPtr ParseMath1() {
    ExprPtr e = ParseConcat();
    while (IsOp("+") || IsOp("-")) {
      std::string op = Cur().value;
      Next();
      e = Binary(Expr::Kind::kBinary, op, std::move(e), ParseConcat());
    }
    return e;
  }
  ExprPtr ParseConcat() {
    ExprPtr e = ParseMath2();
    while (IsOp("~")) {
      Next();
      e = Binary(Expr::Kind::kBinary, "~", std::move(e), ParseMath2());
    }
    return e;
  }
  ExprPtr ParseMath2() {
    ExprPtr e = ParsePow();
    while (IsOp("*") || IsOp("/") || IsOp("//") || IsOp("%")) {
      std::string op = Cur().value;
      Next();
      e = Binary(Expr::Kind::kBinary, op, std::move(e), ParsePow());
    }
    return e;
  }
  ExprPtr ParsePow() {
    ExprPtr e = ParseUnary(true);
    while (IsOp("**")) {
      Next();
      e = Binary(Expr::Kind::kBinary, "**", std::move(e), ParseUnary(true));
    }
    return e;
  }
  ExprPtr ParseUnary(bool with_filter) {
    DepthGuard guard(this);
    ExprPtr e;
    if (IsOp("-") || IsOp("+")) {
      e = Make(Expr::Kind::kUnary);
      e->name = Cur().value;
      Next();
      e->children.push_back(ParseUnary(false));
    } else {
      e = ParsePostfix(ParsePrimary());
    }
    if (with_filter) e = ParseFilterExpr(std::move(e));
    return e;
  }

  ExprPtr ParsePrimary() {
    const Token& tok = Cur();
    if (tok.type == Type::kName) {
      const std::string& n = tok.value;
      ExprPtr e = Make(Expr::Kind::kLiteral);
      if (n == "true" || n == "True") e->literal = Value::Bool(true);
      else if (n == "false" || n == "False") e->literal = Value::Bool(false);
      else if (n == "none" || n == "None") e->literal = Value::None();
      else {
        e->kind = Expr::Kind::kName;
        e->name = n;
      }
      Next();
      return e;
    }
    if (tok.type == Type::kString) {
      std::string s;
      while (Cur().type == Type::kString) {  // adjacent literals concatenate
        s += Cur().value;
        Next();
      }
      ExprPtr e = Make(Expr::Kind::kLiteral);
      e->literal = Value::String(std::move(s));
      return e;
    }
    if (tok.type == Type::kInt) {
      ExprPtr e = Make(Expr::Kind::kLiteral);
      errno = 0;
      const long long v = std::strtoll(tok.value.c_str(), nullptr, 10);
      if (errno == ERANGE) Fail("integer literal too large");
      e->literal = Value::Int(v);
      Next();
      return e;
    }
    if (tok.type == Type::kFloat) {
      ExprPtr e = Make(Expr::Kind::kLiteral);
      e->literal = Value::Float(std::strtod(tok.value.c_str(), nullptr));
      Next();
      return e;
    }
    if (IsOp("(")) {
      Next();
      if (IsOp(")")) {
        Next();
        return Make(Expr::Kind::kTuple);
      }
      ExprPtr e = ParseExpression(true);
      if (IsOp(",")) {
        ExprPtr tuple = Make(Expr::Kind::kTuple);
        tuple->children.push_back(std::move(e));
        while (IsOp(",")) {
          Next();
          if (IsOp(")")) break;
          tuple->children.push_back(ParseExpression(true));
        }
        e = std::move(tuple);
      }
      ExpectOp(")");
      return e;
    }
    if (IsOp("[")) {
      ExprPtr e = Make(Expr::Kind::kList);
      Next();
      while (!IsOp("]")) {
        if (!e->children.empty()) ExpectOp(",");
        if (IsOp("]")) break;
        e->children.push_back(ParseExpression(true));
      }
      Next();
      return e;
    }
    if (IsOp("{")) {
      ExprPtr e = Make(Expr::Kind::kDict);
      Next();
      while (!IsOp("}")) {
        if (!e->children.empty()) ExpectOp(",");
        if (IsOp("}")) break;
        e->children.push_back(ParseExpression(true));
        ExpectOp(":");
        e->children.push_back(ParseExpression(true));
      }
      Next();
      return e;
    }
    Fail("unexpected token" + Found());
  }

  ExprPtr ParsePostfix(ExprPtr e) {
    while (true) {
      if (IsOp(".")) {
        Next();
        ExprPtr a = Make(Expr::Kind::kGetAttr);
        if (Cur().type == Type::kName) {
          a->name = Cur().value;
        } else if (Cur().type == Type::kInt) {  // foo.0 is foo[0]
          a->kind = Expr::Kind::kGetItem;
          ExprPtr idx = Make(Expr::Kind::kLiteral);
          idx->literal = Value::Int(std::strtoll(Cur().value.c_str(), nullptr, 10));
          a->children.push_back(std::move(e));
          a->children.push_back(std::move(idx));
          Next();
          e = std::move(a);
          continue;
        } else {
          Fail("expected an attribute name" + Found());
        }
        Next();
        a->children.push_back(std::move(e));
        e = std::move(a);
      } else if (IsOp("[")) {
        Next();
        ExprPtr parts[3];
        bool slice = false;
        int part = 0;
        while (!IsOp("]")) {
          if (IsOp(":")) {
            slice = true;
            if (++part > 2) Fail("too many ':' in a slice");
            Next();
            continue;
          }
          if (parts[part]) Fail("expected ']'" + Found());
          parts[part] = ParseExpression(true);
        }
        Next();
        ExprPtr g = Make(slice ? Expr::Kind::kSlice : Expr::Kind::kGetItem);
        g->children.push_back(std::move(e));
        if (slice) {
          for (auto& p : parts) g->children.push_back(std::move(p));
        } else {
          if (!parts[0]) Fail("empty subscript");
          g->children.push_back(std::move(parts[0]));
        }
        e = std::move(g);
      } else if (IsOp("(")) {
        ExprPtr c = Make(Expr::Kind::kCall);
        c->children.push_back(std::move(e));
        ParseCallArgs(c.get());
        e = std::move(c);
      } else {
        return e;
      }
    }
  }

  // "(a, b, key=c)" into e->children (after what is there) and e->kwargs.
  void ParseCallArgs(Expr* e) {
    ExpectOp("(");
    bool first = true;
    while (!IsOp(")")) {
      if (!first) ExpectOp(",");
      first = false;
      if (IsOp(")")) break;
      if (Cur().type == Type::kName && Peek().type == Type::kOp && Peek().value == "=") {
        std::string key = Cur().value;
        Next();
        Next();
        e->kwargs.emplace_back(std::move(key), ParseExpression(true));
      } else {
        if (IsOp("*") || IsOp("**")) Fail("*args and **kwargs in calls are not supported");
        e->children.push_back(ParseExpression(true));
      }
    }
    Next();
  }

  ExprPtr ParseFilterChain(ExprPtr operand, bool first_has_bar = true) {
    bool need_bar = first_has_bar;
    ExprPtr e = std::move(operand);
    while (!need_bar || IsOp("|")) {
      if (need_bar) Next();
      need_bar = true;
      ExprPtr f = Make(Expr::Kind::kFilter);
      f->name = ExpectName();
      while (IsOp(".")) {  // dotted filter names are not a thing in chat templates
        Fail("unexpected '.' in filter name");
      }
      f->children.push_back(std::move(e));
      if (IsOp("(")) ParseCallArgs(f.get());
      e = std::move(f);
    }
    return e;
  }

  ExprPtr ParseFilterExpr(ExprPtr e) {
    while (true) {
      if (IsOp("|")) {
        e = ParseFilterChain(std::move(e));
      } else if (IsName("is")) {
        Next();
        ExprPtr t = Make(Expr::Kind::kTest);
        if (IsName("not")) {
          t->negated = true;
          Next();
        }
        t->name = ExpectName();
        t->children.push_back(std::move(e));
        if (IsOp("(")) {
          ParseCallArgs(t.get());
        } else if ((Cur().type == Type::kName || Cur().type == Type::kString || Cur().type == Type::kInt ||
                    Cur().type == Type::kFloat || IsOp("[") || IsOp("{")) &&
                   !IsName("else") && !IsName("or") && !IsName("and") && !IsName("if") && !IsName("is")) {
          // "is divisibleby 3", "is sameas none": one argument without parentheses.
          t->children.push_back(ParsePostfix(ParsePrimary()));
        }
        e = std::move(t);
      } else if (IsOp("(")) {
        ExprPtr c = Make(Expr::Kind::kCall);
        c->children.push_back(std::move(e));
        ParseCallArgs(c.get());
        e = std::move(c);
      } else {
        return e;
      }
    }
  }

  std::vector<Token> t_;
  size_t i_ = 0;
  int depth_ = 0;
};

}  // namespace

Body ParseTemplate(std::string_view source, const LexOptions& options) {
  Lexer lexer(source, options);
  Parser parser(lexer.Run());
  return parser.ParseAll();
}

}  // namespace jarvis::jinja
