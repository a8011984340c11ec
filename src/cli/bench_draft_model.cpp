#include "cli/bench_draft_model.h"

#include <algorithm>
#include <chrono>

#include "cli/bench_runner.h"
#include "engine/generator.h"
#include "engine/model_drafter.h"
#include "jarvis/runtime_options.h"
#include "scheduler/scheduler.h"

namespace jarvis::cli {
namespace {

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0.0 : v[v.size() / 2];
}

std::vector<int32_t> BenchPrompt(int32_t n_prompt, int32_t n_vocab, int64_t offset) {
  std::vector<int32_t> prompt;
  for (int32_t i = 0; i < n_prompt; ++i) prompt.push_back(BenchTokenAt(offset + i, n_vocab));
  return prompt;
}

}  // namespace

Result<std::vector<DraftModelRun>> MeasureDraftModel(Engine& engine, const Model& draft,
                                                     const std::string& draft_name, DraftBenchPlacement placement,
                                                     int32_t n_prompt, int32_t n_tokens,
                                                     const std::vector<int32_t>& drafts, int reps) {
  const Model& target = engine.model();
  const std::vector<int32_t> prompt = BenchPrompt(n_prompt, target.hparams().n_vocab, 0);
  EngineOptions eo;
  eo.shared_pool = &engine.pool();
  eo.n_ctx = engine.n_ctx();
  eo.gpu_layers = placement.draft_gpu_layers;
  JARVIS_ASSIGN_OR_RETURN(std::unique_ptr<ModelDrafter> file_drafter, ModelDrafter::Create(target, draft, eo, 256));
  eo.gpu_layers = placement.target_gpu_layers;
  JARVIS_ASSIGN_OR_RETURN(std::unique_ptr<ModelDrafter> self_drafter, ModelDrafter::Create(target, target, eo, 256));
  std::vector<DraftModelRun> out;
  for (const char* continuation : {"greedy", "sampled"}) {
    GenerateOptions go;
    go.max_tokens = n_tokens;
    go.ignore_eos = true;
    go.sampling.temperature = std::string(continuation) == "sampled" ? 1.0f : 0.0f;
    go.sampling.seed = 42;
    go.sampling.has_seed = true;
    // "off" first (the reference), then each drafter at each length.
    struct Config {
      std::string name;
      ModelDrafter* drafter;
      int32_t k;
      std::vector<double> tps;
      GenerationResult last;
    };
    std::vector<Config> configs = {{"off", nullptr, 0, {}, {}}};
    for (int32_t k : drafts) configs.push_back({draft_name, file_drafter.get(), k, {}, {}});
    for (int32_t k : drafts) configs.push_back({"target", self_drafter.get(), k, {}, {}});
    // Repetitions go round the configurations, so that a shared machine's
    // changing load falls on all of them alike and the ratios hold.
    for (int rep = -1; rep < reps; ++rep) {  // rep -1: warm-up
      for (Config& c : configs) {
        go.speculation = SpeculationOptions();
        go.drafter = c.drafter;
        if (c.drafter != nullptr) {
          go.speculation.mode = "draft";
          go.speculation.draft_max = c.k;
        }
        JARVIS_ASSIGN_OR_RETURN(c.last, Generate(engine, prompt, go));
        if (rep >= 0 && c.last.generate_seconds > 0) {
          c.tps.push_back(static_cast<double>(c.last.tokens.size()) / c.last.generate_seconds);
        }
      }
    }
    const Config& plain = configs.front();
    const double plain_tps = Median(plain.tps);
    for (const Config& c : configs) {
      DraftModelRun r;
      r.drafter = c.name;
      r.continuation = continuation;
      r.draft_max = c.k;
      r.tokens_per_s = Median(c.tps);
      r.tokens = static_cast<int32_t>(c.last.tokens.size());
      r.steps = c.last.decode_steps;
      r.drafted = c.last.draft_tokens;
      r.accepted = c.last.accepted_draft_tokens;
      r.same_output = c.last.tokens == plain.last.tokens;
      r.speedup = plain_tps > 0 ? r.tokens_per_s / plain_tps : 1.0;
      out.push_back(r);
    }
  }
  return out;
}

