#include "tokenizer/special_partition.h"

namespace jarvis {

namespace {

// C isspace() in the "C" locale, which llama.cpp uses for lstrip/rstrip.
bool IsAsciiSpace(char c) { return c == ' ' || (c >= '\t' && c <= '\r'); }

// Splits one text fragment at every occurrence of `token_text`.
void SplitFragment(std::string_view text, int32_t id, std::string_view token_text, uint16_t attrs,
                   std::vector<Fragment>* out) {
  while (true) {
    const size_t match = text.find(token_text);
    if (match == std::string_view::npos) break;
    std::string_view left = text.substr(0, match);
    if (attrs & kAttrLstrip) {
      while (!left.empty() && IsAsciiSpace(left.back())) left.remove_suffix(1);
    }
    if (!left.empty()) out->push_back({-1, left});
    out->push_back({id, {}});
    text = text.substr(match + token_text.size());
    if (attrs & kAttrRstrip) {
      while (!text.empty() && IsAsciiSpace(text.front())) text.remove_prefix(1);
    }
  }
  if (!text.empty()) out->push_back({-1, text});
}

}  // namespace

std::vector<Fragment> PartitionSpecialTokens(const Vocab& vocab, std::string_view text,
                                             bool parse_special) {
  std::vector<Fragment> fragments;
  if (text.empty()) return fragments;
  fragments.push_back({-1, text});
  std::vector<Fragment> next;
  for (const int32_t id : vocab.special_tokens_by_length()) {
    const uint16_t attrs = vocab.attrs(id);
    if (!parse_special && (attrs & (kAttrControl | kAttrUnknown))) continue;
    const std::string_view token_text = vocab.text(id);
    // Cheap pre-check: most special tokens occur nowhere in the input.
    bool found = false;
    for (const Fragment& f : fragments) {
      if (f.token < 0 && f.text.find(token_text) != std::string_view::npos) {
        found = true;
        break;
      }
    }
    if (!found) continue;
    next.clear();
    for (const Fragment& f : fragments) {
      if (f.token >= 0) {
        next.push_back(f);
      } else {
        SplitFragment(f.text, id, token_text, attrs, &next);
      }
    }
    fragments.swap(next);
  }
  return fragments;
}

}  // namespace jarvis
