#include "engine/speculation.h"

#include <algorithm>
#include <cstring>

namespace jarvis {

Status SpeculationOptions::Validate() const {
  if (mode != "off" && mode != "lookup" && mode != "draft") {
    return Status::InvalidArgument("speculative must be \"off\", \"lookup\" or \"draft\", not \"" + mode + "\"");
  }
  if (draft_max < 1 || draft_max > kMaxDraftTokens) {
    return Status::InvalidArgument("draft_max must be 1.." + std::to_string(kMaxDraftTokens) + ", not " +
                                   std::to_string(draft_max));
  }
  if (max_step_rows < 1) return Status::InvalidArgument("max_step_rows must be >= 1");
  if (ngram_min < 1 || ngram_max < ngram_min) {
    return Status::InvalidArgument("lookup n-gram sizes must satisfy 1 <= ngram_min <= ngram_max");
  }
  return Status::Ok();
}

Result<SpeculationOptions> MakeSpeculationOptions(const std::string& mode, int32_t draft_max,
                                                  bool has_draft_model) {
  SpeculationOptions o;
  o.mode = has_draft_model && mode == "off" ? "draft" : mode;
  if (has_draft_model && o.mode == "lookup") {
    return Status::InvalidArgument(
        "speculative \"lookup\" and a draft model exclude each other: a draft model drafts with speculative "
        "\"draft\" (chosen when speculative is left \"off\")");
  }
  if (!has_draft_model && o.mode == "draft") {
    return Status::InvalidArgument("speculative \"draft\" needs a draft model (--draft-model / draft_model)");
  }
  o.draft_max = draft_max;
  JARVIS_RETURN_IF_ERROR(o.Validate());
  return o;
}

std::vector<int32_t> PromptLookupDraft(std::span<const int32_t> tokens, const SpeculationOptions& options,
                                       int32_t max_tokens) {
  const auto n_tokens = static_cast<int64_t>(tokens.size());
  if (max_tokens <= 0) return {};
  for (int64_t n = std::min<int64_t>(options.ngram_max, n_tokens - 1); n >= options.ngram_min; --n) {
    const int32_t* tail = tokens.data() + (n_tokens - n);
    // Most recent occurrence first; the match must be followed by at least
    // one token (start + n < n_tokens), which the search range guarantees.
    for (int64_t start = n_tokens - n - 1; start >= 0; --start) {
      if (tokens[static_cast<size_t>(start)] != tail[0] ||
          std::memcmp(tokens.data() + start, tail, static_cast<size_t>(n) * sizeof(int32_t)) != 0) {
        continue;
      }
      const int64_t from = start + n;
      const int64_t len = std::min<int64_t>(max_tokens, n_tokens - from);
      return std::vector<int32_t>(tokens.begin() + from, tokens.begin() + from + len);
    }
  }
  return {};
}

// Drafts start short: a verify row costs a good part of a step on a CPU
// (bench --speculative), so length is earned by acceptance.
DraftPolicy::DraftPolicy(int32_t draft_max)
    : draft_max_(std::max(1, draft_max)), length_(std::min(draft_max_, kFirstLength)) {}

int32_t DraftPolicy::NextLength() {
  if (pause_left_ > 0) {
    --pause_left_;
    return 0;
  }
  return length_;
}

void DraftPolicy::Record(int32_t drafted, int32_t accepted) {
  if (drafted <= 0) return;
  // Whole drafts accepted: try longer ones; a rejection: one shorter (the
  // usual heuristic: cheap to recover, quick to back off).
  length_ = accepted == drafted ? std::min(draft_max_, length_ + 2) : std::max(1, length_ - 1);
  rate_ = (1.0 - kRateWeight) * rate_ + kRateWeight * static_cast<double>(accepted) / drafted;
  if (++rounds_ >= kMinRounds && rate_ < kMinRate) {
    // Drafts keep failing here: stop for a while, longer each time, then try
    // again from a short draft with a neutral record.
    pause_left_ = next_pause_;
    next_pause_ = std::min(kMaxPause, next_pause_ * 2);
    rounds_ = 0;
    rate_ = 0.5;
    length_ = 1;
  } else if (rate_ >= 0.5) {
    next_pause_ = kFirstPause;  // it pays again: the next pause starts short
  }
}

}  // namespace jarvis
