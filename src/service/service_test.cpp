// Service facade end to end on the real stories260K model: response cache,
// counters, the monitoring documents, model control.
#include "service/service.h"

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <thread>

#include "gpu/gpu_backend.h"
#include "kernels/cpu/isa.h"
#include "support/test_paths.h"
#include "util/perf_monitor.h"

namespace jarvis {
namespace {

ServiceOptions Options() {
  ServiceOptions o;
  o.model_paths = {test::StoriesModelPath()};
  o.scheduler.n_threads = 1;
  o.scheduler.n_ctx = 256;
  o.scheduler.max_sequences = 4;
  return o;
}

GenerateRequest Greedy(const std::string& prompt = "Once upon a time", int max_tokens = 24) {
  GenerateRequest r;
  r.prompt = prompt;
  r.sampling.temperature = 0.0f;
  r.max_tokens = max_tokens;
  return r;
}

std::unique_ptr<Service> MakeService(const ServiceOptions& o = Options()) {
  auto s = Service::Create(o);
  EXPECT_TRUE(s.ok()) << s.status().ToString();
  return s.ok() ? std::move(s).value() : nullptr;
}

// The exposition rules Prometheus enforces: each family's TYPE once, and
// all of a family's samples right after it (never split by another family).
void ExpectEachFamilyOnceAndTogether(const std::string& prom) {
  std::set<std::string> seen;
  std::string current;
  size_t start = 0;
  while (start < prom.size()) {
    const size_t end = prom.find('\n', start);
    const std::string line = prom.substr(start, end - start);
    start = end == std::string::npos ? prom.size() : end + 1;
    if (line.rfind("# TYPE ", 0) == 0) {
      current = line.substr(7, line.find(' ', 7) - 7);
      EXPECT_TRUE(seen.insert(current).second) << "family twice: " << current;
    } else if (!line.empty() && line[0] != '#') {
      const std::string name = line.substr(0, line.find_first_of("{ "));
      EXPECT_EQ(name.rfind(current, 0), 0u) << "sample outside its family: " << line;
    }
  }
  EXPECT_GT(seen.size(), 20u);
}

GenerateResult RunOne(Service& s, GenerateRequest r) {
  auto h = s.Submit(std::move(r));
  EXPECT_TRUE(h.ok()) << h.status().ToString();
  if (!h.ok()) return {};
  return h->Wait();
}

int64_t Counter(Service& s, const char* name) { return s.monitor().CounterValue(name); }

TEST(ServiceTest, DeterministicRequestTwiceComesFromTheCacheTheSecondTime) {
  auto svc = MakeService();
  ASSERT_TRUE(svc);
  const GenerateResult first = RunOne(*svc, Greedy());
  ASSERT_EQ(first.error.ToString(), Status().ToString());
  ASSERT_FALSE(first.text.empty());
  EXPECT_FALSE(first.from_response_cache);
  EXPECT_GT(first.completion_tokens, 0);

  // Second time: from the cache, identical, and replayed to the stream.
  std::string streamed;
  GenerateRequest again = Greedy();
  again.on_token = [&streamed](const TokenEvent& e) {
    streamed += e.text;
    return true;
  };
  bool completed_hook = false;
  again.on_complete = [&completed_hook](const GenerateResult& r) { completed_hook = r.from_response_cache; };
  auto h = svc->Submit(std::move(again));
  ASSERT_TRUE(h.ok());
  std::string pulled;
  TokenEvent ev;
  while (h->Next(&ev)) pulled += ev.text;
  const GenerateResult second = h->Wait();
  EXPECT_TRUE(second.from_response_cache);
  EXPECT_EQ(second.text, first.text);
  EXPECT_EQ(second.tokens, first.tokens);
  EXPECT_EQ(second.finish, first.finish);
  EXPECT_EQ(streamed, first.text);
  EXPECT_EQ(pulled, first.text);
  EXPECT_TRUE(completed_hook);

  EXPECT_EQ(Counter(*svc, "llm_requests_total"), 2);
  EXPECT_EQ(Counter(*svc, "llm_requests_ok"), 2);
  EXPECT_EQ(Counter(*svc, "llm_cache_misses"), 1);
  EXPECT_EQ(Counter(*svc, "llm_cache_hits"), 1);
  EXPECT_EQ(Counter(*svc, "generated_tokens_total"), first.completion_tokens);  // the hit computed nothing
  EXPECT_EQ(Counter(*svc, "prompt_tokens_total"), first.prompt_tokens);
  auto inference = svc->monitor().GetStats("llm_inference");
  ASSERT_TRUE(inference.has_value());
  EXPECT_EQ(inference->lifetime.count, 1u);
  EXPECT_DOUBLE_EQ(inference->lifetime.success_rate, 1.0);

  // A different sampling parameter is a different entry.
  GenerateRequest other = Greedy();
  other.sampling.repeat_penalty = 1.3f;
  EXPECT_FALSE(RunOne(*svc, std::move(other)).from_response_cache);
}

TEST(ServiceTest, NonDeterministicAndOptedOutRequestsAreNeverCached) {
  auto svc = MakeService();
  ASSERT_TRUE(svc);
  GenerateRequest random = Greedy("Lily", 8);
  random.sampling.temperature = 0.9f;
  EXPECT_FALSE(RunOne(*svc, random).from_response_cache);
  EXPECT_FALSE(RunOne(*svc, random).from_response_cache);
  GenerateRequest opted_out = Greedy("Lily", 8);
  opted_out.use_response_cache = false;
  EXPECT_FALSE(RunOne(*svc, opted_out).from_response_cache);
  EXPECT_FALSE(RunOne(*svc, opted_out).from_response_cache);
  EXPECT_EQ(Counter(*svc, "llm_cache_hits"), 0);
  EXPECT_EQ(Counter(*svc, "llm_cache_misses"), 0);  // only cacheable requests are looked up
  // A seeded request is deterministic, hence cacheable.
  GenerateRequest seeded = random;
  seeded.sampling.has_seed = true;
  seeded.sampling.seed = 42;
  const GenerateResult a = RunOne(*svc, seeded);
  const GenerateResult b = RunOne(*svc, seeded);
  EXPECT_FALSE(a.from_response_cache);
  EXPECT_TRUE(b.from_response_cache);
  EXPECT_EQ(a.text, b.text);
}

TEST(ServiceTest, CancelledResultIsNotCached) {
  auto svc = MakeService();
  ASSERT_TRUE(svc);
  GenerateRequest r = Greedy("Tim was", 32);
  r.on_token = [](const TokenEvent&) { return false; };  // cancel at the first token
  const GenerateResult cancelled = RunOne(*svc, r);
  EXPECT_EQ(cancelled.finish, FinishReason::kCancelled);
  EXPECT_FALSE(RunOne(*svc, Greedy("Tim was", 32)).from_response_cache);
  EXPECT_EQ(Counter(*svc, "llm_requests_cancelled"), 1);
}

TEST(ServiceTest, MonitoringDocuments) {
  auto svc = MakeService();
  ASSERT_TRUE(svc);
  const GenerateResult r = RunOne(*svc, Greedy());
  ASSERT_GT(r.completion_tokens, 1);

  const nlohmann::json perf = svc->PerformanceStats();
  for (const char* timer : {"llm_inference", "time_to_first_token", "time_per_output_token", "queue_wait",
                            "model_load"}) {
    ASSERT_TRUE(perf.contains(timer)) << timer;
    for (const char* f : {"avg_ms", "min_ms", "max_ms", "p50_ms", "p95_ms", "p99_ms", "count", "success_rate"}) {
      EXPECT_TRUE(perf[timer].contains(f)) << timer << "." << f;
    }
    EXPECT_EQ(perf[timer].size(), 8u) << timer;
  }
  EXPECT_EQ(perf["llm_inference"]["count"], 1);
  EXPECT_EQ(perf["model_load"]["count"], 1);
  EXPECT_GE(perf["llm_inference"]["max_ms"].get<double>(), perf["llm_inference"]["min_ms"].get<double>());
  EXPECT_EQ(perf["counters"]["llm_requests_total"], 1);
  EXPECT_EQ(perf["counters"]["generated_tokens_total"], r.completion_tokens);
  for (const char* f : {"cpu_percent", "memory_percent", "gpu_memory_allocated_gb", "gpu_memory_reserved_gb"}) {
    EXPECT_TRUE(perf["system"].contains(f)) << f;
  }
  EXPECT_EQ(perf["window"]["llm_inference"]["count"], 1);
  EXPECT_EQ(perf["gauges"]["loaded_models"], 1);

  const nlohmann::json sys = svc->SystemMetrics();
  EXPECT_EQ(sys["build"]["backend"], ProbeGpus().cuda_built ? "cpu+cuda" : "cpu");
  EXPECT_TRUE(sys["process_rss_bytes"].is_number());
  EXPECT_GE(sys["uptime_seconds"].get<double>(), 0.0);

  const nlohmann::json models = svc->ModelsStats();
  ASSERT_EQ(models["loaded"].size(), 1u);
  EXPECT_EQ(models["loaded"][0]["name"], "stories260K");
  EXPECT_GT(models["loaded"][0]["load_ms"].get<double>(), 0.0);
  EXPECT_GT(models["loaded"][0]["kv_blocks_total"].get<int>(), 0);
  EXPECT_TRUE(models["loaded"][0]["last_used"].is_string());
  EXPECT_EQ(models["available"][0]["name"], "stories260K");
  EXPECT_EQ(models["response_cache"]["entries"], 1);
  EXPECT_EQ(models["default_model"], "stories260K");

  const std::string prom = svc->PrometheusText();
  EXPECT_NE(prom.find("# TYPE jarvis_time_to_first_token_seconds histogram"), std::string::npos);
  EXPECT_NE(prom.find("jarvis_time_to_first_token_seconds_bucket{model=\"stories260K\",le=\"+Inf\"} 1\n"),
            std::string::npos);
  EXPECT_NE(prom.find("jarvis_requests_total{model=\"stories260K\",outcome=\"ok\"} 1\n"), std::string::npos);
  EXPECT_NE(prom.find("jarvis_generated_tokens_total{model=\"stories260K\"} " + std::to_string(r.completion_tokens)),
            std::string::npos);
  EXPECT_NE(prom.find("jarvis_models_loaded 1\n"), std::string::npos);
  EXPECT_EQ(prom.back(), '\n');
  ExpectEachFamilyOnceAndTogether(prom);
}

// Where models run: the backends the binary has, the devices found, and per
// loaded model its placement (CPU here: gpu_layers 0 is explicit).
TEST(ServiceTest, BackendsAndPlacementInMonitoringDocuments) {
  ServiceOptions o = Options();
  o.scheduler.gpu_layers = 0;
  auto svc = MakeService(o);
  ASSERT_TRUE(svc);
  ASSERT_TRUE(svc->LoadModel("stories260K").ok());
  const GpuProbe& probe = ProbeGpus();

  const nlohmann::json b = svc->SystemMetrics()["backends"];
  EXPECT_EQ(b["cpu"]["kernels"], KernelIsaName(ActiveKernelIsa()));
  EXPECT_EQ(b["cuda"]["built"], probe.cuda_built);
  EXPECT_EQ(b["cuda"]["version"].is_null(), !probe.cuda_built);
  ASSERT_EQ(b["cuda"]["devices"].size(), probe.devices.size());
  for (size_t i = 0; i < probe.devices.size(); ++i) {
    const nlohmann::json& d = b["cuda"]["devices"][i];
    EXPECT_EQ(d["name"], probe.devices[i].name);
    EXPECT_EQ(d["memory_total_bytes"], probe.devices[i].memory_total_bytes);
    EXPECT_TRUE(d["compute_capability"].is_string());
  }
  if (probe.devices.empty()) {
    EXPECT_EQ(b["cuda"]["reason"], probe.unavailable_reason);
    EXPECT_FALSE(probe.unavailable_reason.empty());
  }

  const nlohmann::json m = svc->ModelsStats()["loaded"][0];
  EXPECT_EQ(m["backend"], std::string("cpu (") + KernelIsaName(ActiveKernelIsa()) + ")");
  EXPECT_EQ(m["gpu_layers"], 0);
  EXPECT_EQ(m["gpu_bytes"], 0);
  ASSERT_EQ(svc->ListModels().size(), 1u);
  EXPECT_EQ(svc->ListModels()[0].scheduler.gpu_bytes, 0u);

  const std::string prom = svc->PrometheusText();
  EXPECT_NE(prom.find(std::string("\njarvis_cuda_built ") + (probe.cuda_built ? "1" : "0") + "\n"), std::string::npos);
  EXPECT_NE(prom.find("\njarvis_gpu_devices " + std::to_string(probe.devices.size()) + "\n"), std::string::npos);
  EXPECT_NE(prom.find("\njarvis_model_gpu_layers{model=\"stories260K\"} 0\n"), std::string::npos);
  EXPECT_NE(prom.find("\njarvis_model_gpu_bytes{model=\"stories260K\"} 0\n"), std::string::npos);
}

// Asking for every layer on the GPU where none is usable still serves, from the CPU.
TEST(ServiceTest, GpuRequestWithoutGpuServesFromTheCpu) {
  if (!ProbeGpus().devices.empty()) GTEST_SKIP() << "a GPU is present: " << DescribeGpuBackend();
  ServiceOptions o = Options();
  o.scheduler.gpu_layers = -1;
  auto svc = MakeService(o);
  ASSERT_TRUE(svc);
  const GenerateResult r = RunOne(*svc, Greedy());
  EXPECT_GT(r.completion_tokens, 1);
  EXPECT_NE(r.finish, FinishReason::kError);
  const nlohmann::json m = svc->ModelsStats()["loaded"][0];
  EXPECT_EQ(m["gpu_layers"], 0);
  EXPECT_EQ(m["backend"].get<std::string>().rfind("cpu (", 0), 0u);
}

TEST(ServiceTest, ModelControlAndErrors) {
  auto svc = MakeService();
  ASSERT_TRUE(svc);
  GenerateRequest unknown = Greedy();
  unknown.model = "no-such-model";
  EXPECT_EQ(svc->Submit(unknown).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(svc->LoadModel("no-such-model").code(), StatusCode::kNotFound);

  auto info = svc->GetModel("");
  ASSERT_TRUE(info.ok());
  EXPECT_FALSE(info->loaded);  // lazy
  EXPECT_EQ(info->architecture, "llama");
  ASSERT_TRUE(svc->LoadModel("stories260K", std::chrono::seconds(-1), /*pin=*/true).ok());
  info = svc->GetModel("stories260K");
  EXPECT_TRUE(info->loaded);
  EXPECT_TRUE(info->pinned);
  EXPECT_FALSE(info->expires_at.has_value());  // pinned: no expiry
  ASSERT_TRUE(svc->UnloadModel("stories260K").ok());
  EXPECT_FALSE(svc->GetModel("stories260K")->loaded);
  auto show = svc->ShowModel("stories260K");
  ASSERT_TRUE(show.ok());
  EXPECT_EQ((*show)["architecture"], "llama");

  svc->Shutdown(std::chrono::milliseconds(100));
  EXPECT_FALSE(svc->Ready());
  EXPECT_EQ(svc->Submit(Greedy()).status().code(), StatusCode::kCancelled);
}

TEST(ServiceTest, CreateErrors) {
  ServiceOptions o = Options();
  o.model_paths = {"/nonexistent/x.gguf"};
  EXPECT_EQ(Service::Create(o).status().code(), StatusCode::kNotFound);
  o.model_paths = {};
  EXPECT_EQ(Service::Create(o).status().code(), StatusCode::kInvalidArgument);
  o = Options();
  o.default_model = "nope";
  EXPECT_EQ(Service::Create(o).status().code(), StatusCode::kNotFound);
}

TEST(ServiceTest, ConcurrentRequestsAllCompleteAndCount) {
  auto svc = MakeService();
  ASSERT_TRUE(svc);
  const std::vector<std::string> prompts = {"Once", "Lily", "The cat", "Tom had", "One day", "A bird"};
  std::vector<std::thread> threads;
  std::vector<GenerateResult> results(prompts.size());
  for (size_t i = 0; i < prompts.size(); ++i) {
    threads.emplace_back([&, i] { results[i] = RunOne(*svc, Greedy(prompts[i], 12)); });
  }
  for (auto& t : threads) t.join();
  int64_t generated = 0;
  for (const auto& r : results) {
    EXPECT_NE(r.finish, FinishReason::kError);
    generated += r.completion_tokens;
  }
  EXPECT_EQ(Counter(*svc, "llm_requests_ok"), static_cast<int64_t>(prompts.size()));
  EXPECT_EQ(Counter(*svc, "generated_tokens_total"), generated);
  EXPECT_EQ(svc->monitor().GetStats("llm_inference")->lifetime.count, prompts.size());
  // Every lease came back: the model is idle (and could be evicted).
  EXPECT_EQ(svc->ModelsStats()["loaded"][0]["active_requests"], 0);
}

}  // namespace
}  // namespace jarvis
