#include "jarvis/runtime.h"

#include <gtest/gtest.h>

#include <thread>

#include "jarvis/monitor.h"
#include "jarvis/server.h"
#include "runtime/service_options.h"
#include "support/test_paths.h"

namespace jarvis {
namespace {

// The defaults live once, in RuntimeOptions: the internal structs agree.
TEST(RuntimeOptionsTest, InternalDefaultsDeriveFromThePublicOptions) {
  const RuntimeOptions ro;
  auto so = ToServiceOptions(ro);
  ASSERT_TRUE(so.ok()) << so.status().ToString();
  const ServiceOptions plain;
  EXPECT_EQ(so->max_loaded_models, plain.max_loaded_models);
  EXPECT_EQ(so->memory_budget_bytes, plain.memory_budget_bytes);
  EXPECT_EQ(so->keep_alive, plain.keep_alive);
  EXPECT_EQ(so->cache_ttl, plain.cache_ttl);
  EXPECT_EQ(so->cache_bytes, plain.cache_bytes);
  EXPECT_EQ(so->repack, plain.repack);
  EXPECT_EQ(so->scheduler.max_sequences, plain.scheduler.max_sequences);
  EXPECT_EQ(so->scheduler.max_queue, plain.scheduler.max_queue);
  EXPECT_EQ(so->scheduler.max_batch_tokens, plain.scheduler.max_batch_tokens);
  EXPECT_EQ(so->scheduler.n_ctx, plain.scheduler.n_ctx);
  EXPECT_EQ(so->scheduler.n_threads, plain.scheduler.n_threads);
  EXPECT_EQ(so->scheduler.kv_f16, plain.scheduler.kv_f16);
  EXPECT_EQ(so->scheduler.gpu_layers, kGpuLayersAuto);
  EXPECT_EQ(so->monitor, nullptr);
}

TEST(RuntimeOptionsTest, BadValuesNameTheField) {
  const auto bad = [](auto mutate, const char* field) {
    RuntimeOptions o;
    mutate(o);
    auto so = ToServiceOptions(o);
    ASSERT_FALSE(so.ok()) << field;
    EXPECT_EQ(so.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(so.status().message().find(field), std::string::npos) << so.status().message();
  };
  bad([](RuntimeOptions& o) { o.kv_type = "q8"; }, "kv_type");
  bad([](RuntimeOptions& o) { o.parallel = 0; }, "parallel");
  bad([](RuntimeOptions& o) { o.max_queue = 0; }, "max_queue");
  bad([](RuntimeOptions& o) { o.threads = -1; }, "threads");
  bad([](RuntimeOptions& o) { o.gpu_layers = -3; }, "gpu_layers");
}

TEST(MonitorTest, CopiesShareOneRegistryAndScopeTimersRecord) {
  Monitor a;
  Monitor b = a;
  EXPECT_FALSE(a.GetStats("t").has_value());
  a.RecordEvent("t", 4.0);
  b.RecordEvent("t", 8.0, /*success=*/false);
  {
    ScopeTimer timer(b, "scope");
  }
  const auto s = a.GetStats("t");
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->count, 2u);
  EXPECT_DOUBLE_EQ(s->avg_ms, 6.0);
  EXPECT_DOUBLE_EQ(s->min_ms, 4.0);
  EXPECT_DOUBLE_EQ(s->max_ms, 8.0);
  EXPECT_DOUBLE_EQ(s->success_rate, 0.5);
  EXPECT_EQ(a.GetStats("scope")->count, 1u);
  b.IncrementCounter("c", 3);
  EXPECT_EQ(a.CounterValue("c"), 3);
  EXPECT_EQ(Monitor().CounterValue("c"), 0);  // a new monitor is a new registry
}

TEST(RuntimeTest, GeneratesRecordsIntoTheCallersMonitorAndServes) {
  Monitor monitor;
  RuntimeOptions o;
  o.models = {test::StoriesModelPath()};
  o.threads = 1;
  o.monitor = monitor;
  auto runtime = Runtime::Create(o);
  ASSERT_TRUE(runtime.ok()) << runtime.status().ToString();
  GenerateRequest r;
  r.prompt = "Once upon a time";
  r.max_tokens = 8;
  r.sampling.temperature = 0;
  auto a = (*runtime)->Generate(r);
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_EQ(a->completion_tokens, 8);
  auto b = (*runtime)->Generate(r);  // deterministic: the response cache answers
  ASSERT_TRUE(b.ok());
  EXPECT_TRUE(b->from_response_cache);
  EXPECT_EQ(b->text, a->text);
  EXPECT_EQ(monitor.GetStats("llm_inference")->count, 1u);
  EXPECT_EQ((*runtime)->monitor().GetStats("llm_inference")->count, 1u);
  auto info = (*runtime)->GetModel("");
  ASSERT_TRUE(info.ok());
  EXPECT_TRUE(info->loaded);
  EXPECT_GT(info->kv_blocks_total, 0);
  EXPECT_EQ(info->kv_blocks_used, 0);
  EXPECT_EQ((*runtime)->GetModel("nope").status().code(), StatusCode::kNotFound);

  ServerOptions so;
  so.port = 0;
  auto server = Server::Start(**runtime, so);
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  EXPECT_GT((*server)->port(), 0);
  (*server)->Stop(std::chrono::milliseconds(100));
  (*runtime)->Shutdown(std::chrono::milliseconds(0));
  EXPECT_EQ((*runtime)->Submit(r).status().code(), StatusCode::kCancelled);
}

TEST(RuntimeTest, MissingModelIsNotFound) {
  RuntimeOptions o;
  o.models = {"/nonexistent/model.gguf"};
  EXPECT_EQ(Runtime::Create(o).status().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace jarvis
