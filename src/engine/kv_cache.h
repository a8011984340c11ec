// KvCache: a fixed pool of KV blocks (see model/kv_layout.h), the block tables
// of the sequences that use it, and an automatic prefix cache. Memory is
// allocated once, at construction; sequences take and return blocks, never
// reallocating.
//
// Prefix cache. Blocks are ref-counted. A FULL block whose positions have all
// been computed can be registered (CommitTokens) under the chain hash of the
// whole token prefix up to its end:
//   h_k = XXH3_64(tokens of block k, seed = h_{k-1}),  h_{-1} = a constant,
// so the same block tokens after a different prefix never match. MatchPrefix
// finds the longest run of registered blocks for a new prompt and
// AttachPrefix shares them with a new sequence copy-free (refcount + 1).
// When the last reference goes, a registered block stays in the index on an
// LRU list (refcount 0, "cached"); it is evicted, oldest first, only when a
// Reserve finds no never-registered free block. A sequence writes only at
// positions past its shared blocks (shared blocks are always full), so no
// block is ever written while shared; Truncate into a shared block copies it.
//
// Accounting: n_blocks() == used_blocks() + cached_blocks() + the never-used
// free blocks; free_blocks() == n_blocks() - used_blocks() counts every block
// a Reserve may take (free + evictable cached).
//
// Block copies (Truncate into a shared block) are reported to the block copy
// listener, so a second copy of the pool (a GPU offload's K/V of its layers,
// model/layer_offload.h) copies the same block.
//
// Thread safety: not thread-safe; the engine's step thread owns it.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <unordered_map>
#include <vector>

#include "jarvis/status.h"
#include "model/kv_layout.h"

namespace jarvis {

// The longest cached prefix of a prompt: `blocks` hold positions
// [0, n_tokens), n_tokens = blocks.size() * block_size.
struct PrefixMatch {
  std::vector<int32_t> blocks;
  int32_t n_tokens = 0;
};

struct KvCacheStats {
  int64_t prefix_hits = 0;     // AttachPrefix calls that reused >= 1 block
  int64_t prefix_misses = 0;   // AttachPrefix calls that reused none
  int64_t cached_tokens = 0;   // prompt tokens served from the cache
  int64_t evictions = 0;       // registered blocks dropped to make room
};

class KvCache {
 public:
  // Allocates n_blocks * layout.block_bytes() bytes; ResourceExhausted if that fails.
  static Result<std::unique_ptr<KvCache>> Create(const KvLayout& layout, int32_t n_blocks);
  KvCache(const KvCache&) = delete;
  KvCache& operator=(const KvCache&) = delete;

  // Blocks that fit in `budget_bytes` (at least enough for one block).
  static int32_t BlocksForBudget(const KvLayout& layout, size_t budget_bytes);

  const KvPoolView& view() const { return view_; }
  const KvLayout& layout() const { return view_.layout; }
  int32_t block_size() const { return view_.layout.block_size; }

  // A new, empty sequence; returns its id.
  int32_t CreateSequence();
  // Drops the sequence's references; blocks nobody references return to the
  // pool (registered ones to the LRU cache). Unknown ids are ignored.
  void FreeSequence(int32_t seq);
  // Makes the sequence's table cover positions [0, n_positions) with new,
  // exclusively owned blocks. ResourceExhausted when too few blocks are free
  // or evictable (nothing changes then).
  Status Reserve(int32_t seq, int32_t n_positions);
  // Forgets positions >= n_positions (their references are dropped). If the
  // block that keeps the last positions is shared it is copied first, and if
  // it is registered it leaves the index, since it will be written again.
  // ResourceExhausted if a copy is needed and no block is free; the listener's
  // error if it fails (nothing changes then either).
  Status Truncate(int32_t seq, int32_t n_positions);

  // Called after this pool copied block `src` to block `dst` (all layers);
  // its error fails the operation that copied. Empty: none (the default).
  using BlockCopyListener = std::function<Status(int32_t src, int32_t dst)>;
  void set_block_copy_listener(BlockCopyListener listener) { copy_listener_ = std::move(listener); }

