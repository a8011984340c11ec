// Whether a draft model can draft for a target (speculative decoding with a
// draft model, engine/model_drafter.h): the draft's tokens are fed to the
// target as they are, so both must mean the same thing by every token id.
//
// The check is strict on purpose: the same vocabulary size, the same text and
// type for every token id, and the same special ids (BOS, EOS, EOT, UNK, PAD,
// the end-of-generation set). llama.cpp tolerates a few differing tokens; here
// a single one is an error, since a draft that differs even in rare tokens
// would quietly lose acceptance there, and a family mismatch (a Llama 3 draft
// for a Llama 2 target) usually shows up as one of these differences anyway.
// Exactness never depends on it (the target verifies every draft token), only
// the speed; a strict rule is simpler to state and to trust.
//
// Thread safety: pure functions.
#pragma once

#include "jarvis/status.h"

namespace jarvis {

class Model;
class Tokenizer;

// OK when the tokenizers agree as above; otherwise InvalidArgument naming the
// first difference ("the draft model's vocabulary differs from the
// target's: token 17 is ...").
Status CheckSameVocabulary(const Tokenizer& target, const Tokenizer& draft);

// CheckSameVocabulary plus the models: the same logit rows (HParams::n_vocab),
// and a draft that can generate (an encoder cannot).
Status CheckDraftModel(const Model& target, const Model& draft);

}  // namespace jarvis
