#include "engine/generator.h"

#include <algorithm>
#include <chrono>

#include "engine/stop_matcher.h"
#include "tokenizer/streaming_decoder.h"
#include "tokenizer/tokenizer.h"

namespace jarvis {
namespace {

double SecondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// Frees the sequence's KV blocks on every return path.
class SequenceGuard {
 public:
  explicit SequenceGuard(KvCache& kv) : kv_(kv), seq_(kv.CreateSequence()) {}
  ~SequenceGuard() { kv_.FreeSequence(seq_); }
  SequenceGuard(const SequenceGuard&) = delete;
  SequenceGuard& operator=(const SequenceGuard&) = delete;
  int32_t id() const { return seq_; }

 private:
  KvCache& kv_;
  int32_t seq_;
};

}  // namespace

Result<GenerationResult> Generate(Engine& engine, std::span<const int32_t> prompt,
                                const GenerateOptions& options, const TextCallback& on_text) {
  const Tokenizer& tok = engine.model().tokenizer();
  const int32_t n_vocab = engine.model().hparams().n_vocab;
  const int32_t n_ctx = engine.n_ctx();
  if (prompt.empty()) return Status::InvalidArgument("the prompt is empty");
  if (static_cast<int32_t>(prompt.size()) >= n_ctx) {
    return Status::InvalidArgument("the prompt has " + std::to_string(prompt.size()) +
                                   " tokens but the context holds " + std::to_string(n_ctx) +
                                   " (including at least one generated token)");
  }
  JARVIS_RETURN_IF_ERROR(options.sampling.Validate(n_vocab));

  SequenceGuard seq(engine.kv());
  Sampler sampler(options.sampling, n_vocab);
  StopMatcher stops(options.stop);
  StreamingDecoder decoder(tok);
  GenerationResult result;
  result.prompt_tokens = static_cast<int32_t>(prompt.size());
  for (int32_t t : prompt) sampler.Accept(t);  // penalties see the prompt, as in llama.cpp

  std::vector<float> logits;
  Batch batch;
  auto step = [&](std::span<const int32_t> tokens, int32_t first_pos) -> Status {
    JARVIS_RETURN_IF_ERROR(engine.kv().Reserve(seq.id(), first_pos + static_cast<int32_t>(tokens.size())));
    batch.Clear();
    for (size_t i = 0; i < tokens.size(); ++i) {
      batch.Add(tokens[i], first_pos + static_cast<int32_t>(i), 0, i + 1 == tokens.size());
    }
    batch.block_tables.push_back(engine.kv().block_table(seq.id()));
    return engine.Decode(batch, &logits);
  };

  // Prefill in chunks; only the last token's logits are needed.
  auto start = std::chrono::steady_clock::now();
  const int32_t chunk = std::max(1, options.prefill_chunk);
  for (int32_t pos = 0; pos < static_cast<int32_t>(prompt.size()); pos += chunk) {
    const size_t n = std::min<size_t>(static_cast<size_t>(chunk), prompt.size() - static_cast<size_t>(pos));
    JARVIS_RETURN_IF_ERROR(step(prompt.subspan(static_cast<size_t>(pos), n), pos));
  }
  result.prompt_seconds = SecondsSince(start);

  start = std::chrono::steady_clock::now();
  int32_t pos = static_cast<int32_t>(prompt.size());
  const int32_t budget = options.max_tokens < 0 ? n_ctx : options.max_tokens;
  auto emit = [&](const std::string& text) {
    result.text += text;
    return !on_text || text.empty() || on_text(text);
  };
  result.finish = FinishReason::kLength;
  bool done = false;
  while (!done && static_cast<int32_t>(result.tokens.size()) < budget) {
    const int32_t next = sampler.Sample(std::span<float>(logits.data(), static_cast<size_t>(n_vocab)));
    if (next == kNoToken || (!options.ignore_eos && tok.IsEndOfGeneration(next))) {
      result.finish = FinishReason::kStop;
      break;
    }
    sampler.Accept(next);
    result.tokens.push_back(next);
    StopMatcher::Output out = stops.Push(decoder.Push(next));
    if (!emit(out.emit)) {
      result.finish = FinishReason::kCancelled;
      done = true;
    } else if (out.stopped) {
      result.finish = FinishReason::kStop;
      done = true;
    } else if (pos + 1 >= n_ctx) {
      break;  // context full: finish as length
    } else {
      const int32_t one[] = {next};
      JARVIS_RETURN_IF_ERROR(step(one, pos++));
    }
  }
  // Release text held back by the decoder (an unfinished UTF-8 sequence) or
  // by the stop matcher (a possible stop-string prefix).
  if (result.finish != FinishReason::kCancelled && !stops.stopped()) {
    StopMatcher::Output out = stops.Push(decoder.Flush());
    if (out.stopped) result.finish = FinishReason::kStop;
    emit(out.emit + stops.Flush());
  }
  result.generate_seconds = SecondsSince(start);
  return result;
}

}  // namespace jarvis
