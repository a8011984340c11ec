// Flat open-addressing hash tables for the two lookups on the tokenizer's hot
// path: token text -> id and (left id, right id) -> merge rank. A node-based
// std::unordered_map spends most of a 128k-token / 280k-merge load in
// allocation and pointer chasing; these are one array each, probed linearly,
// sized to a power of two at least twice the entry count.
//
// Thread safety: immutable after building; concurrent lookups are safe.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

namespace jarvis {

uint64_t HashText(std::string_view text);

// Maps texts to ids; the texts themselves live elsewhere (the caller's arena)
// and are reached through `text_of(id)` at lookup time.
class TextIndex {
 public:
  // Room for `n` entries.
  void Reset(size_t n);
  // Inserts (text, id) unless `text` is present; returns the id stored for it.
  template <typename TextOf>
  int32_t Insert(std::string_view text, int32_t id, const TextOf& text_of) {
    const uint64_t h = HashText(text);
    for (size_t i = h & mask_;; i = (i + 1) & mask_) {
      Slot& s = slots_[i];
      if (s.id < 0) {
        s = {static_cast<uint32_t>(h), id};
        return id;
      }
      if (s.hash == static_cast<uint32_t>(h) && text_of(s.id) == text) return s.id;
    }
  }
  template <typename TextOf>
  int32_t Find(std::string_view text, const TextOf& text_of) const {
    if (slots_.empty()) return -1;
    const uint64_t h = HashText(text);
    for (size_t i = h & mask_;; i = (i + 1) & mask_) {
      const Slot& s = slots_[i];
      if (s.id < 0) return -1;
      if (s.hash == static_cast<uint32_t>(h) && text_of(s.id) == text) return s.id;
    }
  }

 private:
  struct Slot {
    uint32_t hash;
    int32_t id;  // -1: empty
  };
  std::vector<Slot> slots_;
  size_t mask_ = 0;
};

// Maps a pair of token ids to a merge rank; the first insert of a pair wins.
class PairRankMap {
 public:
  void Reset(size_t n);
  void Insert(int32_t left, int32_t right, int32_t rank);
  int32_t Find(int32_t left, int32_t right) const;  // -1 if absent
  size_t size() const { return count_; }

 private:
  struct Slot {
    uint64_t key;  // kEmpty: free
    int32_t rank;
  };
  static constexpr uint64_t kEmpty = ~uint64_t{0};
  static uint64_t Key(int32_t a, int32_t b) {
    return (static_cast<uint64_t>(static_cast<uint32_t>(a)) << 32) | static_cast<uint32_t>(b);
  }
  // Fibonacci hashing: the top bits of the product depend on every key bit.
  size_t Slot0(uint64_t key) const {
    return static_cast<size_t>((key * 0x9E3779B97F4A7C15ull) >> shift_);
  }
  void Grow();

  std::vector<Slot> slots_;
  size_t mask_ = 0;
  int shift_ = 64;
  size_t count_ = 0;
};

}  // namespace jarvis
