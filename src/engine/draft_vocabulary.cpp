#include "engine/draft_vocabulary.h"

#include <string>

#include "model/model.h"
#include "tokenizer/tokenizer.h"

namespace jarvis {
namespace {

Status Differs(const std::string& what) {
  return Status::InvalidArgument("the draft model's vocabulary differs from the target's: " + what +
                                 " (a draft model needs exactly the target's vocabulary)");
}

std::string Quoted(std::string_view text) {
  std::string out;
  out.reserve(text.size() + 2);
  out.push_back('"');
  out.append(text);
  out.push_back('"');
  return out;
}

}  // namespace

Status CheckSameVocabulary(const Tokenizer& target, const Tokenizer& draft) {
  if (target.kind() != draft.kind()) return Differs("a different tokenizer kind");
  if (target.vocab_size() != draft.vocab_size()) {
    return Differs(std::to_string(target.vocab_size()) + " tokens in the target, " +
                   std::to_string(draft.vocab_size()) + " in the draft");
  }
  for (int32_t id = 0; id < target.vocab_size(); ++id) {
    if (target.TokenText(id) != draft.TokenText(id)) {
      return Differs("token " + std::to_string(id) + " is " + Quoted(target.TokenText(id)) + " in the target, " +
                     Quoted(draft.TokenText(id)) + " in the draft");
    }
    if (target.type(id) != draft.type(id)) return Differs("token " + std::to_string(id) + " has another type");
  }
  struct Special {
    const char* name;
    int32_t (Tokenizer::*id)() const;
  };
  for (const Special s : {Special{"BOS", &Tokenizer::bos_id}, Special{"EOS", &Tokenizer::eos_id},
                          Special{"EOT", &Tokenizer::eot_id}, Special{"UNK", &Tokenizer::unk_id},
                          Special{"PAD", &Tokenizer::pad_id}}) {
    if ((target.*s.id)() != (draft.*s.id)()) {
      return Differs(std::string(s.name) + " is token " + std::to_string((target.*s.id)()) + " in the target, " +
                     std::to_string((draft.*s.id)()) + " in the draft");
    }
  }
  if (target.end_of_generation_ids() != draft.end_of_generation_ids()) {
    return Differs("other end-of-generation tokens");
  }
  if (target.add_bos() != draft.add_bos()) return Differs("one adds BOS to a prompt, the other does not");
  return Status::Ok();
}

Status CheckDraftModel(const Model& target, const Model& draft) {
  if (draft.hparams().spec->encoder) {
    return Status::InvalidArgument("the draft model is an embedding model (an encoder); it cannot draft tokens");
  }
  if (target.hparams().n_vocab != draft.hparams().n_vocab) {
    return Differs(std::to_string(target.hparams().n_vocab) + " logit rows in the target, " +
                   std::to_string(draft.hparams().n_vocab) + " in the draft");
  }
  return CheckSameVocabulary(target.tokenizer(), draft.tokenizer());
}

}  // namespace jarvis
