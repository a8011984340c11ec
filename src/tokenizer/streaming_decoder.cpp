#include "tokenizer/streaming_decoder.h"

#include "tokenizer/utf8.h"

namespace jarvis {

StreamingDecoder::StreamingDecoder(const Tokenizer& tokenizer, Tokenizer::DecodeOptions options)
    : tokenizer_(tokenizer), options_(options) {}

std::string StreamingDecoder::Push(int32_t id) {
  std::string_view piece = tokenizer_.Piece(id, options_.render_special);
  if (piece.empty()) return {};
  if (!seen_text_ && options_.strip_space_prefix && tokenizer_.add_space_prefix() &&
      piece.front() == ' ') {
    piece.remove_prefix(1);
  }
  seen_text_ = true;
  pending_.append(piece);
  return Drain(/*final=*/false);
}

std::string StreamingDecoder::Flush() {
  std::string out = Drain(/*final=*/true);
  Reset();
  return out;
}

void StreamingDecoder::Reset() {
  pending_.clear();
  seen_text_ = false;
}

// Emits every complete character of pending_, U+FFFD for each byte that cannot
// start one, and keeps a trailing incomplete character unless `final`.
std::string StreamingDecoder::Drain(bool final) {
  std::string out;
  size_t pos = 0;
  while (pos < pending_.size()) {
    const utf8::Decoded d = utf8::DecodeAt(pending_, pos);
    if (d.kind == utf8::Decoded::kValid) {
      out.append(pending_, pos, d.length);
      pos += d.length;
    } else if (d.kind == utf8::Decoded::kIncomplete && !final) {
      break;
    } else {
      utf8::AppendCodepoint(utf8::kReplacementChar, &out);
      pos += 1;
    }
  }
  pending_.erase(0, pos);
  return out;
}

}  // namespace jarvis
