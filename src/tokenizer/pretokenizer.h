// Pre-tokenization for byte-level BPE: splitting text into "words" with the
// regular expressions llama.cpp uses for each `tokenizer.ggml.pre` value, before
// merges run inside each word.
//
// Several expressions apply in sequence, as in llama.cpp's unicode_regex_split:
// the first splits the text, each later one splits every piece further. Within
// a piece, matches and the unmatched gaps between them all become pieces, so the
// pieces always cover the input exactly and in order.
//
// The expressions are llama.cpp's strings, run with PCRE2 (UTF mode, JIT when
// available). One deliberate rewrite: `\s`/`\S` become an explicit class holding
// exactly the Unicode White_Space code points, the set llama.cpp's own matchers
// use (PCRE2's \s differs, e.g. for U+0085).
//
// Thread safety: a RegexSplitter is immutable after Create(); Split() may be
// called from any number of threads.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "jarvis/status.h"

namespace jarvis {

// What a `tokenizer.ggml.pre` name means for a BPE vocabulary.
struct PreTokenizerConfig {
  std::vector<std::string> regexes;  // llama.cpp spelling, applied in order
  bool ignore_merges = false;        // a word that is itself a token is emitted whole
  bool add_bos_default = false;      // default of add_bos before the GGUF key overrides it
  std::string warning;               // set for an unknown name (the default expressions are used)
};

// The config of a `tokenizer.ggml.pre` name; an empty name means llama.cpp's
// "default" pre-tokenizer, and so does a name not known here (with `warning`
// set, naming it).
Result<PreTokenizerConfig> PreTokenizerConfigFor(std::string_view pre);

// Rewrites \s and \S (inside or outside brackets) to the White_Space class.
// \S inside a bracket expression is not supported (InvalidArgument).
Result<std::string> ExpandWhitespaceClasses(std::string_view pattern);

class RegexSplitter {
 public:
  // Compiles `patterns` (after ExpandWhitespaceClasses). InvalidArgument names
  // the pattern and PCRE2's message when one does not compile.
  static Result<std::unique_ptr<RegexSplitter>> Create(const std::vector<std::string>& patterns);
  ~RegexSplitter();
  RegexSplitter(const RegexSplitter&) = delete;
  RegexSplitter& operator=(const RegexSplitter&) = delete;

  // Appends the pieces of `text` to `pieces` (views into `text`).
  // REQUIRES: `text` is valid UTF-8 (see utf8::Sanitize). Internal on a PCRE2
  // matching error (such as a resource limit), which valid input should not hit.
  Status Split(std::string_view text, std::vector<std::string_view>* pieces) const;

  // True when every pattern was JIT-compiled.
  bool jit() const;

 private:
  struct Compiled;
  RegexSplitter() = default;
  Status SplitOne(const Compiled& re, std::string_view piece,
                  std::vector<std::string_view>* out) const;

  std::vector<Compiled> compiled_;
};

}  // namespace jarvis
