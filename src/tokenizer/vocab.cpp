#include "tokenizer/vocab.h"

#include <algorithm>

namespace jarvis {

TokenType Vocab::type(int32_t id) const {
  const uint16_t a = attrs_[id];
  if (a & kAttrControl) return TokenType::kControl;
  if (a & kAttrUserDefined) return TokenType::kUserDefined;
  if (a & kAttrUnknown) return TokenType::kUnknown;
  if (a & kAttrByte) return TokenType::kByte;
  if (a & kAttrUnused) return TokenType::kUnused;
  if (a & kAttrNormal) return TokenType::kNormal;
  return TokenType::kUndefined;
}

int32_t Vocab::MergeRank(std::string_view left, int32_t left_id, std::string_view right,
                         int32_t right_id) const {
  if (left_id >= 0 && right_id >= 0) {
    return merge_ranks_.Find(left_id, right_id);
  }
  if (text_merge_ranks_.empty()) return -1;
  const auto it = text_merge_ranks_.find({std::string(left), std::string(right)});
  return it == text_merge_ranks_.end() ? -1 : it->second;
}

Status Vocab::SetTokens(const std::vector<std::string_view>& texts, std::vector<float> scores,
                        std::vector<uint16_t> attrs) {
  const size_t n = texts.size();
  std::vector<std::string> empty_names;  // replacement texts for empty tokens
  size_t total = 0;
  for (size_t i = 0; i < n; ++i) {
    if (texts[i].empty()) {
      empty_names.push_back("[EMPTY_" + std::to_string(i) + "]");
      total += empty_names.back().size();
    } else {
      total += texts[i].size();
    }
  }
  if (total >= UINT32_MAX) return Status::Corruption("vocabulary text too large");

  arena_.clear();
  arena_.reserve(total);
  offsets_.assign(1, 0);
  offsets_.reserve(n + 1);
  size_t next_empty = 0;
  for (size_t i = 0; i < n; ++i) {
    const std::string_view t =
        texts[i].empty() ? std::string_view(empty_names[next_empty++]) : texts[i];
    arena_.insert(arena_.end(), t.begin(), t.end());
    offsets_.push_back(static_cast<uint32_t>(arena_.size()));
  }
  scores_ = std::move(scores);
  attrs_ = std::move(attrs);

  by_text_.Reset(n);
  const auto text_of = [this](int32_t id) { return text(id); };
  for (size_t i = 0; i < n; ++i) {
    const int32_t id = static_cast<int32_t>(i);
    const int32_t stored = by_text_.Insert(text(id), id, text_of);
    if (stored != id) {
      return Status::Corruption("duplicate token '" + std::string(text(id)) + "': ids " +
                                std::to_string(stored) + " and " + std::to_string(id));
    }
  }
  return Status::Ok();
}

void Vocab::AddMerge(std::string_view merge, int32_t rank) {
  // Split at the first space after byte 0, so a left half may begin with ' '.
  const size_t pos = merge.size() > 1 ? merge.find(' ', 1) : std::string_view::npos;
  if (pos == std::string_view::npos)
    return;  // malformed: llama.cpp stores ("","") which never matches
  const std::string_view left = merge.substr(0, pos);
  const std::string_view right = merge.substr(pos + 1);
  const int32_t left_id = Find(left), right_id = Find(right);
  if (left_id >= 0 && right_id >= 0) {
    merge_ranks_.Insert(left_id, right_id, rank);
  } else {
    text_merge_ranks_.emplace(std::make_pair(std::string(left), std::string(right)), rank);
  }
}

void Vocab::FinishSpecialTokens() {
  special_by_length_.clear();
  for (int32_t id = 0; id < size(); ++id) {
    if (attrs_[id] & (kAttrControl | kAttrUserDefined | kAttrUnknown))
      special_by_length_.push_back(id);
  }
  // llama.cpp sorts by length only (std::sort, so ties in any order); ties by
  // id here, to be deterministic.
  std::stable_sort(special_by_length_.begin(), special_by_length_.end(),
                   [&](int32_t a, int32_t b) { return text(a).size() > text(b).size(); });
  std::sort(eog_ids.begin(), eog_ids.end());
  eog_ids.erase(std::unique(eog_ids.begin(), eog_ids.end()), eog_ids.end());
}

}  // namespace jarvis
