#include "engine/grammar_processor.h"

#include "constrain/gbnf_parser.h"
#include "constrain/grammar_constraint.h"

namespace jarvis {
namespace {

class GrammarProcessor final : public LogitsProcessor {
 public:
  GrammarProcessor(std::shared_ptr<constrain::GrammarMasks> masks, std::vector<int32_t> end_tokens)
      : constraint_(std::move(masks), std::move(end_tokens)) {}

  Result<int32_t> Process(std::span<float> logits) override {
    JARVIS_ASSIGN_OR_RETURN(constrain::GrammarConstraint::Applied applied, constraint_.Apply(logits));
    return applied.only_token;
  }
  Status Accept(int32_t token) override { return constraint_.Accept(token); }
  bool Complete() const override { return constraint_.complete(); }

 private:
  constrain::GrammarConstraint constraint_;
};

}  // namespace

Result<std::shared_ptr<const constrain::Grammar>> ParseGrammar(const std::string& gbnf) {
  JARVIS_ASSIGN_OR_RETURN(constrain::Grammar g, constrain::ParseGbnf(gbnf));
  return std::make_shared<const constrain::Grammar>(std::move(g));
}

GrammarProcessorFactory::GrammarProcessorFactory(const Tokenizer& tokenizer, size_t max_grammars)
    : tokenizer_(tokenizer), max_grammars_(max_grammars) {}

Result<std::unique_ptr<LogitsProcessor>> GrammarProcessorFactory::Make(
    const std::string& gbnf, std::shared_ptr<const constrain::Grammar> parsed, bool ignore_eos) {
  if (!trie_) {
    std::vector<std::string> pieces(static_cast<size_t>(tokenizer_.vocab_size()));
    for (int32_t id = 0; id < tokenizer_.vocab_size(); ++id) {
      pieces[static_cast<size_t>(id)] = std::string(tokenizer_.Piece(id));
    }
    trie_ = std::make_unique<constrain::TokenTrie>(pieces, tokenizer_.end_of_generation_ids());
  }
  std::shared_ptr<constrain::GrammarMasks> masks;
  for (auto it = grammars_.begin(); it != grammars_.end(); ++it) {
    if (it->first == gbnf) {
      masks = it->second;
      grammars_.splice(grammars_.begin(), grammars_, it);
      break;
    }
  }
  if (!masks) {
    if (!parsed) {
      JARVIS_ASSIGN_OR_RETURN(parsed, ParseGrammar(gbnf));
    }
    masks = std::make_shared<constrain::GrammarMasks>(std::move(parsed), *trie_);
    grammars_.emplace_front(gbnf, masks);
    if (grammars_.size() > max_grammars_) grammars_.pop_back();
  }
  std::vector<int32_t> ends;
  if (!ignore_eos) ends = tokenizer_.end_of_generation_ids();
  return std::unique_ptr<LogitsProcessor>(std::make_unique<GrammarProcessor>(std::move(masks), std::move(ends)));
}

}  // namespace jarvis
