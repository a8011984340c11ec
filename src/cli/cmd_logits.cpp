// `jarvis logits --model F (--prompt T | --tokens 1,2,3) [--top K]
// [--all-positions] [--json] [--threads N]`: evaluates the tokens in one
// teacher-forced batch and prints what the model predicts after them: the
// top-K token ids, pieces and logits of the last position, or of every
// position with --all-positions. --top 0 prints every logit (of the last
// position, or of each position). The debugging tool for comparing this
// engine with another implementation token by token.
//
// Human output, per position: "pos N (after id 'piece'):" then one line per
// candidate "  id<TAB>logit<TAB>'piece'". --json: {"tokens": [...],
// "positions": [{"pos", "token", "top": [{"id", "piece", "logit"}]}]}, or
// "logits": [...] per position for --top 0.
#include <algorithm>
#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>
#include <numeric>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "engine/engine.h"
#include "gpu/gpu_layer_plan.h"
#include "model/model.h"

namespace jarvis::cli {
namespace {

struct LogitsFlags {
  std::string model;
  std::string prompt;
  std::string tokens;
  int32_t top = 10;
  bool all_positions = false;
  bool json = false;
  int32_t threads = 0;
};

// "1,2,3" -> ids; usage error on anything else.
std::vector<int32_t> ParseIds(const std::string& text) {
  std::vector<int32_t> ids;
  size_t pos = 0;
  while (pos <= text.size()) {
    const size_t comma = std::min(text.find(',', pos), text.size());
    const std::string item = text.substr(pos, comma - pos);
    size_t used = 0;
    long long v = -1;
    try {
      v = std::stoll(item, &used);
    } catch (...) {
      used = 0;
    }
    if (item.empty() || used != item.size() || v < 0 || v > INT32_MAX) {
      Fail("logits: --tokens wants comma-separated token ids, got '" + item + "'", kExitUsageError);
    }
    ids.push_back(static_cast<int32_t>(v));
    pos = comma + 1;
  }
  return ids;
}

void Run(const LogitsFlags& f, bool have_prompt, bool have_tokens) {
  if (have_prompt == have_tokens) Fail("logits: give exactly one of --prompt and --tokens", kExitUsageError);
  if (f.top < 0) Fail("logits: --top must be >= 0", kExitUsageError);
  GpuLayerPlan gpu;  // CPU only: the reference logits of the CPU kernels
  const std::unique_ptr<Model> model = LoadModelOrFail(f.model, 0, &gpu);
  const int32_t n_vocab = model->hparams().n_vocab;
  std::vector<int32_t> tokens;
  if (have_tokens) {
    tokens = ParseIds(f.tokens);
    for (int32_t id : tokens) {
      if (id >= n_vocab) {
        Fail("logits: token id " + std::to_string(id) + " outside the vocabulary (" + std::to_string(n_vocab) + ")",
             kExitUsageError);
      }
    }
  } else {
    auto ids = model->tokenizer().Encode(f.prompt);
    if (!ids.ok()) Fail(ids.status());
    tokens = std::move(ids).value();
  }
  if (tokens.empty()) Fail("logits: no tokens to evaluate", kExitUsageError);

  EngineOptions eo;
  eo.n_threads = f.threads;
  eo.n_ctx = static_cast<int32_t>(tokens.size());
  eo.max_sequences = 1;
  eo.kv_type = KvType::kF32;
  eo.gpu_layers = gpu.gpu_layers;
  auto engine = Engine::Create(*model, eo);
  if (!engine.ok()) Fail(engine.status());
  KvCache& kv = (*engine)->kv();
  const int32_t seq = kv.CreateSequence();
  const Status reserved = kv.Reserve(seq, static_cast<int32_t>(tokens.size()));
  if (!reserved.ok()) Fail(reserved);
  Batch batch;
  for (size_t i = 0; i < tokens.size(); ++i) {
    batch.Add(tokens[i], static_cast<int32_t>(i), 0, f.all_positions || i + 1 == tokens.size());
  }
  batch.block_tables.push_back(kv.block_table(seq));
  std::vector<float> logits;
  const Status decoded = (*engine)->Decode(batch, &logits);
  if (!decoded.ok()) Fail(decoded);

  const Tokenizer& tok = model->tokenizer();
  const size_t first = f.all_positions ? 0 : tokens.size() - 1;
  const int32_t k = f.top == 0 ? n_vocab : std::min(f.top, n_vocab);
  nlohmann::json positions = nlohmann::json::array();
  std::vector<int32_t> order(static_cast<size_t>(n_vocab));
  for (size_t p = first; p < tokens.size(); ++p) {
    const float* row = logits.data() + (p - first) * static_cast<size_t>(n_vocab);
    std::iota(order.begin(), order.end(), 0);
    // Highest logit first; ties by the lower id, so the output is deterministic.
    std::partial_sort(order.begin(), order.begin() + k, order.end(), [&](int32_t a, int32_t b) {
      return row[a] != row[b] ? row[a] > row[b] : a < b;
    });
    if (f.json) {
      nlohmann::json entry = {{"pos", p}, {"token", tokens[p]}};
      if (f.top == 0) {
        entry["logits"] = std::vector<float>(row, row + n_vocab);
      } else {
        nlohmann::json top = nlohmann::json::array();
        for (int32_t i = 0; i < k; ++i) {
          const int32_t id = order[static_cast<size_t>(i)];
          top.push_back({{"id", id}, {"piece", tok.TokenToBytes(id, true)}, {"logit", row[id]}});
        }
        entry["top"] = std::move(top);
      }
      positions.push_back(std::move(entry));
      continue;
    }
    std::printf("pos %zu (after %d '%s'):\n", p, tokens[p], tok.TokenToBytes(tokens[p], true).c_str());
    if (f.top == 0) {
      for (int32_t id = 0; id < n_vocab; ++id) std::printf("  %d\t%.6f\n", id, static_cast<double>(row[id]));
      continue;
    }
    for (int32_t i = 0; i < k; ++i) {
      const int32_t id = order[static_cast<size_t>(i)];
      std::printf("  %d\t%.6f\t'%s'\n", id, static_cast<double>(row[id]), tok.TokenToBytes(id, true).c_str());
    }
  }
  if (f.json) {
    const nlohmann::json out = {{"tokens", tokens}, {"positions", std::move(positions)}};
    std::cout << out.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << std::endl;
  }
  kv.FreeSequence(seq);
}

}  // namespace

void RegisterLogits(CLI::App& app) {
  auto flags = std::make_shared<LogitsFlags>();
  CLI::App* cmd = app.add_subcommand("logits", "Teacher-forced logits of a prompt or token ids (top-K per position)");
  cmd->add_option("-m,--model", flags->model, "GGUF model file")->required();
  CLI::Option* prompt = cmd->add_option("-p,--prompt", flags->prompt, "Text, tokenized with BOS as `run` does");
  CLI::Option* tokens = cmd->add_option("--tokens", flags->tokens, "Token ids, comma-separated (no BOS added)");
  prompt->excludes(tokens);
  cmd->add_option("-k,--top", flags->top, "Candidates per position (0: every logit)")->capture_default_str();
  cmd->add_flag("--all-positions", flags->all_positions, "Every position, not only the last");
  cmd->add_flag("--json", flags->json, "JSON output");
  cmd->add_option("-t,--threads", flags->threads, "CPU threads (0: one per core)");
  cmd->callback([flags, prompt, tokens] { Run(*flags, prompt->count() > 0, tokens->count() > 0); });
}

}  // namespace jarvis::cli
