#include "engine/kv_cache.h"

#include <sys/mman.h>

#include <xxhash.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <string>

namespace jarvis {
namespace {

// h_{-1}: the seed of every chain ("jarvisKV").
constexpr uint64_t kChainRoot = 0x6a61727669734b56ULL;

}  // namespace

void KvCache::AlignedDelete::operator()(uint8_t* p) const { std::free(p); }

int32_t KvCache::BlocksForBudget(const KvLayout& layout, size_t budget_bytes) {
  const size_t n = budget_bytes / layout.block_bytes();
  return static_cast<int32_t>(std::clamp<size_t>(n, 1, 1u << 30));
}

Result<std::unique_ptr<KvCache>> KvCache::Create(const KvLayout& layout, int32_t n_blocks) {
  if (n_blocks <= 0 || layout.block_size <= 0 || layout.n_layer <= 0 || layout.n_embd_kv <= 0) {
    return Status::InvalidArgument("KV cache needs a positive geometry and block count");
  }
  if (layout.n_embd_kv % Traits(layout.type).block != 0) {
    return Status::InvalidArgument(std::string("KV cache: rows of ") + std::to_string(layout.n_embd_kv) +
                                   " elements are not whole " + KvTypeName(layout.type) + " blocks");
  }
  const size_t bytes = static_cast<size_t>(n_blocks) * layout.block_bytes();
  // Pools of 2 MiB and more sit on huge pages where the kernel grants them:
  // attention reads a sequence's rows from blocks spread over the whole pool,
  // and with 4 KiB pages nearly every block costs TLB misses (llama3-1b q4_0
  // at 4.3K context: decode +10%, prompt +4% with them).
  constexpr size_t kHuge = size_t{2} << 20;
  const size_t align = bytes >= kHuge ? kHuge : 64;
  const size_t rounded = (bytes + align - 1) / align * align;
  std::unique_ptr<KvCache> kv(new KvCache());
  kv->memory_.reset(static_cast<uint8_t*>(std::aligned_alloc(align, rounded)));
  if (!kv->memory_) {
    return Status::ResourceExhausted("cannot allocate " + std::to_string(bytes >> 20) + " MiB of KV cache");
  }
  if (align == kHuge) madvise(kv->memory_.get(), rounded, MADV_HUGEPAGE);
  kv->view_.layout = layout;
  kv->view_.base = kv->memory_.get();
  kv->view_.n_blocks = n_blocks;
  kv->blocks_.resize(static_cast<size_t>(n_blocks));
  kv->block_tokens_.resize(static_cast<size_t>(n_blocks) * static_cast<size_t>(layout.block_size));
  kv->free_.reserve(static_cast<size_t>(n_blocks));
  for (int32_t b = n_blocks - 1; b >= 0; --b) kv->free_.push_back(b);  // hand out block 0 first
  return kv;
}

KvCache::SeqInfo& KvCache::Seq(int32_t seq) { return seqs_.at(static_cast<size_t>(seq)); }

int32_t KvCache::CreateSequence() {
  for (size_t i = 0; i < seqs_.size(); ++i) {
    if (!seqs_[i].live) {
      seqs_[i].live = true;
      seqs_[i].table.clear();
      seqs_[i].chain.clear();
      return static_cast<int32_t>(i);
    }
  }
  seqs_.emplace_back().live = true;
  return static_cast<int32_t>(seqs_.size() - 1);
}

void KvCache::FreeSequence(int32_t seq) {
  if (seq < 0 || static_cast<size_t>(seq) >= seqs_.size() || !seqs_[static_cast<size_t>(seq)].live) return;
  SeqInfo& s = Seq(seq);
  // Last block first: the deepest blocks of a prefix become the oldest in the
  // LRU, so eviction trims chains from their ends (a block is useless once an
  // earlier block of its chain is gone).
  for (auto it = s.table.rbegin(); it != s.table.rend(); ++it) Release(*it);
  s.table.clear();
  s.chain.clear();
  s.live = false;
}

int32_t KvCache::TakeBlock() {
  int32_t b;
  if (!free_.empty()) {
    b = free_.back();
    free_.pop_back();
  } else {
    b = lru_head_;  // evict the least recently used cached block
    LruRemove(b);
    Unregister(b);
    ++stats_.evictions;
  }
  blocks_[static_cast<size_t>(b)].ref = 1;
  ++used_;
  return b;
}

void KvCache::Release(int32_t block) {
  BlockInfo& info = blocks_[static_cast<size_t>(block)];
  if (--info.ref > 0) return;
  --used_;
  if (info.registered) {
    LruPushBack(block);
  } else {
    free_.push_back(block);
  }
}

void KvCache::Unregister(int32_t block) {
  BlockInfo& info = blocks_[static_cast<size_t>(block)];
  if (!info.registered) return;
  auto it = index_.find(info.hash);
  if (it != index_.end() && it->second == block) index_.erase(it);
  info.registered = false;
}

void KvCache::LruPushBack(int32_t block) {
  BlockInfo& info = blocks_[static_cast<size_t>(block)];
  info.lru_prev = lru_tail_;
  info.lru_next = -1;
  if (lru_tail_ >= 0) {
    blocks_[static_cast<size_t>(lru_tail_)].lru_next = block;
  } else {
    lru_head_ = block;
  }
  lru_tail_ = block;
  ++lru_size_;
}

void KvCache::LruRemove(int32_t block) {
  BlockInfo& info = blocks_[static_cast<size_t>(block)];
  if (info.lru_prev >= 0) {
    blocks_[static_cast<size_t>(info.lru_prev)].lru_next = info.lru_next;
  } else {
    lru_head_ = info.lru_next;
  }
  if (info.lru_next >= 0) {
    blocks_[static_cast<size_t>(info.lru_next)].lru_prev = info.lru_prev;
  } else {
    lru_tail_ = info.lru_prev;
  }
  info.lru_prev = info.lru_next = -1;
  --lru_size_;
}

Status KvCache::Reserve(int32_t seq, int32_t n_positions) {
  SeqInfo& s = Seq(seq);
  const int32_t bs = block_size();
  const size_t need = static_cast<size_t>((std::max(0, n_positions) + bs - 1) / bs);
  if (need <= s.table.size()) return Status::Ok();
  const size_t more = need - s.table.size();
  if (more > static_cast<size_t>(free_blocks())) {
    return Status::ResourceExhausted("KV cache full: need " + std::to_string(more) + " more blocks, " +
                                     std::to_string(free_blocks()) + " free");
  }
  for (size_t i = 0; i < more; ++i) s.table.push_back(TakeBlock());
  return Status::Ok();
}

Status KvCache::Truncate(int32_t seq, int32_t n_positions) {
  SeqInfo& s = Seq(seq);
  const int32_t bs = block_size();
  n_positions = std::max(0, n_positions);
  const size_t keep = static_cast<size_t>((n_positions + bs - 1) / bs);
  const bool partial = n_positions % bs != 0;
  if (partial && keep <= s.table.size()) {
    const int32_t last = s.table[keep - 1];
    if (blocks_[static_cast<size_t>(last)].ref > 1) {
      if (free_blocks() == 0) return Status::ResourceExhausted("KV cache full: cannot copy a shared block");
      const int32_t copy = TakeBlock();
      const size_t bytes = view_.layout.block_bytes();
      std::memcpy(view_.base + static_cast<size_t>(copy) * bytes, view_.base + static_cast<size_t>(last) * bytes,
                  bytes);
      if (copy_listener_) {
        const Status copied = copy_listener_(last, copy);
        if (!copied.ok()) {
          Release(copy);
          return copied;
        }
      }
      Release(last);
      s.table[keep - 1] = copy;
    } else {
      Unregister(last);
    }
  }
  while (s.table.size() > keep) {
    Release(s.table.back());
    s.table.pop_back();
  }
  s.chain.resize(std::min(s.chain.size(), static_cast<size_t>(n_positions / bs)));
  return Status::Ok();
}

const int32_t* KvCache::BlockTokens(int32_t block) const {
  return block_tokens_.data() + static_cast<size_t>(block) * static_cast<size_t>(block_size());
}

uint64_t KvCache::ChainHash(uint64_t parent, const int32_t* block_tokens) const {
  return XXH3_64bits_withSeed(block_tokens, static_cast<size_t>(block_size()) * sizeof(int32_t), parent);
}

int32_t KvCache::Lookup(uint64_t hash, uint64_t parent, const int32_t* block_tokens) const {
  auto it = index_.find(hash);
  if (it == index_.end()) return -1;
  const BlockInfo& info = blocks_[static_cast<size_t>(it->second)];
  // Guard against a 64-bit collision: the block's own tokens and its parent
  // hash must match too.
  if (info.parent != parent ||
      std::memcmp(BlockTokens(it->second), block_tokens, static_cast<size_t>(block_size()) * sizeof(int32_t)) != 0) {
    return -1;
  }
  return it->second;
}

PrefixMatch KvCache::MatchPrefix(std::span<const int32_t> tokens) const {
  PrefixMatch match;
  if (tokens.empty()) return match;
  const size_t bs = static_cast<size_t>(block_size());
  const size_t max_blocks = (tokens.size() - 1) / bs;  // the last token is always computed
  uint64_t parent = kChainRoot;
  for (size_t k = 0; k < max_blocks; ++k) {
    const int32_t* block_tokens = tokens.data() + k * bs;
    const uint64_t h = ChainHash(parent, block_tokens);
    const int32_t b = Lookup(h, parent, block_tokens);
    if (b < 0) break;
    match.blocks.push_back(b);
    parent = h;
  }
  match.n_tokens = static_cast<int32_t>(match.blocks.size() * bs);
  return match;
}

int32_t KvCache::FreeBlocksAfterAttach(const PrefixMatch& match) const {
  int32_t n = free_blocks();
  for (int32_t b : match.blocks) {
    if (blocks_.at(static_cast<size_t>(b)).ref == 0) --n;
  }
  return n;
}

Status KvCache::AttachPrefix(int32_t seq, const PrefixMatch& match) {
  SeqInfo& s = Seq(seq);
  if (!s.table.empty()) return Status::InvalidArgument("AttachPrefix needs an empty sequence");
  for (int32_t b : match.blocks) {
    if (b < 0 || b >= n_blocks() || !blocks_[static_cast<size_t>(b)].registered) {
      return Status::InvalidArgument("AttachPrefix: block " + std::to_string(b) + " is not cached");
    }
  }
  for (int32_t b : match.blocks) {
    BlockInfo& info = blocks_[static_cast<size_t>(b)];
    if (info.ref == 0) {
      LruRemove(b);
      ++used_;
    }
    ++info.ref;
    s.table.push_back(b);
    s.chain.push_back(info.hash);
  }
  if (match.blocks.empty()) {
    ++stats_.prefix_misses;
  } else {
    ++stats_.prefix_hits;
    stats_.cached_tokens += match.n_tokens;
  }
  return Status::Ok();
}

void KvCache::CommitTokens(int32_t seq, std::span<const int32_t> tokens) {
  SeqInfo& s = Seq(seq);
  const size_t bs = static_cast<size_t>(block_size());
  const size_t full = std::min(tokens.size() / bs, s.table.size());
  for (size_t k = s.chain.size(); k < full; ++k) {
    const int32_t* block_tokens = tokens.data() + k * bs;
    const uint64_t parent = k == 0 ? kChainRoot : s.chain[k - 1];
    const uint64_t h = ChainHash(parent, block_tokens);
    s.chain.push_back(h);
    const int32_t b = s.table[k];
    BlockInfo& info = blocks_[static_cast<size_t>(b)];
    if (info.registered || index_.count(h) != 0) continue;  // attached, or computed twice
    info.registered = true;
    info.hash = h;
    info.parent = parent;
    std::memcpy(block_tokens_.data() + static_cast<size_t>(b) * bs, block_tokens, bs * sizeof(int32_t));
    index_.emplace(h, b);
  }
}

void KvCache::ClearPrefixCache() {
  while (lru_head_ >= 0) {
    const int32_t b = lru_head_;
    LruRemove(b);
    Unregister(b);
    free_.push_back(b);
    ++stats_.evictions;
  }
}

std::span<const int32_t> KvCache::block_table(int32_t seq) const {
  return seqs_.at(static_cast<size_t>(seq)).table;
}

}  // namespace jarvis
