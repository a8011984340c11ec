#include "model/batch.h"

#include <string>

namespace jarvis {

Status ValidateBatch(const Batch& batch, int32_t n_vocab, const KvLayout& layout, int32_t n_blocks) {
  const size_t n = batch.tokens.size();
  if (n == 0) return Status::InvalidArgument("empty batch");
  if (batch.positions.size() != n || batch.seq.size() != n || batch.logits.size() != n) {
    return Status::InvalidArgument("batch arrays differ in length");
  }
  for (size_t i = 0; i < n; ++i) {
    const int32_t tok = batch.tokens[i];
    const int32_t pos = batch.positions[i];
    const int32_t s = batch.seq[i];
    if (tok < 0 || tok >= n_vocab) {
      return Status::InvalidArgument("token id " + std::to_string(tok) + " outside the vocabulary (" +
                                     std::to_string(n_vocab) + ")");
    }
    if (s < 0 || static_cast<size_t>(s) >= batch.block_tables.size()) {
      return Status::InvalidArgument("sequence index " + std::to_string(s) + " has no block table");
    }
    const auto& table = batch.block_tables[static_cast<size_t>(s)];
    if (pos < 0 || static_cast<size_t>(pos / layout.block_size) >= table.size()) {
      return Status::InvalidArgument("position " + std::to_string(pos) + " is not covered by its block table");
    }
    for (size_t b = 0; b <= static_cast<size_t>(pos / layout.block_size); ++b) {
      if (table[b] < 0 || table[b] >= n_blocks) return Status::InvalidArgument("block id out of range");
    }
  }
  return Status::Ok();
}

}  // namespace jarvis
