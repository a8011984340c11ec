// `jarvis bench-serve`: N concurrent synthetic clients against the Scheduler
// API (no HTTP), with continuous batching on and off. Each client is a closed
// loop: submit, wait for the result, submit the next. Reports aggregate
// generated tokens/s, requests/s, and TTFT / per-output-token latency
// percentiles per configuration, then the batching speed-up per client count.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <memory>
#include <mutex>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "cli/commands.h"
#include "gpu/gpu_layer_plan.h"
#include "model/model.h"
#include "scheduler/scheduler.h"
#include "tokenizer/tokenizer.h"

namespace jarvis::cli {
namespace {

struct BenchServeFlags {
  std::string model;
  std::string clients = "1,4,10,16";
  int32_t requests_per_client = 2;
  int32_t max_tokens = 32;
  int32_t prompt_tokens = 32;
  int32_t threads = 2;
  int32_t ctx_size = 512;
  int32_t max_sequences = 16;
  std::string modes = "on,off";
  int32_t gpu_layers = kGpuLayersAuto;
};

struct RunStats {
  int32_t clients = 0;
  bool batching = false;
  double wall_s = 0.0;
  int64_t tokens = 0;
  int32_t requests = 0;
  int32_t failed = 0;
  std::vector<double> ttft_ms, per_token_ms;
  double mean_batch_seqs = 0.0;
  std::string backend;  // where the engine ran
};

double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0.0;
  std::sort(v.begin(), v.end());
  // Nearest rank.
  const size_t rank = static_cast<size_t>(std::ceil(p / 100.0 * static_cast<double>(v.size())));
  return v[std::clamp<size_t>(rank, 1, v.size()) - 1];
}

std::vector<int32_t> ParseList(const std::string& text) {
  std::vector<int32_t> out;
  std::stringstream ss(text);
  std::string item;
  while (std::getline(ss, item, ',')) {
    try {
      const int v = std::stoi(item);
      if (v <= 0) throw std::out_of_range("non-positive");
      out.push_back(v);
    } catch (const std::exception&) {
      Fail("--clients wants positive integers separated by commas, got '" + text + "'", kExitUsageError);
    }
  }
  if (out.empty()) Fail("--clients is empty", kExitUsageError);
  return out;
}

// A prompt of ordinary tokens, different for every (client, request).
std::vector<int32_t> SyntheticPrompt(const Tokenizer& tok, int32_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<int32_t> p;
  if (tok.bos_id() >= 0 && tok.add_bos()) p.push_back(tok.bos_id());
  const int32_t n_vocab = tok.vocab_size();
  while (static_cast<int32_t>(p.size()) < n) {
    const int32_t id = static_cast<int32_t>(rng() % static_cast<uint64_t>(n_vocab));
    if (tok.type(id) == TokenType::kNormal) p.push_back(id);
  }
  return p;
}

RunStats RunOne(const Model& model, const BenchServeFlags& f, int32_t n_clients, bool batching) {
  SchedulerOptions o;
  o.max_sequences = batching ? std::max(1, f.max_sequences) : 1;
  o.max_batch_tokens = std::max(512, o.max_sequences);
  o.n_ctx = f.ctx_size;
  o.n_threads = f.threads;
  o.gpu_layers = f.gpu_layers;
  o.max_queue = std::max(64, n_clients);
  o.continuous_batching = batching;
  o.prefix_cache = false;  // every prompt is distinct; measure batching alone
  std::atomic<int64_t> steps{0}, seq_sum{0};
  o.on_step = [&](const StepStats& s) {
    if (s.decode_tokens > 0) {
      ++steps;
      seq_sum += s.decode_tokens;
    }
  };
  auto sched = Scheduler::Create(model, o);
  if (!sched.ok()) Fail(sched.status());
  const Tokenizer& tok = model.tokenizer();

  RunStats st;
  st.clients = n_clients;
  st.batching = batching;
  st.backend = (*sched)->Stats().backend;
  std::mutex mu;
  std::vector<std::thread> threads;
  const auto start = std::chrono::steady_clock::now();
  for (int32_t c = 0; c < n_clients; ++c) {
    threads.emplace_back([&, c] {
      for (int32_t r = 0; r < f.requests_per_client; ++r) {
        GenerateRequest req;
        req.prompt_tokens = SyntheticPrompt(tok, f.prompt_tokens, (static_cast<uint64_t>(c) << 20) + r + 1);
        req.max_tokens = f.max_tokens;
        req.ignore_eos = true;
        req.sampling.temperature = 0.0f;
        auto h = (*sched)->Submit(std::move(req));
        GenerateResult res;
        if (h.ok()) res = h->Wait();
        std::lock_guard<std::mutex> lock(mu);
        if (!h.ok() || res.finish == FinishReason::kError) {
          ++st.failed;
          continue;
        }
        ++st.requests;
        st.tokens += res.completion_tokens;
        st.ttft_ms.push_back(res.timings.ttft_ms);
        if (res.completion_tokens >= 2) st.per_token_ms.push_back(res.timings.per_token_ms);
      }
    });
  }
  for (auto& t : threads) t.join();
  st.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  st.mean_batch_seqs = steps > 0 ? static_cast<double>(seq_sum) / static_cast<double>(steps) : 0.0;
  (*sched)->Shutdown(std::chrono::milliseconds(0));
  return st;
}

void Print(const RunStats& s) {
  std::printf("| %7d | %-8s | %5d | %9.2f | %8.3f | %6.1f | %8.1f %8.1f %8.1f | %7.1f %7.1f %7.1f |%s\n", s.clients,
              s.batching ? "on" : "off", s.requests, s.wall_s > 0 ? static_cast<double>(s.tokens) / s.wall_s : 0.0,
              s.wall_s > 0 ? s.requests / s.wall_s : 0.0, s.mean_batch_seqs, Percentile(s.ttft_ms, 50),
              Percentile(s.ttft_ms, 95), Percentile(s.ttft_ms, 99), Percentile(s.per_token_ms, 50),
              Percentile(s.per_token_ms, 95), Percentile(s.per_token_ms, 99),
              s.failed > 0 ? (" " + std::to_string(s.failed) + " failed").c_str() : "");
  std::fflush(stdout);
}

void BenchServe(const BenchServeFlags& flags) {
  BenchServeFlags f = flags;  // gpu_layers becomes the placement planned at load
  const std::vector<int32_t> clients = ParseList(f.clients);
  if (f.requests_per_client < 1 || f.max_tokens < 1 || f.prompt_tokens < 1 || f.threads < 0) {
    Fail("--requests-per-client, --max-tokens and --prompt-tokens must be >= 1", kExitUsageError);
  }
  if (f.prompt_tokens + f.max_tokens >= f.ctx_size) Fail("--ctx-size must exceed prompt + max tokens", kExitUsageError);
  const bool on = f.modes.find("on") != std::string::npos;
  const bool off = f.modes.find("off") != std::string::npos;
  if (!on && !off) Fail("--modes wants on, off or on,off", kExitUsageError);

  GpuLayerPlan gpu;
  const std::unique_ptr<Model> model = LoadModelOrFail(f.model, f.gpu_layers, &gpu);
  f.gpu_layers = gpu.gpu_layers;
  std::string backend;
  {
    // Warm-up (page in the weights, grow the scratch buffers); not reported.
    BenchServeFlags w = f;
    w.requests_per_client = 1;
    w.max_tokens = std::min(4, f.max_tokens);
    backend = RunOne(*model, w, 1, true).backend;
  }
  std::printf("model %s | %d threads | %s | prompt %d tokens | %d new tokens | %d requests per client\n",
              f.model.c_str(), f.threads, backend.c_str(), f.prompt_tokens, f.max_tokens, f.requests_per_client);
  std::printf("| clients | batching | reqs  | tokens/s  | reqs/s   | batch  | TTFT ms p50 / p95 / p99    "
              "| ms/token p50 / p95 / p99 |\n");
  std::printf("|---------|----------|-------|-----------|----------|--------|----------------------------|"
              "--------------------------|\n");
  std::vector<std::pair<RunStats, RunStats>> pairs;
  for (int32_t n : clients) {
    RunStats a, b;
    if (on) Print(a = RunOne(*model, f, n, true));
    if (off) Print(b = RunOne(*model, f, n, false));
    pairs.emplace_back(a, b);
  }
  if (on && off) {
    std::printf("\nbatching speed-up (tokens/s on / off):");
    for (const auto& [a, b] : pairs) {
      const double ta = a.wall_s > 0 ? static_cast<double>(a.tokens) / a.wall_s : 0.0;
      const double tb = b.wall_s > 0 ? static_cast<double>(b.tokens) / b.wall_s : 0.0;
      std::printf("  %d clients: %.2fx", a.clients, tb > 0 ? ta / tb : 0.0);
    }
    std::printf("\n");
  }
}

}  // namespace

