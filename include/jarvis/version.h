// The version of the jarvis library a program runs against.
//
// Thread safety: the functions may be called from any thread.
#pragma once

namespace jarvis {

// "0.1.0": the version of libjarvis (the same as `jarvis --version`'s).
const char* Version();
// The git commit libjarvis was built from (12 hex digits, or "unknown").
const char* BuildCommit();

}  // namespace jarvis
