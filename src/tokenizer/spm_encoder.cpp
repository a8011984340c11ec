#include "tokenizer/spm_encoder.h"

#include <optional>

#include "tokenizer/pair_merger.h"

namespace jarvis {

int32_t SpmByteToken(const Vocab& vocab, uint8_t byte) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  const char name[6] = {'<', '0', 'x', kHex[byte >> 4], kHex[byte & 15], '>'};
  int32_t id = vocab.Find(std::string_view(name, sizeof(name)));
  if (id < 0) id = vocab.Find(std::string_view(reinterpret_cast<const char*>(&byte), 1));
  if (id < 0) id = vocab.special.unk;
  return id;
}

void EncodeSpm(const Vocab& vocab, std::string_view text, std::vector<int32_t>* out) {
  // Highest score first: the key is minus the score (exact for floats).
  auto id_of = [&](std::string_view piece) { return vocab.Find(piece); };
  auto pair_key = [&](const MergedPiece& l, const MergedPiece& r) -> std::optional<float> {
    const int32_t id = vocab.Find(text.substr(l.start, l.len + r.len));
    if (id < 0) return std::nullopt;
    return -vocab.score(id);
  };
  for (const MergedPiece& p : MergeAdjacentPairs<float>(text, id_of, pair_key)) {
    // Merged pieces are always tokens (only token pairs merge), so a piece
    // that is not a token is a single character outside the vocabulary:
    // fall back to its bytes.
    if (p.id >= 0) {
      out->push_back(p.id);
      continue;
    }
    for (const char c : text.substr(p.start, p.len)) {
      const int32_t byte_id = SpmByteToken(vocab, static_cast<uint8_t>(c));
      if (byte_id >= 0) out->push_back(byte_id);
    }
  }
}

}  // namespace jarvis