Result<std::vector<ConcurrentDraftRun>> MeasureConcurrentDraftModel(const Model& target,
                                                                    std::shared_ptr<const Model> draft,
                                                                    const std::string& draft_name,
                                                                    DraftBenchPlacement placement,
                                                                    const std::vector<int32_t>& sequences,
                                                                    int32_t n_prompt, int32_t n_tokens,
                                                                    int32_t threads, int reps) {
  const int32_t n_vocab = target.hparams().n_vocab;
  // The target drafting for itself; it outlives these schedulers.
  const std::shared_ptr<const Model> self(&target, [](const Model*) {});
  std::vector<ConcurrentDraftRun> out;
  for (int32_t n_seq : sequences) {
    struct Config {
      std::string name;
      std::shared_ptr<const Model> drafter;
      std::unique_ptr<Scheduler> scheduler;
      std::vector<double> tps;
      std::vector<std::vector<int32_t>> tokens;  // of the last rep
    };
    std::vector<Config> configs;
    configs.push_back({"off", nullptr, nullptr, {}, {}});
    configs.push_back({draft_name, draft, nullptr, {}, {}});
    configs.push_back({"target", self, nullptr, {}, {}});
    for (Config& c : configs) {
      SchedulerOptions o;
      o.max_sequences = n_seq;
      o.n_threads = threads;
      o.n_ctx = n_prompt + n_tokens + kMaxDraftTokens + 1;
      o.max_batch_tokens = std::max(RuntimeOptions{}.batch_tokens, n_seq);
      o.prefix_cache = false;  // every rep computes its prompts
      o.gpu_layers = placement.target_gpu_layers;
      if (c.drafter) {
        o.speculation.mode = "draft";
        o.draft_model = c.drafter;
        o.draft_gpu_layers = c.drafter == self ? placement.target_gpu_layers : placement.draft_gpu_layers;
      }
      JARVIS_ASSIGN_OR_RETURN(c.scheduler, Scheduler::Create(target, o));
    }
    // Repetitions go round the configurations (as MeasureDraftModel).
    for (int rep = -1; rep < reps; ++rep) {  // rep -1: warm-up
      for (Config& c : configs) {
        std::vector<RequestHandle> handles;
        const auto start = std::chrono::steady_clock::now();
        for (int32_t s = 0; s < n_seq; ++s) {
          GenerateRequest r;
          r.prompt_tokens = BenchPrompt(n_prompt, n_vocab, 1000 * static_cast<int64_t>(s));
          r.max_tokens = n_tokens;
          r.ignore_eos = true;
          r.sampling.temperature = 0.0f;
          JARVIS_ASSIGN_OR_RETURN(RequestHandle h, c.scheduler->Submit(std::move(r)));
          handles.push_back(std::move(h));
        }
        c.tokens.clear();
        int64_t generated = 0;
        for (RequestHandle& h : handles) {
          GenerateResult result = h.Wait();
          if (result.finish == FinishReason::kError) return result.error;
          generated += static_cast<int64_t>(result.tokens.size());
          c.tokens.push_back(std::move(result.tokens));
        }
        const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        if (rep >= 0 && seconds > 0) c.tps.push_back(static_cast<double>(generated) / seconds);
      }
    }
    const double plain_tps = Median(configs.front().tps);
    for (const Config& c : configs) {
      const SchedulerStats stats = c.scheduler->Stats();
      ConcurrentDraftRun r;
      r.drafter = c.name;
      r.sequences = n_seq;
      r.tokens_per_s = Median(c.tps);
      r.steps = stats.steps / (reps + 1);
      r.drafted = stats.draft_tokens / (reps + 1);
      r.accepted = stats.accepted_draft_tokens / (reps + 1);
      r.same_output = c.tokens == configs.front().tokens;
      r.speedup = plain_tps > 0 ? r.tokens_per_s / plain_tps : 1.0;
      out.push_back(r);
    }
  }
  return out;
}

}  // namespace jarvis::cli
