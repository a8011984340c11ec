#include "tokenizer/flat_index.h"

#include <xxhash.h>

#include <bit>

namespace jarvis {

namespace {

size_t CapacityFor(size_t n) {
  size_t cap = 16;
  while (cap < 2 * n) cap *= 2;
  return cap;
}

}  // namespace

uint64_t HashText(std::string_view text) { return XXH3_64bits(text.data(), text.size()); }

void TextIndex::Reset(size_t n) {
  slots_.assign(CapacityFor(n), Slot{0, -1});
  mask_ = slots_.size() - 1;
}

void PairRankMap::Reset(size_t n) {
  slots_.assign(CapacityFor(n), Slot{kEmpty, -1});
  mask_ = slots_.size() - 1;
  shift_ = 64 - std::countr_zero(slots_.size());
  count_ = 0;
}

void PairRankMap::Grow() {
  std::vector<Slot> old = std::move(slots_);
  Reset(old.size());  // doubles: capacity >= 2 * old.size()
  for (const Slot& s : old) {
    if (s.key != kEmpty)
      Insert(static_cast<int32_t>(s.key >> 32), static_cast<int32_t>(s.key), s.rank);
  }
}

void PairRankMap::Insert(int32_t left, int32_t right, int32_t rank) {
  if (slots_.empty() || 2 * (count_ + 1) > slots_.size()) Grow();
  const uint64_t key = Key(left, right);
  for (size_t i = Slot0(key);; i = (i + 1) & mask_) {
    Slot& s = slots_[i];
    if (s.key == key) return;  // keep the first (lowest) rank
    if (s.key == kEmpty) {
      s = {key, rank};
      ++count_;
      return;
    }
  }
}

int32_t PairRankMap::Find(int32_t left, int32_t right) const {
  if (slots_.empty()) return -1;
  const uint64_t key = Key(left, right);
  for (size_t i = Slot0(key);; i = (i + 1) & mask_) {
    const Slot& s = slots_[i];
    if (s.key == key) return s.rank;
    if (s.key == kEmpty) return -1;
  }
}

}  // namespace jarvis
