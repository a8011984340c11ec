// Splitting raw text around special-token strings before the tokenizer
// algorithm sees it (llama.cpp's tokenizer_st_partition).
//
// For each special token, longest text first, every text fragment is split at
// each occurrence (leftmost first, non-overlapping) into text | token | text.
// Which tokens take part:
//   - user-defined tokens (type 4) always (Qwen3's <think>, ...);
//   - control and unknown tokens (types 3, 2) only with parse_special.
// A token with the lstrip (rstrip) attribute swallows ASCII whitespace before
// (after) it.
//
// Thread safety: stateless; the Vocab is only read.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "tokenizer/vocab.h"

namespace jarvis {

struct Fragment {
  int32_t token = -1;     // >= 0: a special token; -1: text
  std::string_view text;  // the text (a view into the input) when token < 0
};

// An empty `text` gives no fragments.
std::vector<Fragment> PartitionSpecialTokens(const Vocab& vocab, std::string_view text,
                                             bool parse_special);

}  // namespace jarvis
