#include "engine/sampling.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <random>
#include <string>

namespace jarvis {
namespace {

constexpr float kNegInf = -std::numeric_limits<float>::infinity();

Status Bad(const std::string& field, const std::string& why) {
  return Status::InvalidArgument("sampling: " + field + " " + why);
}

// splitmix64: expands one 64-bit seed into well-mixed state words.
uint64_t SplitMix64(uint64_t& x) {
  uint64_t z = (x += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

// A strict total order (logit descending, then id ascending): the selected
// sets and their order do not depend on the sort implementation.
bool Better(const auto& a, const auto& b) {
  return a.logit != b.logit ? a.logit > b.logit : a.id < b.id;
}

// +inf would turn the softmax into inf - inf; the largest float keeps the
// token certain without that.
float Finite(float logit) { return std::min(logit, std::numeric_limits<float>::max()); }

uint64_t Rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

uint64_t RandomSeed() {
  try {
    std::random_device rd;
    return (static_cast<uint64_t>(rd()) << 32) ^ static_cast<uint64_t>(rd());
  } catch (...) {  // no entropy source: fall back to the clock
    return static_cast<uint64_t>(
        std::chrono::steady_clock::now().time_since_epoch().count());
  }
}

}  // namespace

Status SamplingParams::Validate(int32_t vocab_size) const {
  if (!(temperature >= 0.0f) || !std::isfinite(temperature)) {
    return Bad("temperature", "must be finite and >= 0, got " + std::to_string(temperature));
  }
  if (!(top_p > 0.0f && top_p <= 1.0f)) {
    return Bad("top_p", "must be in (0, 1], got " + std::to_string(top_p));
  }
  if (!(min_p >= 0.0f && min_p <= 1.0f)) {
    return Bad("min_p", "must be in [0, 1], got " + std::to_string(min_p));
  }
  if (!(repeat_penalty > 0.0f) || !std::isfinite(repeat_penalty)) {
    return Bad("repeat_penalty", "must be finite and > 0, got " + std::to_string(repeat_penalty));
  }
  if (!std::isfinite(presence_penalty)) return Bad("presence_penalty", "must be finite");
  if (!std::isfinite(frequency_penalty)) return Bad("frequency_penalty", "must be finite");
  if (penalty_last_n < 0 || penalty_last_n > kMaxPenaltyLastN) {
    return Bad("penalty_last_n", "must be in [0, " + std::to_string(kMaxPenaltyLastN) +
                                     "], got " + std::to_string(penalty_last_n));
  }
  for (const auto& [id, value] : logit_bias) {
    if (id < 0 || (vocab_size > 0 && id >= vocab_size)) {
      return Bad("logit_bias", "token id " + std::to_string(id) + " is out of range");
    }
    if (std::isnan(value) || value == std::numeric_limits<float>::infinity()) {
      return Bad("logit_bias", "value for token " + std::to_string(id) +
                                   " must be finite or -inf");
    }
  }
  return Status::Ok();
}

Sampler::Sampler(const SamplingParams& params, int32_t vocab_size)
    : params_(params), vocab_size_(std::max<int32_t>(vocab_size, 0)) {
  params_.penalty_last_n =
      std::clamp<int32_t>(params_.penalty_last_n, 0, SamplingParams::kMaxPenaltyLastN);
  seed_ = params_.has_seed ? params_.seed : RandomSeed();
  candidates_.resize(static_cast<size_t>(vocab_size_));
  weights_.resize(static_cast<size_t>(vocab_size_));
  bucket_mass_.resize(kNucleusBuckets);
  window_.resize(static_cast<size_t>(params_.penalty_last_n));
  window_sorted_.resize(window_.size());
  Reset();
}

void Sampler::Reset() {
  uint64_t x = seed_;
  for (uint64_t& word : rng_) word = SplitMix64(x);
  window_pos_ = 0;
  window_size_ = 0;
}

// xoshiro256** (Blackman & Vigna), 64 bits per call.
uint64_t Sampler::NextRandom() {
  const uint64_t result = Rotl(rng_[1] * 5, 7) * 9;
  const uint64_t t = rng_[1] << 17;
  rng_[2] ^= rng_[0];
  rng_[3] ^= rng_[1];
  rng_[1] ^= rng_[2];
  rng_[0] ^= rng_[3];
  rng_[2] ^= t;
  rng_[3] = Rotl(rng_[3], 45);
  return result;
}

void Sampler::Accept(int32_t token) {
  if (window_.empty() || token < 0 || token >= vocab_size_) return;
  window_[window_pos_] = token;
  window_pos_ = (window_pos_ + 1) % window_.size();
  window_size_ = std::min(window_size_ + 1, window_.size());
}

void Sampler::ApplyBias(std::span<float> logits) const {
  for (const auto& [id, value] : params_.logit_bias) {
    if (id < 0 || static_cast<size_t>(id) >= logits.size()) continue;
    logits[static_cast<size_t>(id)] += value;
  }
}

// For each distinct token t seen c times in the window (llama.cpp / OpenAI):
//   logit = logit <= 0 ? logit * repeat_penalty : logit / repeat_penalty
//   logit -= c * frequency_penalty + presence_penalty
void Sampler::ApplyPenalties(std::span<float> logits) {
  const bool any = params_.repeat_penalty != 1.0f || params_.presence_penalty != 0.0f ||
                   params_.frequency_penalty != 0.0f;
  if (!any || window_size_ == 0) return;
  // The filled slots are window_[0, window_size_) until the ring wraps, then all.
  auto sorted_end = std::copy_n(window_.begin(), window_size_, window_sorted_.begin());
  std::sort(window_sorted_.begin(), sorted_end);
  for (auto it = window_sorted_.begin(); it != sorted_end;) {
    const int32_t token = *it;
    auto run_end = std::upper_bound(it, sorted_end, token);
    const auto count = static_cast<float>(run_end - it);
    it = run_end;
    if (static_cast<size_t>(token) >= logits.size()) continue;
    float& logit = logits[static_cast<size_t>(token)];
    if (params_.repeat_penalty != 1.0f) {
      logit = logit <= 0.0f ? logit * params_.repeat_penalty : logit / params_.repeat_penalty;
    }
    logit -= count * params_.frequency_penalty + params_.presence_penalty;
  }
}

// Highest logit; the lowest id wins ties; NaN never wins.
int32_t Sampler::Argmax(std::span<const float> logits) {
  int32_t best = kNoToken;
  float best_logit = kNegInf;
  for (size_t i = 0; i < logits.size(); ++i) {
    if (logits[i] > best_logit) {
      best_logit = logits[i];
      best = static_cast<int32_t>(i);
    }
  }
  return best;
}

size_t Sampler::GatherAll(std::span<const float> logits) {
  size_t n = 0;
  for (size_t i = 0; i < logits.size(); ++i) {
    const float l = logits[i];
    if (!(l > kNegInf)) continue;  // -inf (banned) or NaN
    candidates_[n++] = {Finite(l), static_cast<int32_t>(i)};
  }
  return n;
}

// One pass with a k-entry heap whose front is the worst kept token: most
// tokens are rejected by a single comparison, so this is O(vocab) and copies
// only k entries.
size_t Sampler::GatherTopK(std::span<const float> logits, size_t k) {
  // With Better as the "less than", a std heap keeps the worst entry in front.
  const auto better = [](const Candidate& a, const Candidate& b) { return Better(a, b); };
  const auto heap = candidates_.begin();
  size_t size = 0;
  for (size_t i = 0; i < logits.size(); ++i) {
    const float l = logits[i];
    if (!(l > kNegInf)) continue;
    const Candidate c{Finite(l), static_cast<int32_t>(i)};
    if (size < k) {
      candidates_[size++] = c;
      std::push_heap(heap, heap + static_cast<ptrdiff_t>(size), better);
    } else if (Better(c, candidates_[0])) {
      std::pop_heap(heap, heap + static_cast<ptrdiff_t>(size), better);
      candidates_[size - 1] = c;
      std::push_heap(heap, heap + static_cast<ptrdiff_t>(size), better);
    }
  }
  std::sort(heap, heap + static_cast<ptrdiff_t>(size), better);
  return size;
}

size_t Sampler::Truncate(size_t n, bool sorted) {
  const bool use_top_p = params_.top_p < 1.0f;
  const bool use_min_p = params_.min_p > 0.0f;
  if (n <= 1 || (!use_top_p && !use_min_p)) return n;

  float max_logit = candidates_[0].logit;
  for (size_t i = 1; i < n; ++i) max_logit = std::max(max_logit, candidates_[i].logit);

  // top-p needs the normalizer over every current candidate, so take it before
  // min-p narrows the set. min-p then top-p equals top-p then min-p: both keep
  // a prefix of the sorted order, and min-p's threshold depends only on the
  // maximum, which top-p always keeps.
  double total = 0.0;
  if (use_top_p) {
    for (size_t i = 0; i < n; ++i) total += std::exp(candidates_[i].logit - max_logit);
  }
  if (use_min_p) {
    // p_i >= min_p * p_max  <=>  logit_i >= max_logit + log(min_p).
    const float threshold = max_logit + std::log(params_.min_p);
    size_t kept = 0;
    for (size_t i = 0; i < n; ++i) {  // order-preserving compaction
      if (candidates_[i].logit >= threshold) candidates_[kept++] = candidates_[i];
    }
    n = kept;
  }
  if (!use_top_p) return n;
  const double target = double{params_.top_p} * total;
  if (!sorted) n = SortNucleusCandidates(n, max_logit, target);
  double cumulative = 0.0;
  for (size_t i = 0; i < n; ++i) {
    cumulative += std::exp(candidates_[i].logit - max_logit);
    if (cumulative >= target) return i + 1;
  }
  return n;
}

// The nucleus is a prefix of the sorted order. Bucketing tokens by distance
// from the maximum logit finds the bucket where the mass crosses the target;
// only tokens up to that bucket can be in the nucleus, and only they are
// sorted (typically a few dozen of a 128k vocabulary).
size_t Sampler::SortNucleusCandidates(size_t n, float max_logit, double target_mass) {
  const auto bucket_of = [max_logit](float logit) {
    const float b = (max_logit - logit) * kBucketsPerNat;
    return b < static_cast<float>(kNucleusBuckets - 1) ? static_cast<size_t>(b)
                                                       : kNucleusBuckets - 1;
  };
  std::fill(bucket_mass_.begin(), bucket_mass_.end(), 0.0);
  for (size_t i = 0; i < n; ++i) {
    bucket_mass_[bucket_of(candidates_[i].logit)] += std::exp(candidates_[i].logit - max_logit);
  }
  size_t last = kNucleusBuckets - 1;
  double cumulative = 0.0;
  for (size_t b = 0; b < kNucleusBuckets; ++b) {
    cumulative += bucket_mass_[b];
    if (cumulative >= target_mass) {
      // One bucket of slack: the final walk sums in another order, and
      // rounding must not leave the crossing point outside the kept set.
      last = std::min(b + 1, kNucleusBuckets - 1);
      break;
    }
  }
  size_t kept = 0;
  for (size_t i = 0; i < n; ++i) {
    if (bucket_of(candidates_[i].logit) <= last) candidates_[kept++] = candidates_[i];
  }
  std::sort(candidates_.begin(), candidates_.begin() + static_cast<ptrdiff_t>(kept),
            [](const Candidate& a, const Candidate& b) { return Better(a, b); });
  return kept;
}

int32_t Sampler::Draw(size_t n) {
  float max_logit = candidates_[0].logit;
  for (size_t i = 1; i < n; ++i) max_logit = std::max(max_logit, candidates_[i].logit);
  const float inv_temp = 1.0f / params_.temperature;
  double sum = 0.0;
  for (size_t i = 0; i < n; ++i) {
    weights_[i] = std::exp((candidates_[i].logit - max_logit) * inv_temp);
    sum += weights_[i];
  }
  // u in [0, 1) from the top 53 bits: exact in a double on every platform.
  const double u = static_cast<double>(NextRandom() >> 11) * 0x1.0p-53;
  const double target = u * sum;
  double cumulative = 0.0;
  for (size_t i = 0; i < n; ++i) {
    cumulative += weights_[i];
    if (target < cumulative) return candidates_[i].id;
  }
  // Rounding left target at the very top: the last token with any weight.
  for (size_t i = n; i-- > 0;) {
    if (weights_[i] > 0.0f) return candidates_[i].id;
  }
  return candidates_[0].id;
}

int32_t Sampler::Sample(std::span<float> logits) {
  if (logits.size() > static_cast<size_t>(vocab_size_)) {
    logits = logits.first(static_cast<size_t>(vocab_size_));
  }
  ApplyBias(logits);
  ApplyPenalties(logits);
  if (params_.temperature <= 0.0f) return Argmax(logits);
  const bool use_top_k = params_.top_k > 0 && static_cast<size_t>(params_.top_k) < logits.size();
  size_t n = use_top_k ? GatherTopK(logits, static_cast<size_t>(params_.top_k)) : GatherAll(logits);
  if (n == 0) return kNoToken;
  n = Truncate(n, use_top_k);
  return Draw(n);
}

}  // namespace jarvis
