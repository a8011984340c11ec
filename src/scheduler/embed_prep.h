// Turning an EmbedRequest into the token inputs of Engine::Embed, on the
// submitting thread: tokenization with the model's special tokens, the
// context check and truncation (the rules are jarvis/embed.h's), and the
// Matryoshka `dimensions` check. Plus ShrinkEmbedding, which applies
// `dimensions` to a computed vector.
//
// Thread safety: pure functions over immutable inputs.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "jarvis/embed.h"
#include "jarvis/status.h"
#include "tokenizer/tokenizer.h"

namespace jarvis {

// One token input per request input. InvalidArgument for no input, an empty
// input (or one that tokenizes to nothing), a token id outside [0, n_vocab),
// an input over n_ctx tokens (or request.context, when smaller) with
// truncate = false (naming both lengths),
// dimensions < 0 or > width.
Result<std::vector<std::vector<int32_t>>> PrepareEmbedInputs(const Tokenizer& tokenizer, int32_t n_vocab,
                                                             int32_t n_ctx, int32_t width,
                                                             const EmbedRequest& request);

// The first `dims` components of `full`, L2-normalized again (a zero vector
// stays zero). dims >= full.size(): `full` as it is.
std::vector<float> ShrinkEmbedding(std::span<const float> full, int32_t dims);

}  // namespace jarvis
