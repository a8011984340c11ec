// The default number of positions per paged-KV block, in one place: the
// engine's and the scheduler's options both start from it (a scheduler builds
// its engine with its own value, so the two must agree by default).
#pragma once

#include <cstdint>

namespace jarvis {

// 16 positions: small enough that a sequence wastes at most 15 positions of
// KV, large enough that block-table lookups stay off the attention hot loop.
inline constexpr int32_t kDefaultKvBlockSize = 16;

}  // namespace jarvis
