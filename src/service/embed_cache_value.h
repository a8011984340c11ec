// An embedding result as a response-cache value. The cache (local and Redis,
// with its codec) stores GenerateResults; an embedding result travels in one
// as: text = the vectors' float32 components, little-endian, row after row;
// tokens = {number of vectors, prompt_tokens}; finish = stop. The width is
// the text's length / 4 / the number of vectors.
//
// Thread safety: pure functions.
#pragma once

#include <optional>

#include "jarvis/embed.h"
#include "jarvis/request.h"

namespace jarvis {

// `result` must be a successful one (error OK) whose vectors all have one width.
GenerateResult EmbedResultToCacheValue(const EmbedResult& result);
// nullopt when `value` is not such an encoding (a foreign or damaged entry).
std::optional<EmbedResult> EmbedResultFromCacheValue(const GenerateResult& value);

}  // namespace jarvis
