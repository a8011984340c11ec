// libFuzzer target: untrusted grammar text and JSON schemas must give an
// error or a grammar that the matcher and the mask computation can walk, with
// bounded time and memory and no out-of-bounds access (ASan/UBSan).
//
// Input layout: first byte picks the mode (even: GBNF, odd: JSON schema); the
// rest up to a 0xFF byte is the grammar/schema, what follows is fed to the
// matcher as output bytes.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "constrain/gbnf_parser.h"
#include "constrain/grammar_constraint.h"
#include "constrain/json_schema_grammar.h"
#include "constrain/token_mask.h"

namespace {

volatile size_t g_sink = 0;

const jarvis::constrain::TokenTrie& Trie() {
  static const jarvis::constrain::TokenTrie trie = [] {
    std::vector<std::string> pieces{""};
    for (int b = 1; b < 256; ++b) pieces.emplace_back(1, static_cast<char>(b));
    for (const char* s : {"{\"", "\":", "true", "null", "\xC3\xA9", "\xE2\x82", "ab", "abc", "  "}) pieces.emplace_back(s);
    return jarvis::constrain::TokenTrie(pieces, std::vector<int32_t>{0});
  }();
  return trie;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string_view all(reinterpret_cast<const char*>(data) + 1, size - 1);
  const size_t split = all.find('\xFF');
  const std::string_view spec = all.substr(0, split);
  const std::string_view output = split == std::string_view::npos ? std::string_view() : all.substr(split + 1);

  jarvis::constrain::GrammarLimits limits;
  limits.max_rules = 2000;  // keeps each run fast; the limits themselves are under test
  limits.max_repetition = 200;
  std::string gbnf(spec);
  if (data[0] % 2 == 1) {
    nlohmann::json schema = nlohmann::json::parse(spec, nullptr, /*allow_exceptions=*/false);
    if (schema.is_discarded()) return 0;
    auto r = jarvis::constrain::JsonSchemaToGbnf(schema);
    if (!r.ok()) {
      g_sink = g_sink + r.status().message().size();
      return 0;
    }
    gbnf = std::move(*r);
  }
  auto parsed = jarvis::constrain::ParseGbnf(gbnf, limits);
  if (!parsed.ok()) {
    g_sink = g_sink + parsed.status().message().size();
    return 0;
  }
  auto grammar = std::make_shared<const jarvis::constrain::Grammar>(std::move(*parsed));
  auto masks = std::make_shared<jarvis::constrain::GrammarMasks>(grammar, Trie());
  jarvis::constrain::GrammarConstraint constraint(masks, {0});
  std::vector<float> logits(static_cast<size_t>(Trie().vocab_size()), 0.0f);
  for (size_t i = 0; i < output.size() && i < 64; ++i) {
    if (!constraint.Apply(logits).ok()) break;
    const int32_t token = static_cast<uint8_t>(output[i]);
    if (!constraint.Accept(token).ok()) break;
    g_sink = g_sink + constraint.state().n_stacks() + constraint.can_end();
  }
  return 0;
}
