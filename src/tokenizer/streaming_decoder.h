// StreamingDecoder: token ids -> printable text, one token at a time.
#pragma once

#include <cstdint>
#include <string>

#include "tokenizer/tokenizer.h"

namespace jarvis {

// Turns ids into text one at a time for streaming: never emits part of a UTF-8
// character (it holds bytes back until the character is complete, which
// matters for byte tokens and BPE pieces that split a character), and replaces
// bytes that cannot become valid UTF-8 with U+FFFD, so every returned string is
// valid UTF-8. The concatenation of all Push() results and Flush() equals
// Decode() of the same ids whenever that is valid UTF-8.
//
// Thread safety: one decoder per stream; it keeps a reference to the Tokenizer,
// which must outlive it.
class StreamingDecoder {
 public:
  explicit StreamingDecoder(const Tokenizer& tokenizer,
                            Tokenizer::DecodeOptions options = Tokenizer::DecodeOptions());

  // Text that became complete with this token (often "", never partial).
  std::string Push(int32_t id);
  // Whatever is held back, incomplete characters as U+FFFD; then resets.
  std::string Flush();
  // Forgets held-back bytes and starts a new sequence (for strip_space_prefix).
  void Reset();

 private:
  std::string Drain(bool final);

  const Tokenizer& tokenizer_;
  Tokenizer::DecodeOptions options_;
  std::string pending_;
  bool seen_text_ = false;
};

}  // namespace jarvis
