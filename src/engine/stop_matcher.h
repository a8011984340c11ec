// StopMatcher: finds stop strings in text that arrives piece by piece.
//
// Generated text comes one token's piece at a time, so a stop string may span
// pieces ("<|im" + "_end|>"). The matcher holds back the longest tail of the
// text seen so far that is a prefix of some stop string, and releases it as
// soon as it can no longer become a match. On a match it emits only the text
// before the stop string; the stop string itself and anything after it are
// dropped (OpenAI semantics). Generation stops as soon as any stop string is
// complete; when several are complete in the text seen so far, the one that
// starts earliest wins (a longer stop that started earlier but is not yet
// complete does not delay a complete one).
//
// Matching is on bytes. With valid UTF-8 pieces and stop strings, every split
// it makes falls on a character boundary (a stop string starts with a lead
// byte), so emitted text is valid UTF-8 whenever the input is.
//
// Thread safety: one matcher per sequence; not synchronized.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace jarvis {

class StopMatcher {
 public:
  // Empty strings in `stops` are ignored (they would match at once).
  explicit StopMatcher(std::vector<std::string> stops);

  struct Output {
    std::string emit;      // text that is safe to send to the client now
    bool stopped = false;  // a stop string was found; generation should end
  };

  // Adds a piece. After a stop, further pieces are ignored: {"", true}.
  Output Push(std::string_view text_piece);

  // End of generation without a stop: returns the held-back text (it can no
  // longer become a stop string) and clears it. Returns "" after a stop.
  std::string Flush();

  bool stopped() const { return stopped_; }
  // Bytes currently held back (for tests and diagnostics).
  size_t held_bytes() const { return pending_.size(); }

 private:
  // Length of the longest suffix of pending_ that is a proper prefix of a stop.
  size_t HeldSuffixLength() const;

  std::vector<std::string> stops_;
  size_t max_stop_len_ = 0;
  std::string pending_;  // text received but not yet emitted; never contains a stop
  bool stopped_ = false;
};

}  // namespace jarvis
