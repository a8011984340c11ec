// A batch for one forward step: tokens from one or more sequences. Each token
// carries its sequence (an index into `block_tables`), its position in that
// sequence, and whether the caller wants its logits. Tokens of one sequence
// must appear in increasing position order; attention of a token at position p
// covers positions 0..p of its own sequence (earlier positions from the cache,
// the batch's own tokens written to the cache first).
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "jarvis/status.h"
#include "model/kv_layout.h"

namespace jarvis {

struct Batch {
  std::vector<int32_t> tokens;
  std::vector<int32_t> positions;
  std::vector<int32_t> seq;       // index into block_tables
  std::vector<uint8_t> logits;    // 1: return this token's logits
  // Per sequence: block ids covering at least positions 0..max position used.
  std::vector<std::span<const int32_t>> block_tables;

  void Clear() {
    tokens.clear();
    positions.clear();
    seq.clear();
    logits.clear();
    block_tables.clear();
  }
  void Add(int32_t token, int32_t position, int32_t seq_index, bool want_logits) {
    tokens.push_back(token);
    positions.push_back(position);
    seq.push_back(seq_index);
    logits.push_back(want_logits ? 1 : 0);
  }
  int32_t size() const { return static_cast<int32_t>(tokens.size()); }
  int32_t n_outputs() const {
    int32_t n = 0;
    for (uint8_t l : logits) n += l;
    return n;
  }
};

// Checks what the layer graph will index, for a KV pool of `n_blocks` blocks
// in `layout` and a vocabulary of `n_vocab`: arrays of equal length, token
// ids, sequence indices, and block tables covering every position with block
// ids in range. InvalidArgument naming the first fault; the one check for
// every device (the CPU forward pass and the GPU offload).
Status ValidateBatch(const Batch& batch, int32_t n_vocab, const KvLayout& layout, int32_t n_blocks);

}  // namespace jarvis
