// Grammar constraints for the token pipeline: GBNF text -> a LogitsProcessor
// that masks each step's logits (src/constrain does the work).
//
// GrammarProcessorFactory builds the vocabulary's token trie once and keeps
// the mask caches of the most recently used grammars (keyed by their text),
// so a schema used by many requests, or by the sequences of one batch, pays
// for each grammar state's mask once.
//
// Thread safety: not synchronized; one factory per thread (the scheduler's
// loop owns one; Generate makes its own). ParseGrammar is a pure function.
#pragma once

#include <cstddef>
#include <list>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "constrain/grammar.h"
#include "constrain/token_mask.h"
#include "engine/token_pipeline.h"
#include "tokenizer/tokenizer.h"

namespace jarvis {

// Parses and checks GBNF (InvalidArgument naming the problem).
Result<std::shared_ptr<const constrain::Grammar>> ParseGrammar(const std::string& gbnf);

class GrammarProcessorFactory {
 public:
  // `tokenizer` must outlive the factory.
  explicit GrammarProcessorFactory(const Tokenizer& tokenizer, size_t max_grammars = 16);
  GrammarProcessorFactory(const GrammarProcessorFactory&) = delete;
  GrammarProcessorFactory& operator=(const GrammarProcessorFactory&) = delete;

  // A processor for one sequence. `parsed` may be null (then `gbnf` is
  // parsed here). With ignore_eos, end tokens are never allowed: the
  // sequence ends when the grammar is complete.
  Result<std::unique_ptr<LogitsProcessor>> Make(const std::string& gbnf,
                                                std::shared_ptr<const constrain::Grammar> parsed, bool ignore_eos);

 private:
  const Tokenizer& tokenizer_;
  size_t max_grammars_;
  std::unique_ptr<constrain::TokenTrie> trie_;  // built on first use
  std::list<std::pair<std::string, std::shared_ptr<constrain::GrammarMasks>>> grammars_;  // most recent first
};

}  // namespace jarvis