  // --- prefix cache -------------------------------------------------------
  // The longest run of registered full blocks matching the start of
  // `tokens`, leaving at least the last token uncovered (its logits must be
  // computed). Does not change anything.
  PrefixMatch MatchPrefix(std::span<const int32_t> tokens) const;
  // Attaches `match` (from MatchPrefix, with no pool change since) to an
  // empty sequence and counts a hit or a miss. InvalidArgument if the
  // sequence is not empty or a block is no longer registered.
  Status AttachPrefix(int32_t seq, const PrefixMatch& match);
  // `tokens` are the sequence's tokens at positions [0, tokens.size()), all
  // computed (their K/V written). Registers every full block among them that
  // is not registered yet; a block whose prefix is already registered under
  // another block stays private. Cheap when nothing new is full.
  void CommitTokens(int32_t seq, std::span<const int32_t> tokens);
  // Evicts every unreferenced registered block.
  void ClearPrefixCache();
  // Blocks usable by an empty new sequence that would attach `match`
  // (free_blocks() minus the matched blocks that are now evictable).
  int32_t FreeBlocksAfterAttach(const PrefixMatch& match) const;

  std::span<const int32_t> block_table(int32_t seq) const;
  int32_t n_blocks() const { return view_.n_blocks; }
  int32_t free_blocks() const { return n_blocks() - used_; }
  int32_t used_blocks() const { return used_; }       // referenced by >= 1 sequence
  int32_t cached_blocks() const { return lru_size_; }  // registered, unreferenced
  int32_t ref_count(int32_t block) const { return blocks_.at(static_cast<size_t>(block)).ref; }
  bool is_registered(int32_t block) const { return blocks_.at(static_cast<size_t>(block)).registered; }
  const KvCacheStats& stats() const { return stats_; }

 private:
  struct BlockInfo {
    int32_t ref = 0;
    bool registered = false;  // in index_ (hash, parent and tokens_ are valid)
    uint64_t hash = 0;        // chain hash up to the end of this block
    uint64_t parent = 0;      // chain hash of the previous block
    int32_t lru_prev = -1;    // LRU links, valid while registered && ref == 0
    int32_t lru_next = -1;
  };
  struct SeqInfo {
    bool live = false;
    std::vector<int32_t> table;
    std::vector<uint64_t> chain;  // chain hashes of the committed full blocks
  };

  KvCache() = default;
  SeqInfo& Seq(int32_t seq);
  const int32_t* BlockTokens(int32_t block) const;
  uint64_t ChainHash(uint64_t parent, const int32_t* block_tokens) const;
  // -1 when absent; verifies tokens and parent against the stored block.
  int32_t Lookup(uint64_t hash, uint64_t parent, const int32_t* block_tokens) const;
  int32_t TakeBlock();  // REQUIRES free_blocks() > 0; returns with ref 1
  void Release(int32_t block);
  void Unregister(int32_t block);
  void LruPushBack(int32_t block);
  void LruRemove(int32_t block);

  struct AlignedDelete {
    void operator()(uint8_t* p) const;
  };
  std::unique_ptr<uint8_t, AlignedDelete> memory_;
  KvPoolView view_;
  std::vector<BlockInfo> blocks_;
  std::vector<int32_t> block_tokens_;          // n_blocks x block_size, of registered blocks
  std::vector<int32_t> free_;                  // stack of unregistered, unreferenced blocks
  int32_t lru_head_ = -1;                      // oldest cached block
  int32_t lru_tail_ = -1;                      // newest
  int32_t lru_size_ = 0;
  int32_t used_ = 0;
  std::unordered_map<uint64_t, int32_t> index_;  // chain hash -> block
  std::vector<SeqInfo> seqs_;                  // by sequence id
  KvCacheStats stats_;
  BlockCopyListener copy_listener_;
};

// A sequence of `kv` for one scope: created on construction, freed (its
// blocks returned) on every return path.
class ScopedKvSequence {
 public:
  explicit ScopedKvSequence(KvCache& kv) : kv_(kv), id_(kv.CreateSequence()) {}
  ~ScopedKvSequence() { kv_.FreeSequence(id_); }
  ScopedKvSequence(const ScopedKvSequence&) = delete;
  ScopedKvSequence& operator=(const ScopedKvSequence&) = delete;
  int32_t id() const { return id_; }

 private:
  KvCache& kv_;
  int32_t id_;
};

}  // namespace jarvis
