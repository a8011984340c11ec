#include "tokenizer/pretokenizer.h"

#include <array>
#include <utility>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

namespace jarvis {

namespace {

// llama.cpp's pre-tokenizer expressions (src/llama-vocab.cpp, llm_tokenizer_bpe),
// as facts: the behaviour real GGUF users compare against.
constexpr const char* kLlama3Regex =
    R"((?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
constexpr const char* kQwen2Regex =
    R"((?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
// Mistral's Tekken and GPT-4o's expressions, in llama.cpp's lookahead spelling
// of its case classes ([^a-z] among letters for the upper-case run).
constexpr const char* kTekkenRegex =
    R"([^\r\n\p{L}\p{N}]?((?=[\p{L}])([^a-z]))*((?=[\p{L}])([^A-Z]))+|[^\r\n\p{L}\p{N}]?((?=[\p{L}])([^a-z]))+((?=[\p{L}])([^A-Z]))*|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
constexpr const char* kGpt4oRegex =
    R"([^\r\n\p{L}\p{N}]?((?=[\p{L}])([^a-z]))*((?=[\p{L}])([^A-Z]))+(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])?|[^\r\n\p{L}\p{N}]?((?=[\p{L}])([^a-z]))+((?=[\p{L}])([^A-Z]))*(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])?|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
constexpr const char* kGpt2Regex =
    R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S))";

// The Unicode White_Space property, as a bracket-expression body.
constexpr std::string_view kWhiteSpaceClass =
    R"(\t\n\x0B\f\r \x{85}\x{A0}\x{1680}\x{2000}-\x{200A}\x{2028}\x{2029}\x{202F}\x{205F}\x{3000})";

bool NameIn(std::string_view name, std::initializer_list<std::string_view> names) {
  for (const std::string_view n : names) {
    if (name == n) return true;
  }
  return false;
}

std::string PcreMessage(int code) {
  std::array<PCRE2_UCHAR, 256> buf{};
  pcre2_get_error_message(code, buf.data(), buf.size());
  return reinterpret_cast<const char*>(buf.data());
}

}  // namespace

Result<PreTokenizerConfig> PreTokenizerConfigFor(std::string_view pre) {
  PreTokenizerConfig c;
  if (NameIn(pre, {"llama3", "llama-v3", "llama-bpe", "falcon3"})) {
    c.regexes = {kLlama3Regex};
    c.ignore_merges = true;
    c.add_bos_default = true;
  } else if (NameIn(pre, {"dbrx", "smaug-bpe", "chatglm-bpe"})) {
    c.regexes = {kLlama3Regex};
  } else if (NameIn(pre, {"qwen2", "deepseek-r1-qwen", "kormo", "megrez", "stablelm2", "hunyuan",
                          "solar-open"})) {
    c.regexes = {kQwen2Regex};
  } else if (pre == "tekken") {  // Mistral Nemo, Ministral, Mistral Small 3
    c.regexes = {kTekkenRegex};
    c.ignore_merges = true;
    c.add_bos_default = true;
  } else if (NameIn(pre, {"gpt-4o", "llama4"})) {
    c.regexes = {kGpt4oRegex};
  } else if (NameIn(pre, {"gpt-2", "phi-2", "roberta-bpe", "mpt", "olmo", "jais", "trillion",
                          "exaone4", "granite-docling"})) {
    c.regexes = {kGpt2Regex};
  } else if (NameIn(pre, {"starcoder", "refact", "command-r", "smollm", "codeshell", "exaone",
                          "minerva-7b"})) {
    c.regexes = {R"(\p{N})", kGpt2Regex};
  } else {
    // llama.cpp's "default" expressions; for a name it does not know either, a
    // warning (Tokenizer::FromGguf logs it once) instead of a silent wrong split.
    c.regexes = {R"([\p{P}\$\+<=>\^~\|]+)", kGpt2Regex, R"(\p{N}+)", "[0-9][0-9][0-9]"};
    if (!pre.empty() && pre != "default") {
      c.warning = "unknown pre-tokenizer '" + std::string(pre) +
                  "': splitting with the default expressions, tokens may differ from the model's own";
    }
  }
  return c;
}

