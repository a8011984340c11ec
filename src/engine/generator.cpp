#include "engine/generator.h"

#include <algorithm>
#include <chrono>

#include <exception>
#include <memory>
#include <optional>

#include "engine/grammar_processor.h"
#include "engine/speculation.h"
#include "engine/token_pipeline.h"
#include "tokenizer/tokenizer.h"

namespace jarvis {
namespace {

double SecondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}


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
  const bool model_drafts = options.speculation.mode == "draft";
  if (model_drafts && options.drafter == nullptr) {
    return Status::InvalidArgument("speculative \"draft\" needs a draft model");
  }
  std::unique_ptr<GrammarProcessorFactory> grammars;
  std::unique_ptr<LogitsProcessor> processor;
  if (!options.grammar.empty()) {
    grammars = std::make_unique<GrammarProcessorFactory>(tok, 1);
    JARVIS_ASSIGN_OR_RETURN(processor, grammars->Make(options.grammar, nullptr, options.ignore_eos));
  }

  ScopedKvSequence seq(engine.kv());
  std::optional<ScopedDraftSequence> draft_seq;
  if (model_drafts) draft_seq.emplace(*options.drafter);
  TokenPipelineOptions pipeline_options;
  pipeline_options.sampling = options.sampling;
  pipeline_options.stop = options.stop;
  pipeline_options.ignore_eos = options.ignore_eos;
  pipeline_options.max_tokens = options.max_tokens;
  pipeline_options.logprobs = options.logprobs;
  TokenPipeline pipeline(tok, n_vocab, n_ctx, prompt, pipeline_options, std::move(processor));
  GenerationResult result;
  result.prompt_tokens = static_cast<int32_t>(prompt.size());

  std::vector<float> logits;
  Batch batch;
  // Feeds `tokens` at positions first_pos.. ; logits for the last token, or
  // for every token (a verify step).
  auto step = [&](std::span<const int32_t> tokens, int32_t first_pos, bool all_logits) -> Status {
    JARVIS_RETURN_IF_ERROR(engine.kv().Reserve(seq.id(), first_pos + static_cast<int32_t>(tokens.size())));
    batch.Clear();
    for (size_t i = 0; i < tokens.size(); ++i) {
      batch.Add(tokens[i], first_pos + static_cast<int32_t>(i), 0, all_logits || i + 1 == tokens.size());
    }
    batch.block_tables.push_back(engine.kv().block_table(seq.id()));
    return engine.Decode(batch, &logits);
  };

  // Prefill in chunks; only the last token's logits are needed.
  auto start = std::chrono::steady_clock::now();
  const int32_t chunk = std::max(1, options.prefill_chunk);
  for (int32_t pos = 0; pos < static_cast<int32_t>(prompt.size()); pos += chunk) {
    const size_t n = std::min<size_t>(static_cast<size_t>(chunk), prompt.size() - static_cast<size_t>(pos));
    JARVIS_RETURN_IF_ERROR(step(prompt.subspan(static_cast<size_t>(pos), n), pos, false));
  }
  result.prompt_seconds = SecondsSince(start);

  start = std::chrono::steady_clock::now();
  // Delivers text; false to cancel. A throwing callback is an error, as in the scheduler.
  Status callback_error;
  auto emit = [&](const std::string& text) {
    result.text += text;
    if (!on_text || text.empty()) return true;
    try {
      return on_text(text);
    } catch (const std::exception& e) {
      callback_error = Status::Internal(std::string("on_text threw: ") + e.what());
    } catch (...) {
      callback_error = Status::Internal("on_text threw");
    }
    return false;
  };
  std::optional<FinishReason> finish;
  if (pipeline.budget() == 0) finish = FinishReason::kLength;
  Status step_error;
  // Prompt and generated tokens: the positions computed, then the pending
  // token (the last one), which the next step feeds.
  std::vector<int32_t> history(prompt.begin(), prompt.end());
  DraftPolicy policy(options.speculation.draft_max);
  std::vector<int32_t> draft;  // fed after the pending token in the last step
  auto sample_row = [&](size_t row) -> std::optional<int32_t> {
    TokenPipeline::StepResult r =
        pipeline.Step(std::span<float>(logits.data() + row * static_cast<size_t>(n_vocab), static_cast<size_t>(n_vocab)));
    if (r.token >= 0) {
      result.tokens.push_back(r.token);
      history.push_back(r.token);
      if (r.logprob) result.logprobs.push_back(std::move(*r.logprob));
    }
    if (!r.error.ok()) {
      step_error = r.error;
      finish = FinishReason::kError;
    } else if (!emit(r.text)) {
      finish = FinishReason::kCancelled;
    } else if (r.finish) {
      finish = r.finish;
    }
    if (finish) return std::nullopt;
    return r.token;
  };
  while (!finish) {
    const int32_t accepted = VerifyDraft(draft, sample_row);
    if (!draft.empty()) {
      policy.Record(static_cast<int32_t>(draft.size()), accepted);
      result.draft_tokens += static_cast<int32_t>(draft.size());
      result.accepted_draft_tokens += accepted;
    }
    if (!step_error.ok()) return step_error;
    if (!callback_error.ok()) return callback_error;
    if (finish) break;
    draft.clear();
    if (options.speculation.enabled()) {
      // Room: drafts past the token budget or the context are wasted rows.
      const int32_t room = std::min(pipeline.budget() - pipeline.n_generated() - 1,
                                    n_ctx - static_cast<int32_t>(history.size()) - 1);
      const int32_t want = std::min(room, policy.NextLength());
      if (want > 0 && model_drafts) {
        ModelDrafter::Job job{draft_seq->id(), history, want, {}};
        // A failed draft step costs the draft, not the generation.
        if (options.drafter->Draft(std::span<ModelDrafter::Job>(&job, 1)).ok()) draft = std::move(job.draft);
      } else if (want > 0) {
        draft = PromptLookupDraft(history, options.speculation, want);
      }
    }
    const int32_t pending_pos = static_cast<int32_t>(history.size()) - 1;
    std::vector<int32_t> feed = {history.back()};
    feed.insert(feed.end(), draft.begin(), draft.end());
    JARVIS_RETURN_IF_ERROR(step(feed, pending_pos, !draft.empty()));
    ++result.decode_steps;
  }
  result.finish = *finish;
  const std::string rest = pipeline.Finish(&result.finish);
  if (!rest.empty()) emit(rest);
  if (!callback_error.ok()) return callback_error;
  result.generate_seconds = SecondsSince(start);
  return result;
}

}  // namespace jarvis
