// Speculative decoding (by prompt lookup or with a draft model): the pieces
// that the single-sequence loop (engine/generator.h) and the scheduler's
// sequences share.
//
// One decode step normally feeds a sequence's pending token and samples one
// new token. With a draft of k guessed tokens the step feeds the pending token
// and the k drafts (positions p .. p+k, logits for every row) and samples the
// rows in order through the sequence's own TokenPipeline: row i is sampled
// exactly as the non-speculative step would sample it once the tokens before
// it were taken (same logits, as the engine is batch-invariant; same sampler
// state, RNG draws, penalties, grammar), so the draft is accepted while the
// sampled token equals it and the first mismatch is itself the next token.
// For a draft that is one fixed token per position this IS the standard
// acceptance rule (accept x with probability p(x); on rejection the sampled
// token is distributed as p restricted to the other tokens), and because the
// sampler draws once per emitted token either way, output is identical to
// decoding one token at a time: greedy and seeded sampling alike. A step
// emits 1 + accepted tokens; the K/V written for rejected drafts lies past
// the sequence's computed positions and is overwritten by the next step.
//
// Drafts come from one of two sources (SpeculationOptions::mode):
//   "lookup": the sequence itself (prompt-lookup / n-gram drafting): the
// most recent earlier occurrence of its last n tokens (n = ngram_max down to
// ngram_min), and the tokens that followed it. Text that quotes or repeats the
// prompt or itself (code edits, summaries, extraction, JSON with repeated
// keys, a greedy model in a loop) is drafted nearly free; elsewhere no n-gram
// matches and the step is an ordinary one.
//   "draft": a small draft model with the target's vocabulary, decoding
// greedily on its own KV cache (engine/model_drafter.h). It guesses ordinary
// text too, at the cost of k small forward steps per draft.
//
// DraftPolicy keeps drafting cheap when it does not pay: the draft length
// grows while whole drafts are accepted and shrinks on a rejection, and when
// the acceptance rate stays low the sequence stops drafting for a while
// (doubling pauses), so at near-zero acceptance the cost is a few short
// verify rows now and then.
//
// Thread safety: plain values and functions.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "jarvis/runtime_options.h"
#include "jarvis/status.h"

namespace jarvis {

struct SpeculationOptions {
  // "off", "lookup" (prompt lookup, above) or "draft" (a draft model, which
  // the caller supplies: GenerateOptions::drafter, SchedulerOptions::
  // draft_model).
  std::string mode = "off";
  // Draft tokens per step at most (1..kMaxDraftTokens). On a 2-core CPU a
  // verify step of 1 + k rows costs 1.5x a one-token step at k = 2 and 2.7x
  // at k = 4 (llama3-1b q4_0, AVX2; bench --speculative), so longer drafts
  // pay only at very high acceptance.
  int32_t draft_max = RuntimeOptions{}.draft_max;
  // Longest and shortest n-gram looked up (the longest match wins).
  int32_t ngram_max = 3;
  int32_t ngram_min = 2;
  // Scheduler: drafts are added to a step while its decode rows (drafts
  // included) stay within this many. Each row costs compute, so a step full
  // of other sequences' decodes leaves no room for drafts (they would slow
  // those sequences down).
  int32_t max_step_rows = 16;

  bool enabled() const { return mode != "off"; }
  // InvalidArgument naming the field.
  Status Validate() const;
};

inline constexpr int32_t kMaxDraftTokens = 32;

// Parses "off" / "lookup" / "draft" with the draft length into options;
// InvalidArgument for another mode or a draft_max outside 1..kMaxDraftTokens.
// `has_draft_model` (RuntimeOptions::draft_model given) selects "draft" when
// the mode is "off" (the default); "draft" without a draft model and
// "lookup" with one are InvalidArgument (one draft source at a time).
Result<SpeculationOptions> MakeSpeculationOptions(const std::string& mode, int32_t draft_max,
                                                  bool has_draft_model = false);

// Up to `max_tokens` tokens that followed the most recent earlier occurrence
// of the last n tokens of `tokens` (n from options.ngram_max down to
// ngram_min; the longest n with a match wins, then the most recent match).
// Empty when nothing matches or max_tokens <= 0.
std::vector<int32_t> PromptLookupDraft(std::span<const int32_t> tokens, const SpeculationOptions& options,
                                       int32_t max_tokens);

// Per-sequence draft length and on/off control (above).
class DraftPolicy {
 public:
  explicit DraftPolicy(int32_t draft_max);

  // Draft tokens to ask for in this step (0: do not draft now). Counts the
  // step against a pause.
  int32_t NextLength();
  // The verify step of a draft of `drafted` tokens accepted `accepted`.
  void Record(int32_t drafted, int32_t accepted);

  bool paused() const { return pause_left_ > 0; }
  double acceptance() const { return rate_; }

 private:
  int32_t draft_max_;
  int32_t length_;
  double rate_ = 1.0;     // moving average of accepted / drafted
  int32_t rounds_ = 0;    // verify steps since the last pause
  int32_t pause_left_ = 0;
  int32_t next_pause_ = kFirstPause;

  static constexpr int32_t kFirstLength = 2;
  static constexpr int32_t kFirstPause = 16;   // decode steps
  static constexpr int32_t kMaxPause = 512;
  static constexpr int32_t kMinRounds = 4;     // before judging the rate
  // Below about this acceptance a 2-token draft costs more than it saves on
  // a 2-core AVX2 CPU (a 3-row step costs ~1.5 one-token steps and yields
  // 1 + a + a^2 tokens: break-even near a = 0.36).
  static constexpr double kMinRate = 0.35;
  static constexpr double kRateWeight = 0.3;   // of the newest round
};

// Samples the rows of a verify step in order: `sample_row(i)` samples row i
// (i = 0 .. draft.size()) and returns the token it took, or nullopt when the
// sequence finished there (end token, stop string, budget, error, cancel).
// Stops after the first row whose token differs from draft[i] (it becomes
// the pending token) or after the last row. Returns the drafts accepted:
// positions p+1 .. p+accepted now hold computed K/V.
template <typename SampleRow>
int32_t VerifyDraft(std::span<const int32_t> draft, SampleRow&& sample_row) {
  int32_t accepted = 0;
  for (size_t i = 0;; ++i) {
    const std::optional<int32_t> token = sample_row(i);
    if (!token || i == draft.size() || *token != draft[i]) return accepted;
    ++accepted;
  }
}

}  // namespace jarvis
