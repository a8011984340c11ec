// SamplingParams: how one request picks its tokens (part of the public API;
// the Sampler in src/engine/sampling.h implements it).
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

#include "jarvis/status.h"

namespace jarvis {

// Per-request sampling options. Defaults match llama.cpp's CLI defaults.
struct SamplingParams {
  // Softmax temperature. Default 0.8. <= 0 means greedy (argmax).
  float temperature = 0.8f;
  // Keep only the k most likely tokens. Default 40. <= 0 means off.
  int32_t top_k = 40;
  // Nucleus: keep the smallest set of most likely tokens whose probability sums
  // to >= top_p. Default 0.95. >= 1 means off.
  float top_p = 0.95f;
  // Keep tokens with p >= min_p * p(most likely). Default 0.05. <= 0 means off.
  float min_p = 0.05f;
  // CTRL-style repetition penalty: a penalized positive logit is divided by it,
  // a negative one multiplied. Default 1.0 (off).
  float repeat_penalty = 1.0f;
  // How many of the most recently accepted tokens the penalties look at.
  // Default 64. 0 disables all penalties. (Callers that accept llama.cpp's -1,
  // "whole context", resolve it to the context length before this point.)
  int32_t penalty_last_n = 64;
  // OpenAI presence penalty: subtracted once from every token seen in the
  // window. Default 0.0 (off).
  float presence_penalty = 0.0f;
  // OpenAI frequency penalty: subtracted once per occurrence in the window.
  // Default 0.0 (off).
  float frequency_penalty = 0.0f;
  // (token id, value) pairs added to the logits first. A value of -inf bans
  // the token. Ids >= the vocabulary size are ignored by Sampler. Default empty.
  std::vector<std::pair<int32_t, float>> logit_bias;
  // RNG seed, used only when has_seed is true. Default 0.
  uint64_t seed = 0;
  // false (default): the Sampler draws a seed from std::random_device.
  bool has_seed = false;

  // Checks ranges: temperature >= 0 and finite; top_p in (0, 1]; min_p in
  // [0, 1]; repeat_penalty > 0 and finite; presence/frequency finite;
  // penalty_last_n in [0, kMaxPenaltyLastN]; bias ids >= 0 (and < vocab_size
  // when vocab_size > 0); bias values finite or -inf. InvalidArgument names the
  // first bad field.
  Status Validate(int32_t vocab_size = 0) const;

  static constexpr int32_t kMaxPenaltyLastN = 1 << 16;
};

}  // namespace jarvis