Result<std::string> ExpandWhitespaceClasses(std::string_view pattern) {
  std::string out;
  bool in_class = false;
  for (size_t i = 0; i < pattern.size(); ++i) {
    const char c = pattern[i];
    if (c == '\\' && i + 1 < pattern.size()) {
      const char e = pattern[++i];
      if (e == 's') {
        out += in_class ? std::string(kWhiteSpaceClass) : "[" + std::string(kWhiteSpaceClass) + "]";
      } else if (e == 'S') {
        if (in_class) return Status::InvalidArgument("\\S inside [] is not supported");
        out += "[^" + std::string(kWhiteSpaceClass) + "]";
      } else {
        out += c;
        out += e;
      }
      continue;
    }
    if (c == '[' && !in_class) {
      in_class = true;
      out += c;
      // A ']' or '^]' right after '[' is a literal, not the end of the class.
      if (i + 1 < pattern.size() && pattern[i + 1] == '^') out += pattern[++i];
      if (i + 1 < pattern.size() && pattern[i + 1] == ']') out += pattern[++i];
      continue;
    }
    if (c == ']' && in_class) in_class = false;
    out += c;
  }
  return out;
}

struct RegexSplitter::Compiled {
  pcre2_code* code = nullptr;
  bool jit = false;
};

RegexSplitter::~RegexSplitter() {
  for (Compiled& c : compiled_) pcre2_code_free(c.code);
}

Result<std::unique_ptr<RegexSplitter>> RegexSplitter::Create(
    const std::vector<std::string>& patterns) {
  std::unique_ptr<RegexSplitter> splitter(new RegexSplitter());
  for (const std::string& pattern : patterns) {
    JARVIS_ASSIGN_OR_RETURN(const std::string expanded, ExpandWhitespaceClasses(pattern));
    int error = 0;
    PCRE2_SIZE error_offset = 0;
    pcre2_code* code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(expanded.data()), expanded.size(),
                                     PCRE2_UTF | PCRE2_UCP, &error, &error_offset, nullptr);
    if (code == nullptr) {
      return Status::InvalidArgument("pre-tokenizer regex '" + pattern + "' at offset " +
                                     std::to_string(error_offset) + ": " + PcreMessage(error));
    }
    // JIT is an optimisation only: where it is missing (PCRE2 built without it,
    // or an unsupported CPU) the interpreter gives the same matches.
    const bool jit = pcre2_jit_compile(code, PCRE2_JIT_COMPLETE) == 0;
    splitter->compiled_.push_back({code, jit});
  }
  return splitter;
}

bool RegexSplitter::jit() const {
  for (const Compiled& c : compiled_) {
    if (!c.jit) return false;
  }
  return !compiled_.empty();
}

Status RegexSplitter::SplitOne(const Compiled& re, std::string_view piece,
                               std::vector<std::string_view>* out) const {
  pcre2_match_data* md = pcre2_match_data_create_from_pattern(re.code, nullptr);
  if (md == nullptr) return Status::ResourceExhausted("pcre2 match data");
  const auto subject = reinterpret_cast<PCRE2_SPTR>(piece.data());
  size_t gap_start = 0;  // first byte not yet in a piece
  size_t search = 0;     // where the next match attempt starts
  Status status;
  while (search < piece.size()) {
    int rc = pcre2_match(re.code, subject, piece.size(), search, PCRE2_NO_UTF_CHECK, md, nullptr);
    if (rc == PCRE2_ERROR_JIT_STACKLIMIT) {
      // Deep backtracking on a long run: retry in the interpreter, which keeps
      // its backtracking state on the heap.
      rc = pcre2_match(re.code, subject, piece.size(), search, PCRE2_NO_UTF_CHECK | PCRE2_NO_JIT,
                       md, nullptr);
    }
    if (rc == PCRE2_ERROR_NOMATCH) break;
    if (rc < 0) {
      status = Status::Internal("pre-tokenizer regex failed: " + PcreMessage(rc));
      break;
    }
    const PCRE2_SIZE* ov = pcre2_get_ovector_pointer(md);
    const size_t begin = ov[0], end = ov[1];
    if (end == begin) {
      // An empty match (none of llama.cpp's expressions can produce one): it
      // makes no piece; search again one character later.
      search = begin + 1;
      while (search < piece.size() && (static_cast<uint8_t>(piece[search]) & 0xC0) == 0x80)
        ++search;
      continue;
    }
    if (begin > gap_start) out->push_back(piece.substr(gap_start, begin - gap_start));
    out->push_back(piece.substr(begin, end - begin));
    gap_start = search = end;
  }
  if (status.ok() && gap_start < piece.size()) out->push_back(piece.substr(gap_start));
  pcre2_match_data_free(md);
  return status;
}

Status RegexSplitter::Split(std::string_view text, std::vector<std::string_view>* pieces) const {
  if (text.empty()) return Status::Ok();
  std::vector<std::string_view> current{text};
  std::vector<std::string_view> next;
  for (const Compiled& re : compiled_) {
    next.clear();
    for (const std::string_view piece : current) JARVIS_RETURN_IF_ERROR(SplitOne(re, piece, &next));
    std::swap(current, next);
  }
  pieces->insert(pieces->end(), current.begin(), current.end());
  return Status::Ok();
}

}  // namespace jarvis
