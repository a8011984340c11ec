// jarvis_grammar_mask_bench VOCAB.gguf [SCHEMA.json] [TOKENS]: the cost of the
// grammar constraint alone, per token, on a real vocabulary (e.g.
// ../shared/tokenizers/llama3-vocab.gguf, 128K tokens): builds the token trie,
// then walks the JSON schema's grammar with random logits (sampling among
// the allowed tokens, as a random-weight model would), restarting whenever a
// value is complete. Prints the trie build time, the cold cost (first pass:
// masks computed) and the warm cost (second pass over new random choices:
// mostly cached masks), in microseconds of CPU time per token, and the mask cache's
// hit rate. `jarvis bench --json-schema` gives the end-to-end ratio.
#include <chrono>
#include <ctime>
#include <cstdio>
#include <fstream>
#include <limits>
#include <memory>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "constrain/gbnf_parser.h"
#include "constrain/grammar_constraint.h"
#include "constrain/json_schema_grammar.h"
#include "constrain/token_mask.h"
#include "gguf/gguf_reader.h"
#include "tokenizer/tokenizer.h"

namespace {

using Clock = std::chrono::steady_clock;

double Us(Clock::duration d) { return std::chrono::duration<double, std::micro>(d).count(); }

// This thread's CPU time: on a machine shared with other work, wall time
// would measure the other work too.
double ThreadCpuUs() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e6 + static_cast<double>(ts.tv_nsec) / 1e3;
}

constexpr const char* kDefaultSchema = R"({"type":"object","properties":{
  "name":{"type":"string","maxLength":24},"age":{"type":"integer","minimum":0,"maximum":150},
  "email":{"type":"string"},"tags":{"type":"array","items":{"type":"string","maxLength":12},"maxItems":4},
  "active":{"type":"boolean"},"score":{"type":"number"}},
  "required":["name","age","active"],"additionalProperties":false})";

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s VOCAB.gguf [SCHEMA.json] [TOKENS]\n", argv[0]);
    return 2;
  }
  std::string schema_text = kDefaultSchema;
  if (argc >= 3 && std::string(argv[2]) != "-") {
    std::ifstream in(argv[2]);
    std::stringstream ss;
    ss << in.rdbuf();
    schema_text = ss.str();
  }
  const int n_tokens = argc >= 4 ? std::atoi(argv[3]) : 2000;
  auto gguf = jarvis::GgufFile::Open(argv[1]);
  if (!gguf.ok()) {
    std::fprintf(stderr, "%s\n", gguf.status().ToString().c_str());
    return 1;
  }
  auto tok = jarvis::Tokenizer::FromGguf(**gguf);
  if (!tok.ok()) {
    std::fprintf(stderr, "%s\n", tok.status().ToString().c_str());
    return 1;
  }
  const jarvis::Tokenizer& t = **tok;
  auto t0 = Clock::now();
  std::vector<std::string> pieces(static_cast<size_t>(t.vocab_size()));
  for (int32_t id = 0; id < t.vocab_size(); ++id) pieces[static_cast<size_t>(id)] = std::string(t.Piece(id));
  jarvis::constrain::TokenTrie trie(pieces, t.end_of_generation_ids());
  const double trie_ms = Us(Clock::now() - t0) / 1000.0;

  auto gbnf = jarvis::constrain::JsonSchemaToGbnf(nlohmann::json::parse(schema_text));
  if (!gbnf.ok()) {
    std::fprintf(stderr, "%s\n", gbnf.status().ToString().c_str());
    return 1;
  }
  auto parsed = jarvis::constrain::ParseGbnf(*gbnf);
  if (!parsed.ok()) {
    std::fprintf(stderr, "%s\n", parsed.status().ToString().c_str());
    return 1;
  }
  auto grammar = std::make_shared<const jarvis::constrain::Grammar>(std::move(*parsed));
  auto masks = std::make_shared<jarvis::constrain::GrammarMasks>(grammar, trie);

  std::mt19937_64 rng(42);
  std::normal_distribution<float> noise(0.0f, 3.0f);
  std::vector<float> logits(static_cast<size_t>(t.vocab_size()));
  auto pass = [&](int n, int* values) {
    jarvis::constrain::GrammarConstraint c(masks, t.end_of_generation_ids());
    double us = 0.0;
    for (int i = 0; i < n; ++i) {
      for (float& v : logits) v = noise(rng);  // a random-weight model's logits (not timed)
      const double start = ThreadCpuUs();
      auto applied = c.Apply(logits);
      if (!applied.ok()) {
        std::fprintf(stderr, "%s\n", applied.status().ToString().c_str());
        std::exit(1);
      }
      int32_t best = applied->only_token;
      if (best < 0) {  // greedy over the masked logits, as the sampler would
        float m = -std::numeric_limits<float>::infinity();
        for (size_t k = 0; k < logits.size(); ++k) {
          if (logits[k] > m) {
            m = logits[k];
            best = static_cast<int32_t>(k);
          }
        }
      }
      const bool is_end = t.IsEndOfGeneration(best);
      if (!is_end && !c.Accept(best).ok()) std::exit(1);
      us += ThreadCpuUs() - start;
      if (is_end || c.complete()) {
        ++*values;
        c = jarvis::constrain::GrammarConstraint(masks, t.end_of_generation_ids());
      }
    }
    return us / n;
  };
  int cold_values = 0, warm_values = 0;
  const double cold = pass(n_tokens, &cold_values);
  const size_t cold_misses = masks->misses();
  const double warm = pass(n_tokens, &warm_values);
  const size_t warm_misses = masks->misses() - cold_misses;
  std::printf("vocab %d tokens, trie %zu nodes built in %.1f ms\n", t.vocab_size(), trie.nodes().size(), trie_ms);
  std::printf("constraint CPU time (apply mask + accept), per generated token:\n");
  std::printf("cold pass: %.1f us/token over %d tokens (%d values, %zu masks computed)\n", cold, n_tokens,
              cold_values, cold_misses);
  std::printf("warm pass: %.1f us/token over %d tokens (%d values, %zu masks computed)\n", warm, n_tokens,
              warm_values, warm_misses);
  return 0;
}
