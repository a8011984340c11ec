// The last step of Engine::Embed: one sequence's final hidden states pooled
// into one vector (HParams::pooling: mean, first token, last token) and
// L2-normalized, as llama.cpp's server returns embeddings by default.
//
// Thread safety: pure function.
#pragma once

#include <cstdint>

#include "model/hparams.h"

namespace jarvis {

// hidden: n_tokens x width (row-major, n_tokens > 0); out: width values,
// L2 norm 1 (all zeros stay zeros). Sums in double, in token order.
// REQUIRES: pooling is kMean, kCls or kLast.
void PoolAndNormalize(Pooling pooling, const float* hidden, int32_t n_tokens, int32_t width, float* out);

}  // namespace jarvis
