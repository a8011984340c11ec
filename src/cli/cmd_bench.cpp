// `jarvis bench`: prompt processing, token generation and batched decode
// speed of a model on this machine, with the memory-bandwidth roofline, as a
// Markdown table (like llama-bench) or JSON. The runs: cli/bench_runner.h;
// --embed: embedding throughput instead (cli/bench_embed.h).
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "cli/bench_constrained.h"
#include "cli/bench_embed.h"
#include "cli/bench_draft_model.h"
#include "cli/bench_speculative.h"
#include "engine/speculation.h"
#include "cli/bench_load.h"
#include "cli/bench_runner.h"
#include "cli/bench_stream.h"
#include "cli/commands.h"
#include "constrain/json_schema_grammar.h"
#include "engine/engine.h"
#include "gpu/gpu_layer_plan.h"
#include "kernels/cpu/isa.h"
#include "model/model.h"
#include "util/cpu_features.h"

namespace jarvis::cli {
namespace {

struct BenchFlags {
  std::string model;
  std::vector<int32_t> prompt = {128, 512};
  std::vector<int32_t> generate = {64};
  std::vector<int32_t> threads;  // default: physical cores
  std::vector<int32_t> batch = {1, 4, 8, 16};
  std::vector<int32_t> depth = {0};
  int32_t reps = 3;
  bool json = false;
  std::string kv_type = "f16";
  bool no_bandwidth = false;
  int32_t gpu_layers = kGpuLayersAuto;
  std::string json_schema;  // --json-schema: constrained vs free decode instead
  bool embed = false;       // --embed: embedding throughput instead
  std::vector<int32_t> embed_batch = {1, 16, 64};
  std::vector<int32_t> embed_tokens = {32, 256};
  bool load = false;        // --load: load and first-token times instead
  bool speculative = false; // --speculative: speculative decoding's cost and gain instead
  std::vector<int32_t> draft = {2, 4, 8};
  std::string draft_model;  // --speculative --draft-model: a draft model's gain instead of prompt lookup's
};

struct Row {
  BenchResult result;
  double gbps = 0.0;   // weight bytes streamed per second
  double gops = 0.0;   // 2 * multiply-adds per second
  double per_seq = 0.0;
};

Row MakeRow(const BenchResult& r, const ModelCost& cost) {
  Row row;
  row.result = r;
  const double tps = r.best();
  // Steps per second: a pp batch reads the weights once for P tokens, a
  // batched step once for B tokens, a tg step once per token.
  double steps = tps;
  if (r.spec.kind == BenchKind::kPrompt) steps = tps / r.spec.n;
  if (r.spec.kind == BenchKind::kBatched) steps = tps / r.spec.batch;
  row.gbps = cost.weight_bytes * steps / 1e9;
  row.gops = 2.0 * cost.macs_per_token * tps / 1e9;
  row.per_seq = r.spec.kind == BenchKind::kBatched ? tps / r.spec.batch : tps;
  return row;
}

std::string Size(double bytes) {
  char buf[32];
  if (bytes >= 1024.0 * 1024 * 1024) {
    std::snprintf(buf, sizeof(buf), "%.2f GiB", bytes / (1024.0 * 1024 * 1024));
  } else {
    std::snprintf(buf, sizeof(buf), "%.1f MiB", bytes / (1024.0 * 1024));
  }
  return buf;
}

std::string Params(double n) {
  char buf[32];
  if (n >= 1e9) {
    std::snprintf(buf, sizeof(buf), "%.2f B", n / 1e9);
  } else if (n >= 1e6) {
    std::snprintf(buf, sizeof(buf), "%.2f M", n / 1e6);
  } else {
    std::snprintf(buf, sizeof(buf), "%.0f K", n / 1e3);
  }
  return buf;
}

// Resident set now (VmRSS), in bytes: weights paged in, KV cache, scratch.
// (Not the peak: the bandwidth triad's arrays would dominate it.)
double RssBytes() {
  std::FILE* f = std::fopen("/proc/self/status", "r");
  if (f == nullptr) return 0.0;
  char line[256];
  double kib = 0.0;
  while (std::fgets(line, sizeof(line), f) != nullptr) {
    if (std::sscanf(line, "VmRSS: %lf kB", &kib) == 1) break;
  }
  std::fclose(f);
  return kib * 1024.0;
}

void PrintMarkdown(const std::string& name, double file_bytes, double params, double bandwidth,
                   const std::string& backend, const std::vector<Row>& rows) {
  std::printf("backend: %s\n\n", backend.c_str());
  std::printf("| model | size | params | kernels | threads | test | t/s best | t/s mean | t/s per seq | GB/s | %% BW | GOP/s |\n");
  std::printf("| --- | ---: | ---: | --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |\n");
  for (const Row& r : rows) {
    char bw[16] = "-";
    if (bandwidth > 0) std::snprintf(bw, sizeof(bw), "%.0f%%", 100.0 * r.gbps / bandwidth);
    std::printf("| %s | %s | %s | %s | %d | %s | %.2f | %.2f | %.2f | %.1f | %s | %.1f |\n", name.c_str(),
                Size(file_bytes).c_str(), Params(params).c_str(), KernelIsaName(ActiveKernelIsa()),
                r.result.threads, r.result.spec.Name().c_str(), r.result.best(), r.result.mean(), r.per_seq, r.gbps,
                bw, r.gops);
  }
}

void PrintJson(const std::string& path, double file_bytes, double params, double bandwidth, const ModelCost& cost,
               const std::string& backend, int32_t gpu_layers, const std::vector<Row>& rows) {
  nlohmann::json out;
  out["model"] = path;
  out["size_bytes"] = file_bytes;
  out["params"] = params;
  out["kernels"] = KernelIsaName(ActiveKernelIsa());
  out["backend"] = backend;
  out["gpu_layers"] = gpu_layers;
  out["cpu_features"] = GetCpuFeatures().ToString();
  out["bandwidth_gbps"] = bandwidth;
  out["weight_bytes_per_step"] = cost.weight_bytes;
  out["rss_bytes"] = RssBytes();
  nlohmann::json results = nlohmann::json::array();
  for (const Row& r : rows) {
    nlohmann::json j;
    j["test"] = r.result.spec.Name();
    j["kind"] = r.result.spec.kind == BenchKind::kPrompt     ? "pp"
                : r.result.spec.kind == BenchKind::kGenerate ? "tg"
                                                             : "batched";
    j["n"] = r.result.spec.n;
    j["batch"] = r.result.spec.batch;
    j["depth"] = r.result.spec.depth;
    j["threads"] = r.result.threads;
    j["tokens_per_s"] = r.result.tokens_per_s;
    j["tokens_per_s_best"] = r.result.best();
    j["tokens_per_s_mean"] = r.result.mean();
    j["tokens_per_s_per_sequence"] = r.per_seq;
    j["weight_gbps"] = r.gbps;
    j["bandwidth_fraction"] = bandwidth > 0 ? r.gbps / bandwidth : 0.0;
    j["gops"] = r.gops;
    results.push_back(j);
  }
  out["results"] = results;
  std::cout << out.dump(2) << std::endl;
}

// Parameters as the table shows them: every layer matrix, the output head and
// an untied embedding table.
double ParameterCount(const Model& model, const ModelCost& cost) {
  const ModelWeights& w = model.weights();
  return cost.macs_per_token +
         (w.tied_embeddings ? 0.0 : static_cast<double>(w.tok_embd.rows) * static_cast<double>(w.tok_embd.cols));
}

double Mean(const std::vector<double>& v) {
  double s = 0.0;
  for (double x : v) s += x;
  return v.empty() ? 0.0 : s / static_cast<double>(v.size());
}

// --json-schema: decode tokens/s with the schema's grammar vs without, one
// stream and each -b batch size, runs interleaved (cli/bench_constrained.h).
void BenchConstrained(const BenchFlags& f) {
  std::string text;
  {
    std::FILE* file = std::fopen(f.json_schema.c_str(), "rb");
    if (file == nullptr) Fail("cannot open " + f.json_schema, kExitUsageError);
    char buf[4096];
    size_t got;
    while ((got = std::fread(buf, 1, sizeof buf, file)) > 0) text.append(buf, got);
    std::fclose(file);
  }
  const nlohmann::json schema = nlohmann::json::parse(text, nullptr, false);
  if (schema.is_discarded()) Fail(f.json_schema + " is not JSON", kExitUsageError);
  auto gbnf = constrain::JsonSchemaToGbnf(schema);
  if (!gbnf.ok()) Fail(gbnf.status());
  std::vector<int32_t> batches{1};
  for (int32_t b : f.batch) {
    if (b > 1) batches.push_back(b);
  }
  int32_t n = 0;
  for (int32_t g : f.generate) n = std::max(n, g);
  if (n <= 0) Fail("--json-schema needs -n > 0", kExitUsageError);
  GpuLayerPlan gpu;
  const std::unique_ptr<Model> model = LoadModelOrFail(f.model, f.gpu_layers, &gpu);
  EngineOptions eo;
  eo.n_threads = f.threads.empty() ? DefaultThreadCount() : f.threads[0];
  eo.n_ctx = 32 + n + 1;
  eo.max_sequences = *std::max_element(batches.begin(), batches.end());
  eo.kv_type = KvTypeFlag(f.kv_type);
  eo.gpu_layers = gpu.gpu_layers;
  auto engine = Engine::Create(*model, eo);
  if (!engine.ok()) Fail(engine.status());
  std::fprintf(stderr, "jarvis bench --json-schema %s: %s, vocab %d, %d threads, backend %s\n", f.json_schema.c_str(),
               f.model.c_str(), model->hparams().n_vocab, eo.n_threads, (*engine)->backend().c_str());
  nlohmann::json results = nlohmann::json::array();
  if (!f.json) {
    std::printf("| test | free t/s | constrained t/s | constrained / free | per CPU-second: free | constrained | constrained / free |\n");
    std::printf("| --- | ---: | ---: | ---: | ---: | ---: | ---: |\n");
  }
  for (int32_t b : batches) {
    auto r = RunConstrainedBench(**engine, *gbnf, b, n, f.reps);
    if (!r.ok()) Fail(r.status());
    const double free_tps = Mean(r->free_tps), constrained_tps = Mean(r->constrained_tps);
    const double free_cpu = Mean(r->free_cpu_tps), constrained_cpu = Mean(r->constrained_cpu_tps);
    const std::string name = (b == 1 ? "" : "b" + std::to_string(b) + " ") + "tg" + std::to_string(n);
    if (f.json) {
      results.push_back({{"test", name}, {"batch", b}, {"n_gen", n}, {"free_tokens_per_s", r->free_tps},
                         {"constrained_tokens_per_s", r->constrained_tps}, {"ratio", constrained_tps / free_tps},
                         {"free_tokens_per_cpu_s", r->free_cpu_tps},
                         {"constrained_tokens_per_cpu_s", r->constrained_cpu_tps},
                         {"cpu_ratio", constrained_cpu / free_cpu}});
    } else {
      std::printf("| %s | %.2f | %.2f | %.3f | %.2f | %.2f | %.3f |\n", name.c_str(), free_tps, constrained_tps,
                  constrained_tps / free_tps, free_cpu, constrained_cpu, constrained_cpu / free_cpu);
      std::fflush(stdout);
    }
  }
  if (f.json) std::cout << nlohmann::json{{"model", f.model}, {"schema", f.json_schema}, {"results", results}}.dump(2)
                        << std::endl;
}

// --load: load and first-token times per way of getting the packed weights
// (cli/bench_load.h).
void BenchLoad(const BenchFlags& f) {
  if (f.reps < 1) Fail("-r must be at least 1", kExitUsageError);
  const int32_t threads = f.threads.empty() ? DefaultThreadCount() : f.threads[0];
  std::fprintf(stderr, "jarvis bench --load: %s | kernels %s (cpu: %s) | %d threads, median of %d\n", f.model.c_str(),
               KernelIsaName(ActiveKernelIsa()), GetCpuFeatures().ToString().c_str(), threads, f.reps);
  auto rows = RunLoadBench(f.model, threads, f.reps);
  if (!rows.ok()) Fail(rows.status());
  // The yardstick: what every load cost before the packed cache.
  double base = 0.0;
  for (const LoadBenchRow& r : *rows) {
    if (r.scenario.rfind("warm, packing now", 0) == 0) base = Median(r.first_token_s);
  }
  if (f.json) {
    nlohmann::json results = nlohmann::json::array();
    for (const LoadBenchRow& r : *rows) {
      results.push_back({{"scenario", r.scenario}, {"load_s", r.load_s}, {"first_token_s", r.first_token_s},
                         {"first_token_cpu_s", r.first_token_cpu_s}, {"first_token_cpu_s_median", Median(r.first_token_cpu_s)},
                         {"load_s_median", Median(r.load_s)}, {"first_token_s_median", Median(r.first_token_s)},
                         {"model_file_resident_before", r.resident_before}, {"packed", r.packed}});
    }
    std::cout << nlohmann::json{{"model", f.model}, {"threads", threads}, {"cpu_features", GetCpuFeatures().ToString()},
                                {"results", results}}
                     .dump(2)
              << std::endl;
    return;
  }
  std::printf("| scenario | load s | first token s | first token vs warm packing | first token CPU s | model file cached before | packed weights |\n");
  std::printf("| --- | ---: | ---: | ---: | ---: | ---: | --- |\n");
  for (const LoadBenchRow& r : *rows) {
    const double first = Median(r.first_token_s);
    std::printf("| %s | %.3f | %.3f | %.2fx | %.3f | %.0f%% | %s |\n", r.scenario.c_str(), Median(r.load_s), first,
                first > 0 ? base / first : 0.0, Median(r.first_token_cpu_s), 100.0 * r.resident_before,
                r.packed.c_str());
  }
}

// --embed: inputs/s and tokens/s of Engine::Embed for each batch size x
// input length, per thread count (cli/bench_embed.h for the GOP/s count).
void BenchEmbed(const BenchFlags& f) {
  if (f.reps < 1) Fail("-r must be at least 1", kExitUsageError);
  for (int32_t v : f.embed_batch) {
    if (v < 1) Fail("--embed-batch values must be >= 1", kExitUsageError);
  }
  for (int32_t v : f.embed_tokens) {
    if (v < 1) Fail("--embed-tokens values must be >= 1", kExitUsageError);
  }
  std::vector<int32_t> threads = f.threads;
  if (threads.empty()) threads = {DefaultThreadCount()};
  for (int32_t t : threads) {
    if (t < 1) Fail("-t values must be >= 1", kExitUsageError);
  }
  GpuLayerPlan gpu;
  const std::unique_ptr<Model> model = LoadModelOrFail(f.model, f.gpu_layers, &gpu);
  std::error_code ec;
  const double file_bytes = static_cast<double>(std::filesystem::file_size(f.model, ec));
  const double params = ParameterCount(*model, ComputeModelCost(*model));
  const std::string name = std::filesystem::path(f.model).filename().string();
  std::fprintf(stderr, "jarvis bench --embed: %s | kernels %s | width %d\n", f.model.c_str(),
               KernelIsaName(ActiveKernelIsa()), model->hparams().n_embd);
  nlohmann::json results = nlohmann::json::array();
  std::string backend;
  std::vector<std::string> lines;
  for (int32_t t : threads) {
    EngineOptions eo;
    eo.n_threads = t;
    eo.n_ctx = *std::max_element(f.embed_tokens.begin(), f.embed_tokens.end());
    eo.max_sequences = 1;
    eo.kv_type = KvTypeFlag(f.kv_type);
    eo.gpu_layers = gpu.gpu_layers;
    auto engine = Engine::Create(*model, eo);
    if (!engine.ok()) Fail(engine.status());
    if (backend.empty()) backend = (*engine)->backend();
    for (int32_t tokens : f.embed_tokens) {
      for (int32_t batch : f.embed_batch) {
        auto r = RunEmbedBench(**engine, batch, tokens, f.reps);
        if (!r.ok()) Fail(r.status());
        const double tps = r->best_tokens_per_s();
        const double gops = 2.0 * EmbedMacsPerToken(*model, tokens) * tps / 1e9;
        const std::string test = "embed b" + std::to_string(batch) + " x " + std::to_string(tokens);
        if (f.json) {
          results.push_back({{"test", test}, {"batch", batch}, {"tokens", tokens}, {"threads", t},
                             {"inputs_per_s", r->inputs_per_s}, {"inputs_per_s_best", r->best_inputs_per_s()},
                             {"inputs_per_s_mean", r->mean_inputs_per_s()}, {"tokens_per_s_best", tps},
                             {"gops", gops}});
        } else {
          char line[512];
          std::snprintf(line, sizeof(line), "| %s | %s | %s | %s | %d | %s | %.2f | %.2f | %.1f | %.1f |",
                        name.c_str(), Size(file_bytes).c_str(), Params(params).c_str(),
                        KernelIsaName(ActiveKernelIsa()), t, test.c_str(), r->best_inputs_per_s(),
                        r->mean_inputs_per_s(), tps, gops);
          lines.push_back(line);
          std::fprintf(stderr, "  %-18s %d threads: %.2f inputs/s best, %.1f tokens/s\n", test.c_str(), t,
                       r->best_inputs_per_s(), tps);
        }
      }
    }
  }
  if (f.json) {
    std::cout << nlohmann::json{{"model", f.model}, {"backend", backend}, {"kernels", KernelIsaName(ActiveKernelIsa())},
                                {"embedding_size", model->hparams().n_embd}, {"results", results}}
                     .dump(2)
              << std::endl;
    return;
  }
  std::printf("backend: %s\n\n", backend.c_str());
  std::printf("| model | size | params | kernels | threads | test | inputs/s best | inputs/s mean | tokens/s best | GOP/s |\n");
  std::printf("| --- | ---: | ---: | --- | ---: | --- | ---: | ---: | ---: | ---: |\n");
  for (const std::string& line : lines) std::printf("%s\n", line.c_str());
}

void PrintVerifyCost(const std::vector<VerifyCost>& verify, int reps) {
  std::printf("verify step: 1 + k tokens of one sequence, logits for each, vs one token (median of %d)\n\n", reps);
  std::printf("| depth | rows (1 + k) | step ms | x one-token step |\n| ---: | ---: | ---: | ---: |\n");
  for (const VerifyCost& c : verify) {
    std::printf("| %d | %d | %.2f | %.2f |\n", c.depth, c.rows, c.step_ms, c.ratio);
  }
}

nlohmann::json VerifyCostJson(const std::vector<VerifyCost>& verify) {
  nlohmann::json v = nlohmann::json::array();
  for (const VerifyCost& c : verify) {
    v.push_back({{"depth", c.depth}, {"rows", c.rows}, {"step_ms", c.step_ms}, {"ratio", c.ratio}});
  }
  return v;
}

// --speculative --draft-model F: the draft model's tables
// (cli/bench_draft_model.h) after the verify cost.
void BenchDraftModel(const BenchFlags& f, const Model& target, int32_t target_gpu_layers, Engine& engine,
                     const std::vector<VerifyCost>& verify, int32_t n_prompt, int32_t n_tokens) {
  GpuLayerPlan draft_gpu;
  const std::shared_ptr<const Model> draft = LoadModelOrFail(f.draft_model, f.gpu_layers, &draft_gpu);
  const std::string name = std::filesystem::path(f.draft_model).stem().string();
  const DraftBenchPlacement placement{target_gpu_layers, draft_gpu.gpu_layers};
  auto single = MeasureDraftModel(engine, *draft, name, placement, n_prompt, n_tokens, f.draft, f.reps);
  if (!single.ok()) Fail("--draft-model " + f.draft_model + ": " + single.status().message());
  std::vector<int32_t> sequences;
  for (int32_t b : f.batch) {
    if (b < 1) Fail("-b values must be >= 1", kExitUsageError);
    sequences.push_back(b);
  }
  auto concurrent = MeasureConcurrentDraftModel(target, draft, name, placement, sequences, n_prompt, n_tokens,
                                                engine.n_threads(), f.reps);
  if (!concurrent.ok()) Fail(concurrent.status());
  bool same = true;
  for (const DraftModelRun& r : *single) same = same && r.same_output;
  for (const ConcurrentDraftRun& r : *concurrent) same = same && r.same_output;
  if (f.json) {
    nlohmann::json s = nlohmann::json::array(), c = nlohmann::json::array();
    for (const DraftModelRun& r : *single) {
      s.push_back({{"drafter", r.drafter}, {"continuation", r.continuation}, {"draft_max", r.draft_max},
                   {"tokens_per_s", r.tokens_per_s}, {"speedup", r.speedup}, {"tokens", r.tokens}, {"steps", r.steps},
                   {"drafted", r.drafted}, {"accepted", r.accepted}, {"same_output", r.same_output}});
    }
    for (const ConcurrentDraftRun& r : *concurrent) {
      c.push_back({{"drafter", r.drafter}, {"sequences", r.sequences}, {"tokens_per_s", r.tokens_per_s},
                   {"speedup", r.speedup}, {"steps", r.steps}, {"drafted", r.drafted}, {"accepted", r.accepted},
                   {"same_output", r.same_output}});
    }
    std::cout << nlohmann::json{{"model", f.model}, {"draft_model", f.draft_model}, {"threads", engine.n_threads()},
                                {"verify_cost", VerifyCostJson(verify)}, {"draft_model_runs", s},
                                {"concurrent", c}}
                     .dump(2)
              << std::endl;
  } else {
    PrintVerifyCost(verify, f.reps);
    std::printf("\ndraft model %s: %d tokens after a %d-token prompt, one sequence (median of %d)\n\n",
                name.c_str(), n_tokens, n_prompt, f.reps);
    std::printf("| drafter | continuation | draft max | tokens/s | speedup | steps | accepted / drafted | acceptance "
                "| same output |\n");
    std::printf("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |\n");
    for (const DraftModelRun& r : *single) {
      std::printf("| %s | %s | %s | %.2f | %.2fx | %d | %d / %d | %s | %s |\n", r.drafter.c_str(), r.continuation,
                  r.draft_max == 0 ? "off" : std::to_string(r.draft_max).c_str(), r.tokens_per_s, r.speedup, r.steps,
                  r.accepted, r.drafted,
                  r.drafted > 0 ? (std::to_string(100 * r.accepted / r.drafted) + "%").c_str() : "-",
                  r.same_output ? "yes" : "NO");
    }
    std::printf("\nconcurrent greedy requests through the scheduler, draft max %d, %d tokens each (median of %d)\n\n",
                RuntimeOptions{}.draft_max, n_tokens, f.reps);
    std::printf("| drafter | sequences | tokens/s (all) | speedup | steps | accepted / drafted | same output |\n");
    std::printf("| --- | ---: | ---: | ---: | ---: | ---: | --- |\n");
    for (const ConcurrentDraftRun& r : *concurrent) {
      std::printf("| %s | %d | %.2f | %.2fx | %lld | %lld / %lld | %s |\n", r.drafter.c_str(), r.sequences,
                  r.tokens_per_s, r.speedup, static_cast<long long>(r.steps), static_cast<long long>(r.accepted),
                  static_cast<long long>(r.drafted), r.same_output ? "yes" : "NO");
    }
  }
  if (!same) Fail("speculative decoding with a draft model changed the output (a bug): see the tables");
}

// --speculative: verify-step cost and prompt-lookup speedups
// (cli/bench_speculative.h), on the first thread count.
void BenchSpeculative(const BenchFlags& f) {
  if (f.reps < 1) Fail("-r must be at least 1", kExitUsageError);
  for (int32_t k : f.draft) {
    if (k < 1 || k > kMaxDraftTokens) Fail("--draft values must be 1.." + std::to_string(kMaxDraftTokens), kExitUsageError);
  }
  for (int32_t d : f.depth) {
    if (d < 0) Fail("-d values must be >= 0", kExitUsageError);
  }
  const int32_t n_tokens = f.generate.empty() || f.generate[0] <= 0 ? 128 : f.generate[0];
  const int32_t n_prompt = f.prompt.empty() || f.prompt[0] <= 0 ? 32 : std::min(f.prompt[0], 256);
  const int32_t threads = f.threads.empty() ? DefaultThreadCount() : f.threads[0];
  if (threads < 1) Fail("-t values must be >= 1", kExitUsageError);
  GpuLayerPlan gpu;
  const std::unique_ptr<Model> model = LoadModelOrFail(f.model, f.gpu_layers, &gpu);
  const int32_t max_draft = *std::max_element(f.draft.begin(), f.draft.end());
  EngineOptions eo;
  eo.n_threads = threads;
  eo.n_ctx = std::max(*std::max_element(f.depth.begin(), f.depth.end()) + max_draft + 1,
                      n_prompt + n_tokens + max_draft + 1);
  eo.max_sequences = 1;
  eo.kv_type = KvTypeFlag(f.kv_type);
  eo.gpu_layers = gpu.gpu_layers;
  auto engine = Engine::Create(*model, eo);
  if (!engine.ok()) Fail(engine.status());
  std::fprintf(stderr, "jarvis bench --speculative: %s | kernels %s | %s | %d threads\n", f.model.c_str(),
               KernelIsaName(ActiveKernelIsa()), (*engine)->backend().c_str(), threads);
  auto verify = MeasureVerifyCost(**engine, f.depth, f.draft, f.reps);
  if (!verify.ok()) Fail(verify.status());
  if (!f.draft_model.empty()) return BenchDraftModel(f, *model, gpu.gpu_layers, **engine, *verify, n_prompt, n_tokens);
  auto lookup = MeasureLookup(**engine, n_prompt, n_tokens, f.draft, f.reps);
  if (!lookup.ok()) Fail(lookup.status());
  if (f.json) {
    nlohmann::json v = VerifyCostJson(*verify), l = nlohmann::json::array();
    for (const LookupRun& r : *lookup) {
      l.push_back({{"continuation", r.continuation}, {"draft_max", r.draft_max}, {"tokens_per_s", r.tokens_per_s},
                   {"speedup", r.speedup}, {"tokens", r.tokens}, {"steps", r.steps}, {"drafted", r.drafted},
                   {"accepted", r.accepted}, {"same_output", r.same_output}});
    }
    std::cout << nlohmann::json{{"model", f.model}, {"threads", threads}, {"verify_cost", v}, {"lookup", l}}.dump(2)
              << std::endl;
  } else {
    PrintVerifyCost(*verify, f.reps);
    std::printf("\nprompt lookup: %d tokens after a %d-token prompt (median of %d)\n\n", n_tokens, n_prompt, f.reps);
    std::printf("| continuation | draft max | tokens/s | speedup | steps | accepted / drafted | same output |\n");
    std::printf("| --- | ---: | ---: | ---: | ---: | ---: | --- |\n");
    for (const LookupRun& r : *lookup) {
      std::printf("| %s | %s | %.2f | %.2fx | %d | %d / %d | %s |\n", r.continuation,
                  r.draft_max == 0 ? "off" : std::to_string(r.draft_max).c_str(), r.tokens_per_s, r.speedup, r.steps,
                  r.accepted, r.drafted, r.same_output ? "yes" : "NO");
    }
  }
  for (const LookupRun& r : *lookup) {
    if (!r.same_output) Fail("speculative decoding changed the output (a bug): see the table");
  }
}

void Bench(const BenchFlags& f) {
  if (!f.json_schema.empty()) return BenchConstrained(f);
  if (f.embed) return BenchEmbed(f);
  if (f.load) return BenchLoad(f);
  if (!f.draft_model.empty() && !f.speculative) Fail("--draft-model needs --speculative", kExitUsageError);
  if (f.speculative) return BenchSpeculative(f);
  if (f.reps < 1) Fail("-r must be at least 1", kExitUsageError);
  std::vector<BenchSpec> specs;
  int32_t max_batch = 1;
  for (int32_t d : f.depth) {
    if (d < 0) Fail("-d values must be >= 0", kExitUsageError);
    for (int32_t p : f.prompt) {
      if (p > 0) specs.push_back({BenchKind::kPrompt, p, 1, d});
    }
    for (int32_t n : f.generate) {
      if (n <= 0) continue;
      specs.push_back({BenchKind::kGenerate, n, 1, d});
      for (int32_t b : f.batch) {
        if (b <= 0) continue;
        specs.push_back({BenchKind::kBatched, n, b, d});
        max_batch = std::max(max_batch, b);
      }
    }
  }
  if (specs.empty()) Fail("nothing to run: give -p and/or -n values > 0", kExitUsageError);
  std::vector<int32_t> threads = f.threads;
  if (threads.empty()) threads = {DefaultThreadCount()};
  for (int32_t t : threads) {
    if (t < 1) Fail("-t values must be >= 1", kExitUsageError);
  }

  GpuLayerPlan gpu;
  const std::unique_ptr<Model> model = LoadModelOrFail(f.model, f.gpu_layers, &gpu);
  const ModelCost cost = ComputeModelCost(*model);
  std::error_code ec;
  const double file_bytes = static_cast<double>(std::filesystem::file_size(f.model, ec));
  const double params = ParameterCount(*model, cost);

  // STREAM-like triad on 3 x 384 MiB, 2 threads, best of 3: the roofline.
  const double bandwidth = f.no_bandwidth ? 0.0 : MeasureTriadBandwidth(size_t{384} << 20, 2, 3);
  std::fprintf(stderr, "jarvis bench: %s | kernels %s (cpu: %s) | memory bandwidth %.1f GB/s (triad, 2 threads)\n",
               f.model.c_str(), KernelIsaName(ActiveKernelIsa()), GetCpuFeatures().ToString().c_str(), bandwidth);
  if (const PackedWeights* packed = model->packed()) {
    std::fprintf(stderr, "  packed weights: %d matrices, %s, %s (JARVIS_REPACK=0: off)\n", packed->matrices(),
                 Size(static_cast<double>(packed->bytes())).c_str(), packed->Describe().c_str());
  }

  std::vector<Row> rows;
  std::string backend;
  int32_t gpu_layers = 0;
  for (int32_t t : threads) {
    EngineOptions eo;
    eo.n_threads = t;
    eo.n_ctx = ContextNeeded(specs);
    eo.max_sequences = max_batch;
    eo.kv_type = KvTypeFlag(f.kv_type);
    eo.gpu_layers = gpu.gpu_layers;
    auto engine = Engine::Create(*model, eo);
    if (!engine.ok()) Fail(engine.status());
    if (backend.empty()) {
      backend = (*engine)->backend();
      gpu_layers = (*engine)->gpu_layers();
      const KvLayout& kv = (*engine)->kv().layout();
      std::fprintf(stderr, "  backend: %s; KV cache %s, %zu bytes per position (K and V, all layers)\n",
                   backend.c_str(), KvTypeName(kv.type),
                   2 * kv.row_bytes() * static_cast<size_t>(model->hparams().n_layer));
    }
    for (const BenchSpec& spec : specs) {
      auto r = RunBench(**engine, spec, f.reps);
      if (!r.ok()) Fail(r.status());
      rows.push_back(MakeRow(*r, cost));
      if (!f.json) {
        std::fprintf(stderr, "  %-12s %d threads: %.2f t/s best, %.2f mean\n", spec.Name().c_str(), t, r->best(),
                     r->mean());
      }
    }
  }
  const std::string name = std::filesystem::path(f.model).filename().string();
  if (f.json) {
    PrintJson(f.model, file_bytes, params, bandwidth, cost, backend, gpu_layers, rows);
  } else {
    PrintMarkdown(name, file_bytes, params, bandwidth, backend, rows);
    std::printf("\nweights streamed per step: %s; RSS %s\n", Size(cost.weight_bytes).c_str(),
                Size(RssBytes()).c_str());
  }
}

}  // namespace

void RegisterBench(CLI::App& app) {
  auto flags = std::make_shared<BenchFlags>();
  CLI::App* cmd = app.add_subcommand("bench", "Measure prompt, generation and batched decode speed");
  cmd->add_option("-m,--model", flags->model, "GGUF model file")->required();
  cmd->add_option("-p,--n-prompt", flags->prompt, "Prompt lengths to process in one batch (0: none)")
      ->delimiter(',')
      ->capture_default_str();
  cmd->add_option("-n,--n-gen", flags->generate, "Tokens to generate per sequence (0: none)")
      ->delimiter(',')
      ->capture_default_str();
  cmd->add_option("-t,--threads", flags->threads, "Thread counts (default: physical cores)")->delimiter(',');
  cmd->add_option("-b,--batch", flags->batch, "Sequences decoding together, each after a 32-token prompt (0: none)")
      ->delimiter(',')
      ->capture_default_str();
  cmd->add_option("-d,--depth", flags->depth,
                  "Tokens already cached in each sequence before each test (long-context cost)")
      ->delimiter(',')
      ->capture_default_str();
  cmd->add_option("-r,--repetitions", flags->reps, "Timed repetitions per test")->capture_default_str();
  cmd->add_flag("--json", flags->json, "Print JSON instead of a Markdown table");
  cmd->add_option("--json-schema", flags->json_schema,
                  "Compare decode speed constrained by this JSON schema file vs free (one stream and each -b)");
  cmd->add_flag("--embed", flags->embed,
                "Measure embedding throughput instead: inputs/s and tokens/s for each --embed-batch x --embed-tokens");
  cmd->add_flag("--load", flags->load,
                "Measure load and first-token times instead: cold, warm, without repacking and from the packed "
                "cache (a temporary one; -r repetitions, median)");
  cmd->add_flag("--speculative", flags->speculative,
                "Measure speculative decoding instead: the cost of a verify step of 1 + k tokens (each -d) and "
                "prompt lookup's speedup on -n tokens, greedy and sampled, for each --draft length");
  cmd->add_option("--draft", flags->draft, "Draft lengths (--speculative)")->delimiter(',')->capture_default_str();
  cmd->add_option("--draft-model", flags->draft_model,
                  "With --speculative: measure this draft model (same vocabulary as -m) instead of prompt lookup: "
                  "one sequence at each --draft length, and concurrent requests at each -b; the target drafting "
                  "for itself is measured beside it")
      ->check(CLI::ExistingFile);
  cmd->add_option("--embed-batch", flags->embed_batch, "Inputs per embedding call (--embed)")
      ->delimiter(',')
      ->capture_default_str();
  cmd->add_option("--embed-tokens", flags->embed_tokens, "Tokens per input (--embed)")
      ->delimiter(',')
      ->capture_default_str();
  AddKvTypeOption(cmd, &flags->kv_type);
  AddGpuLayersOption(cmd, &flags->gpu_layers);
  cmd->add_flag("--no-bandwidth", flags->no_bandwidth, "Skip the memory-bandwidth measurement");
  cmd->callback([flags] {
    flags->gpu_layers = ResolveGpuLayersFlag(flags->gpu_layers);
    Bench(*flags);
  });
}

}  // namespace jarvis::cli
