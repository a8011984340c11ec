#include "jarvis/runtime.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <future>
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
  EXPECT_EQ(so->packed_cache_bytes, plain.packed_cache_bytes);
  EXPECT_EQ(so->scheduler.max_sequences, plain.scheduler.max_sequences);
  EXPECT_EQ(so->scheduler.max_queue, plain.scheduler.max_queue);
  EXPECT_EQ(so->scheduler.max_batch_tokens, plain.scheduler.max_batch_tokens);
  EXPECT_EQ(so->scheduler.n_ctx, plain.scheduler.n_ctx);
  EXPECT_EQ(so->scheduler.kv_size, plain.scheduler.kv_size);
  EXPECT_EQ(so->scheduler.n_threads, plain.scheduler.n_threads);
  EXPECT_EQ(so->scheduler.kv_type, plain.scheduler.kv_type);
  EXPECT_EQ(so->scheduler.gpu_layers, kGpuLayersAuto);
  EXPECT_EQ(so->monitor, nullptr);
}

// "off" turns the packed-weights cache off; a directory is taken as given
// (the default, "", is the user cache dir: model/packed_cache.h).
// Every KV type name maps to its KvType (quant/kv_type.h names them once).
TEST(RuntimeOptionsTest, KvTypeNamesMapToTheSchedulersType) {
  RuntimeOptions ro;
  for (const KvTypeTraits& t : kKvTypes) {
    ro.kv_type = t.name;
    auto so = ToServiceOptions(ro);
    ASSERT_TRUE(so.ok()) << t.name << ": " << so.status().ToString();
    EXPECT_EQ(so->scheduler.kv_type, t.type) << t.name;
  }
  EXPECT_EQ(ToServiceOptions(RuntimeOptions{})->scheduler.kv_type, KvType::kF16);  // the default
}

TEST(RuntimeOptionsTest, PackedCacheIsOffOrADirectory) {
  RuntimeOptions ro;
  ro.packed_cache = "off";
  EXPECT_EQ(ToServiceOptions(ro)->packed_cache_dir, "");
  ro.packed_cache = "/srv/jarvis-packed";
  EXPECT_EQ(ToServiceOptions(ro)->packed_cache_dir, "/srv/jarvis-packed");
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
  bad([](RuntimeOptions& o) { o.kv_type = "q8"; }, "f32, f16, q8_0");  // the accepted names
  bad([](RuntimeOptions& o) { o.parallel = 0; }, "parallel");
  bad([](RuntimeOptions& o) { o.max_queue = 0; }, "max_queue");
  bad([](RuntimeOptions& o) { o.threads = -1; }, "threads");
  bad([](RuntimeOptions& o) { o.kv_size = -1; }, "kv_size");
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

// Issue 17: a model file truncated under a running request (the mapping guard
// feeds zeros instead of a SIGBUS). A library caller must see the same error
// the HTTP layer answers with: from Wait(), the future, on_complete and
// Generate(); its pull stream ends soon after instead of streaming garbage.
TEST(RuntimeTest, ModelFileTruncatedUnderARequestFailsItForLibraryCallers) {
  namespace fs = std::filesystem;
  const fs::path dir = fs::temp_directory_path() / ("jarvis_runtime_damaged_" + std::to_string(getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  const fs::path model = dir / "m.gguf";
  fs::copy_file(test::StoriesModelPath(), model);
  RuntimeOptions o;
  o.models = {model.string()};
  o.threads = 1;
  o.ctx_size = 256;
  o.cache_ttl = std::chrono::seconds(0);
  auto runtime = Runtime::Create(o);
  ASSERT_TRUE(runtime.ok()) << runtime.status().ToString();

  GenerateRequest r;
  r.prompt = "Once upon a time";
  r.max_tokens = 100;
  r.ignore_eos = true;
  r.sampling.temperature = 0;
  std::atomic<bool> truncated{false};
  r.on_token = [&](const TokenEvent&) {
    if (!truncated.exchange(true)) {
      EXPECT_EQ(truncate(model.c_str(), 4096), 0);
    }
    return true;
  };
  std::promise<GenerateResult> completed;
  r.on_complete = [&completed](const GenerateResult& result) { completed.set_value(result); };
  auto handle = (*runtime)->Submit(r);
  ASSERT_TRUE(handle.ok()) << handle.status().ToString();
  std::future<GenerateResult> future = handle->TakeFuture();
  int events = 0;
  TokenEvent event;
  while (handle->Next(&event)) ++events;  // the stream ends...
  const GenerateResult waited = handle->Wait();  // ... with the error
  ASSERT_TRUE(truncated.load());
  EXPECT_EQ(waited.finish, FinishReason::kError);
  EXPECT_EQ(waited.error.code(), StatusCode::kCorruption) << waited.error.ToString();
  EXPECT_NE(waited.error.message().find(model.string()), std::string::npos) << waited.error.ToString();
  EXPECT_LT(events, 100);  // stopped at the first token after the damage, not at max_tokens
  EXPECT_LT(waited.completion_tokens, 100);
  const GenerateResult from_future = future.get();
  EXPECT_EQ(from_future.finish, FinishReason::kError);
  EXPECT_EQ(from_future.error.ToString(), waited.error.ToString());
  const GenerateResult hooked = completed.get_future().get();
  EXPECT_EQ(hooked.error.ToString(), waited.error.ToString());

  // Generate() returns the error too: the file is now invalid, and names it.
  GenerateRequest next;
  next.prompt = "Once upon a time";
  next.max_tokens = 4;
  auto failed = (*runtime)->Generate(next);
  ASSERT_FALSE(failed.ok());
  EXPECT_NE(failed.status().ToString().find("m.gguf"), std::string::npos) << failed.status().ToString();
  (*runtime)->Shutdown(std::chrono::milliseconds(0));
  fs::remove_all(dir);
}

TEST(RuntimeTest, MissingModelIsNotFound) {
  RuntimeOptions o;
  o.models = {"/nonexistent/model.gguf"};
  EXPECT_EQ(Runtime::Create(o).status().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace jarvis
