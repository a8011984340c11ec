#include "engine/token_pipeline.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace jarvis {

TokenPipeline::TokenPipeline(const Tokenizer& tokenizer, int32_t n_vocab, int32_t n_ctx,
                             std::span<const int32_t> prompt, const TokenPipelineOptions& options,
                             std::unique_ptr<LogitsProcessor> processor)
    : tokenizer_(tokenizer),
      n_vocab_(n_vocab),
      n_ctx_(n_ctx),
      n_prompt_(static_cast<int32_t>(prompt.size())),
      budget_(options.max_tokens < 0 ? n_ctx : options.max_tokens),
      options_(options),
      processor_(std::move(processor)),
      sampler_(options.sampling, n_vocab),
      stops_(options.stop),
      decoder_(tokenizer) {
  for (int32_t t : prompt) sampler_.Accept(t);  // penalties see the prompt, as in llama.cpp
}

TokenPipeline::StepResult TokenPipeline::Step(std::span<float> logits) {
  StepResult r;
  logits = logits.first(static_cast<size_t>(n_vocab_));
  int32_t next = -1;
  if (processor_) {
    Result<int32_t> only = processor_->Process(logits);
    if (!only.ok()) {
      r.finish = FinishReason::kError;
      r.error = only.status();
      return r;
    }
    next = *only;  // the only possible token: no need to sample
  }
  if (next < 0) next = sampler_.Sample(logits);
  if (next == kNoToken || (!options_.ignore_eos && tokenizer_.IsEndOfGeneration(next))) {
    r.finish = FinishReason::kStop;
    return r;
  }
  if (options_.logprobs >= 0) r.logprob = RecordLogprob(logits, next);
  sampler_.Accept(next);
  if (processor_) {
    Status accepted = processor_->Accept(next);
    if (!accepted.ok()) {
      r.finish = FinishReason::kError;
      r.error = std::move(accepted);
      return r;
    }
  }
  r.token = next;
  ++n_generated_;
  StopMatcher::Output out = stops_.Push(decoder_.Push(next));
  r.text = std::move(out.emit);
  if (out.stopped || (processor_ && processor_->Complete())) {
    r.finish = FinishReason::kStop;
  } else if (n_generated_ >= budget_ || n_prompt_ + n_generated_ >= n_ctx_) {
    r.finish = FinishReason::kLength;  // max_tokens reached or the context is full
  }
  return r;
}

std::string TokenPipeline::Finish(FinishReason* finish) {
  if ((*finish != FinishReason::kStop && *finish != FinishReason::kLength) || stops_.stopped()) return "";
  StopMatcher::Output out = stops_.Push(decoder_.Flush());
  if (out.stopped) *finish = FinishReason::kStop;
  return std::move(out.emit) + stops_.Flush();
}

TokenLogprob TokenPipeline::RecordLogprob(std::span<const float> logits, int32_t token) const {
  // log-softmax over the finite logits (banned tokens have -inf: probability 0).
  float max = -std::numeric_limits<float>::infinity();
  for (float v : logits) max = std::max(max, std::isnan(v) ? max : v);
  double sum = 0.0;
  for (float v : logits) {
    if (v > -std::numeric_limits<float>::infinity()) sum += std::exp(static_cast<double>(v - max));
  }
  const float log_z = max + static_cast<float>(std::log(sum));
  TokenLogprob lp;
  lp.token = token;
  lp.piece = std::string(tokenizer_.Piece(token, true));
  lp.logprob = logits[static_cast<size_t>(token)] - log_z;
  const size_t k = static_cast<size_t>(std::min(options_.logprobs, GenerateRequest::kMaxTopLogprobs));
  if (k == 0) return lp;
  // The k best by a bounded insertion (k <= 20): one pass, no allocation per token.
  std::vector<std::pair<float, int32_t>> best;
  best.reserve(k + 1);
  for (size_t i = 0; i < logits.size(); ++i) {
    const float v = logits[i];
    if (!(v > -std::numeric_limits<float>::infinity())) continue;
    if (best.size() == k && v <= best.back().first) continue;
    auto pos = std::find_if(best.begin(), best.end(), [v](const auto& b) { return v > b.first; });
    best.insert(pos, {v, static_cast<int32_t>(i)});
    if (best.size() > k) best.pop_back();
  }
  for (const auto& [v, id] : best) {
    lp.top.push_back({id, std::string(tokenizer_.Piece(id, true)), v - log_z});
  }
  return lp;
}

}  // namespace jarvis
