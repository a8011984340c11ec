// Token sampling: turns one row of logits into one token id.
//
// The chain follows llama.cpp's default order, so results are comparable:
//   logit bias -> penalties (repeat, presence, frequency over the last
//   penalty_last_n accepted tokens) -> greedy (temperature <= 0) or
//   top-k -> top-p -> min-p -> temperature -> softmax -> draw.
// top-p and min-p are judged on the temperature-1 distribution (temperature is
// applied after them, as in llama.cpp).
//
// Determinism: the random numbers come from xoshiro256** seeded through
// splitmix64, and the uniform draw and the categorical walk are written out
// here (std::*_distribution differ between standard libraries). Same seed, same
// logits, same accepted tokens -> same tokens, on any platform with the same
// libm. Ties are broken by the lower token id everywhere.
//
// Cost: buffers are sized in the constructor; Sample() does not allocate.
// With top_k on, selection is one pass with a k-entry heap (O(vocab)); with
// top_k off, top_p buckets the tokens by logit to find the nucleus boundary
// and sorts only the tokens up to it (never the whole vocabulary unless the
// nucleus is that wide). About 0.25 ms per call at vocab 128k with defaults.
//
// Thread safety: a Sampler is mutable state for one sequence; use one per
// sequence, or synchronize externally. SamplingParams is a plain value.
#pragma once

#include <cstdint>
#include <span>
#include <utility>
#include <vector>

#include "jarvis/sampling_params.h"
#include "jarvis/status.h"

namespace jarvis {

// Returned by Sampler::Sample when no token has a logit above -inf.
inline constexpr int32_t kNoToken = -1;


class Sampler {
 public:
  // REQUIRES: params.Validate(vocab_size).ok() (out-of-range values are clamped
  // to something harmless rather than trusted), vocab_size > 0.
  Sampler(const SamplingParams& params, int32_t vocab_size);

  // Picks a token from `logits` (one float per token id). Modifies `logits` in
  // place (bias and penalties are applied to it). Returns kNoToken if every
  // logit is -inf or NaN. Does not record the token: call Accept() with the
  // token actually appended to the sequence.
  // REQUIRES: logits.size() == vocab_size (extra entries are ignored).
  int32_t Sample(std::span<float> logits);

  // Records `token` into the penalty window (the last penalty_last_n tokens).
  // Prompt tokens may be accepted too, to penalize repeating the prompt.
  void Accept(int32_t token);

  // Forgets the penalty window and rewinds the RNG to its initial seed, so the
  // same calls replay the same tokens.
  void Reset();

  // The seed in use (drawn from std::random_device when !params.has_seed), so
  // a random run can be reported and replayed.
  uint64_t seed() const { return seed_; }
  const SamplingParams& params() const { return params_; }

 private:
  struct Candidate {
    float logit;
    int32_t id;
  };
  // Buckets of (max_logit - logit) used to find the top-p boundary without a
  // full sort: kNucleusBuckets buckets of 1/kBucketsPerNat nats each.
  static constexpr size_t kNucleusBuckets = 256;
  static constexpr float kBucketsPerNat = 8.0f;

  void ApplyBias(std::span<float> logits) const;
  void ApplyPenalties(std::span<float> logits);
  static int32_t Argmax(std::span<const float> logits);
  // Fills candidates_ with every token whose logit is > -inf (not NaN).
  size_t GatherAll(std::span<const float> logits);
  // Fills candidates_[0, k) with the k best tokens, sorted best first.
  size_t GatherTopK(std::span<const float> logits, size_t k);
  // Applies top-p and min-p to candidates_[0, n); returns the new n. When
  // top-p is on, the survivors end up sorted best first.
  size_t Truncate(size_t n, bool sorted);
  // Moves the tokens that can be in the top-p nucleus to the front, sorted.
  size_t SortNucleusCandidates(size_t n, float max_logit, double target_mass);
  // Softmax at params_.temperature over candidates_[0, n) and one draw.
  int32_t Draw(size_t n);
  uint64_t NextRandom();

  SamplingParams params_;
  int32_t vocab_size_;
  uint64_t seed_ = 0;
  uint64_t rng_[4] = {0, 0, 0, 0};

  std::vector<Candidate> candidates_;  // vocab_size_ entries
  std::vector<float> weights_;         // vocab_size_ entries, unnormalized probs
  std::vector<double> bucket_mass_;     // kNucleusBuckets entries
  // Penalty window: ring buffer of the last penalty_last_n accepted tokens.
  std::vector<int32_t> window_;
  size_t window_pos_ = 0;   // next slot to write
  size_t window_size_ = 0;  // filled slots
  std::vector<int32_t> window_sorted_;  // scratch, same capacity as window_
};

}  // namespace jarvis