void RegisterBenchServe(CLI::App& app) {
  auto f = std::make_shared<BenchServeFlags>();
  CLI::App* cmd = app.add_subcommand(
      "bench-serve", "Concurrent synthetic clients against the scheduler: throughput and latency, batching on/off");
  cmd->add_option("-m,--model", f->model, "GGUF model file")->required();
  cmd->add_option("--clients", f->clients, "Client counts to run, comma-separated")->capture_default_str();
  cmd->add_option("--requests-per-client", f->requests_per_client, "Requests each client sends, one after another")
      ->capture_default_str();
  cmd->add_option("-n,--max-tokens", f->max_tokens, "Tokens generated per request")->capture_default_str();
  cmd->add_option("--prompt-tokens", f->prompt_tokens, "Prompt length in tokens")->capture_default_str();
  cmd->add_option("-t,--threads", f->threads, "Engine threads (0: physical cores)")->capture_default_str();
  cmd->add_option("-c,--ctx-size", f->ctx_size, "Context per sequence")->capture_default_str();
  cmd->add_option("--max-sequences", f->max_sequences, "Sequences decoding at once with batching on")
      ->capture_default_str();
  cmd->add_option("--modes", f->modes, "Batching modes to run: on, off or on,off")->capture_default_str();
  AddGpuLayersOption(cmd, &f->gpu_layers);
  cmd->callback([f] {
    f->gpu_layers = ResolveGpuLayersFlag(f->gpu_layers);
    BenchServe(*f);
  });
}

}  // namespace jarvis::cli
