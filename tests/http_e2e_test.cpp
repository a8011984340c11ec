// The real HTTP server over the real Service and the stories260K model, in
// process on an ephemeral loopback port: every endpoint, streaming and not;
// the greedy answer equals `jarvis run`'s; 16 concurrent streams; disconnect
// cancels; overload answers 429; client mistakes get JSON 4xx and the server
// stays healthy; graceful shutdown lets a running stream finish.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "api/api_backend.h"
#include "api/http_server.h"
#include "api/http_test_client.h"
#include "service/service.h"
#include "support/run_jarvis.h"
#include "support/test_paths.h"

namespace jarvis {
namespace {

using api::testing::Fetch;
using api::testing::HttpReply;
using api::testing::MakeRequest;
using api::testing::TestConnection;
using nlohmann::json;

constexpr const char* kModel = "stories260K";

// The greedy continuation of "Once upon a time" (252 tokens) as `jarvis run`
// prints it (which stories_golden_test checks against an independent reference).
const std::string& RunText() {
  static const std::string text = [] {
    std::string out = test::RunJarvis("run --model " + test::ShellQuote(test::StoriesModelPath()) +
                                      " --prompt 'Once upon a time' -n 252 --temperature 0").out;
    if (!out.empty() && out.back() == '\n') out.pop_back();  // run ends its output with a newline
    return out;
  }();
  return text;
}

std::string GreedyBody(bool stream, bool cache = false, int max_tokens = 252) {
  json j = {{"model", kModel}, {"prompt", "Once upon a time"}, {"temperature", 0}, {"max_tokens", max_tokens},
            {"stream", stream}, {"cache", cache}};
  return j.dump();
}

// Concatenated text of an OpenAI SSE body (completions or chat deltas).
std::string SseText(const std::string& body, std::string* finish = nullptr) {
  std::string text;
  for (const std::string& data : api::testing::SseData(body)) {
    if (data == "[DONE]") continue;
    json e = json::parse(data, nullptr, false);
    if (!e.is_object() || !e.contains("choices") || e["choices"].empty()) continue;
    const json& c = e["choices"][0];
    if (c.contains("text")) text += c["text"].get<std::string>();
    if (c.contains("delta") && c["delta"].contains("content")) text += c["delta"]["content"].get<std::string>();
    if (finish != nullptr && c["finish_reason"].is_string()) *finish = c["finish_reason"];
  }
  return text;
}

class HttpE2eTest : public ::testing::Test {
 protected:
  static ServiceOptions DefaultServiceOptions() {
    ServiceOptions so;
    so.model_paths = {test::StoriesModelPath()};
    so.scheduler.max_sequences = 16;
    return so;
  }
  void Start(ServiceOptions so = DefaultServiceOptions(), api::ServerOptions o = {}) {
    auto svc = Service::Create(so);
    ASSERT_TRUE(svc.ok()) << svc.status().ToString();
    service_ = std::move(svc).value();
    backend_ = api::MakeServiceBackend(*service_);
    o.port = 0;
    auto s = api::HttpServer::Start(o, *backend_);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    server_ = std::move(s).value();
    ASSERT_TRUE(service_->LoadModel(kModel).ok());
    server_->SetReady(true);
    port_ = server_->port();
  }
  void TearDown() override {
    if (!server_) return;
    server_->BeginShutdown();
    service_->Shutdown(std::chrono::seconds(2));
    server_->Stop(std::chrono::seconds(2));
  }
  json Get(const std::string& path) {
    HttpReply r = Fetch(port_, "GET", path);
    EXPECT_EQ(r.status, 200) << path << ": " << r.body;
    return json::parse(r.body, nullptr, false);
  }
  json Post(const std::string& path, const json& body, HttpReply* reply = nullptr) {
    HttpReply r = Fetch(port_, "POST", path, body.dump());
    EXPECT_EQ(r.status, 200) << path << ": " << r.body;
    if (reply != nullptr) *reply = r;
    return json::parse(r.body, nullptr, false);
  }
  int64_t Counter(const char* name) {
    json stats = service_->PerformanceStats();
    return stats["counters"].contains(name) ? stats["counters"][name].get<int64_t>() : 0;
  }
  void ExpectHealthy() {
    HttpReply h = Fetch(port_, "GET", "/health");
    EXPECT_EQ(h.status, 200);
    EXPECT_EQ(h.body, R"({"status":"ok"})");
    // And still generating.
    HttpReply r = Fetch(port_, "POST", "/v1/completions", GreedyBody(false, true, 8));
    EXPECT_EQ(r.status, 200) << r.body;
  }
  static void ExpectJsonError(const HttpReply& r, int status) {
    EXPECT_EQ(r.status, status) << r.body;
    json j = json::parse(r.body, nullptr, false);
    ASSERT_TRUE(j.is_object() && j.contains("error")) << r.body;
    for (const char* k : {"message", "type", "code"}) EXPECT_TRUE(j["error"][k].is_string()) << k << ": " << r.body;
  }

  std::unique_ptr<Service> service_;
  std::unique_ptr<api::ApiBackend> backend_;
  std::unique_ptr<api::HttpServer> server_;
  uint16_t port_ = 0;
};

TEST_F(HttpE2eTest, GreedyCompletionEqualsJarvisRun) {
  ASSERT_FALSE(RunText().empty());
  Start();
  HttpReply r;
  json j = Post("/v1/completions", json::parse(GreedyBody(false)), &r);
  EXPECT_EQ(j["choices"][0]["text"], RunText());
  EXPECT_EQ(j["choices"][0]["finish_reason"], "length");
  EXPECT_EQ(j["usage"]["completion_tokens"], 252);
  EXPECT_EQ(j["usage"]["prompt_tokens"], 5);
  EXPECT_EQ(j["model"], kModel);
  EXPECT_EQ(r.Header("x-jarvis-cache"), "miss");

  HttpReply s = Fetch(port_, "POST", "/v1/completions", GreedyBody(true));
  ASSERT_EQ(s.status, 200);
  EXPECT_EQ(s.Header("content-type"), "text/event-stream");
  std::string finish;
  EXPECT_EQ(SseText(s.body, &finish), RunText());
  EXPECT_EQ(finish, "length");
  EXPECT_EQ(api::testing::SseData(s.body).back(), "[DONE]");

  json ollama = Post("/api/generate", {{"model", kModel}, {"prompt", "Once upon a time"}, {"stream", false},
                                       {"options", {{"temperature", 0}, {"num_predict", 252}}}});
  EXPECT_EQ(ollama["response"], RunText());
  EXPECT_EQ(ollama["eval_count"], 252);
  EXPECT_EQ(ollama["prompt_eval_count"], 5);
  EXPECT_GT(ollama["eval_duration"].get<int64_t>(), 0);
  EXPECT_GE(ollama["total_duration"].get<int64_t>(), ollama["eval_duration"].get<int64_t>());

  // The same deterministic request again: a response-cache hit, marked.
  HttpReply first;
  Post("/v1/completions", json::parse(GreedyBody(false, true, 40)), &first);
  HttpReply again;
  json hit = Post("/v1/completions", json::parse(GreedyBody(false, true, 40)), &again);
  EXPECT_EQ(again.Header("x-jarvis-cache"), "hit");
  EXPECT_EQ(hit["cached"], true);
  EXPECT_EQ(hit["choices"][0]["text"], json::parse(first.body)["choices"][0]["text"]);
  HttpReply hit_stream = Fetch(port_, "POST", "/v1/completions", GreedyBody(true, true, 40));
  EXPECT_EQ(hit_stream.Header("x-jarvis-cache"), "hit");
  EXPECT_EQ(SseText(hit_stream.body), hit["choices"][0]["text"]);
}

TEST_F(HttpE2eTest, ChatAndOllamaStreamingMatchNonStreaming) {
  Start();
  const json messages = json::array({{{"role", "user"}, {"content", "Tell me a story"}}});
  json whole = Post("/v1/chat/completions",
                    {{"model", kModel}, {"messages", messages}, {"temperature", 0}, {"max_tokens", 30}, {"cache", false}});
  const std::string content = whole["choices"][0]["message"]["content"];
  EXPECT_EQ(whole["object"], "chat.completion");
  EXPECT_EQ(whole["choices"][0]["message"]["role"], "assistant");
  EXPECT_GT(whole["usage"]["prompt_tokens"].get<int>(), 0);
  HttpReply s = Fetch(port_, "POST", "/v1/chat/completions",
                      json{{"model", kModel}, {"messages", messages}, {"temperature", 0}, {"max_tokens", 30},
                           {"stream", true}, {"cache", false}, {"stream_options", {{"include_usage", true}}}}
                          .dump());
  ASSERT_EQ(s.status, 200);
  EXPECT_EQ(SseText(s.body), content);
  auto events = api::testing::SseData(s.body);
  ASSERT_GE(events.size(), 3u);
  EXPECT_EQ(json::parse(events[0])["choices"][0]["delta"]["role"], "assistant");
  const json usage = json::parse(events[events.size() - 2])["usage"];
  EXPECT_EQ(usage["completion_tokens"], whole["usage"]["completion_tokens"]);
  EXPECT_EQ(usage["prompt_tokens"], whole["usage"]["prompt_tokens"]);

  json chat = Post("/api/chat", {{"model", kModel}, {"messages", messages}, {"stream", false},
                                 {"options", {{"temperature", 0}, {"num_predict", 30}}}});
  EXPECT_EQ(chat["message"]["content"], content);
  EXPECT_EQ(chat["done"], true);
  HttpReply nd = Fetch(port_, "POST", "/api/chat",
                       json{{"model", kModel}, {"messages", messages}, {"cache", false},
                            {"options", {{"temperature", 0}, {"num_predict", 30}}}}
                           .dump());
  ASSERT_EQ(nd.status, 200);
  EXPECT_EQ(nd.Header("content-type"), "application/x-ndjson");
  std::string streamed;
  json last;
  for (const std::string& line : api::testing::NdjsonLines(nd.body)) {
    last = json::parse(line);
    streamed += last["message"]["content"].get<std::string>();
  }
  EXPECT_EQ(streamed, content);
  EXPECT_EQ(last["done"], true);
  EXPECT_EQ(last["eval_count"], whole["usage"]["completion_tokens"]);
  HttpReply gen = Fetch(port_, "POST", "/api/generate",
                        json{{"model", kModel + std::string(":latest")}, {"prompt", "Once upon a time"},
                             {"options", {{"temperature", 0}, {"num_predict", 20}}}}
                            .dump());
  ASSERT_EQ(gen.status, 200);
  std::string gen_text;
  for (const std::string& line : api::testing::NdjsonLines(gen.body)) gen_text += json::parse(line)["response"];
  EXPECT_EQ(gen_text, RunText().substr(0, gen_text.size()));
  EXPECT_FALSE(gen_text.empty());
}

TEST_F(HttpE2eTest, SixteenConcurrentStreamsAllComplete) {
  ASSERT_FALSE(RunText().empty());
  Start();
  constexpr int kClients = 16;
  std::vector<std::string> texts(kClients);
  std::vector<int> statuses(kClients, 0);
  std::vector<std::thread> threads;
  for (int i = 0; i < kClients; ++i) {
    threads.emplace_back([&, i] {
      TestConnection c;
      if (!c.Connect(port_)) return;
      c.Send(MakeRequest("POST", "/v1/completions", GreedyBody(true)));
      HttpReply r = c.ReadReply();
      statuses[static_cast<size_t>(i)] = r.status;
      texts[static_cast<size_t>(i)] = SseText(r.body);
    });
  }
  for (auto& t : threads) t.join();
  for (int i = 0; i < kClients; ++i) {
    EXPECT_EQ(statuses[static_cast<size_t>(i)], 200) << i;
    EXPECT_EQ(texts[static_cast<size_t>(i)], RunText()) << i;
  }
  EXPECT_EQ(Counter("llm_requests_ok"), kClients);
}

TEST_F(HttpE2eTest, DisconnectCancelsAndFreesKv) {
  Start();
  TestConnection c;
  ASSERT_TRUE(c.Connect(port_));
  ASSERT_TRUE(c.Send(MakeRequest("POST", "/v1/completions",
                                 json{{"model", kModel}, {"prompt", "Once upon a time"}, {"max_tokens", -1},
                                      {"ignore_eos", true}, {"stream", true}, {"cache", false}}
                                     .dump())));
  HttpReply head;
  ASSERT_TRUE(c.ReadHead(&head));
  ASSERT_EQ(head.status, 200);
  std::string first;
  while (first.find("\"text\"") == std::string::npos) {
    auto chunk = c.ReadChunk();
    ASSERT_TRUE(chunk.has_value());
    first += *chunk;
  }
  c.Abort();
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  ModelInfo info;
  for (;;) {
    auto m = service_->GetModel(kModel);
    ASSERT_TRUE(m.ok());
    info = *m;
    if (Counter("llm_requests_cancelled") == 1 && info.scheduler.running == 0) break;
    ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "request not cancelled";
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  EXPECT_EQ(info.scheduler.kv_blocks_used, 0);
  EXPECT_EQ(Counter("llm_requests_ok"), 0);
  // Stopped long before the context (hundreds of tokens) was full.
  EXPECT_LT(info.scheduler.generated_tokens, info.context_length / 2);
  ExpectHealthy();
}

// Issue 17 fault test: a client that leaves while its request is queued,
// while its (long) prompt is being prefilled, or while it decodes without
// streaming: each is cancelled, and the KV pool and the queue end empty.
TEST_F(HttpE2eTest, DisconnectInEveryPhaseCancelsAndFreesEverything) {
  ServiceOptions so = DefaultServiceOptions();
  so.scheduler.max_sequences = 1;  // one runs, the others queue
  Start(so);
  auto endless = [&](bool stream, const std::string& prompt) {
    return MakeRequest("POST", "/v1/completions",
                       json{{"model", kModel}, {"prompt", prompt}, {"max_tokens", -1}, {"ignore_eos", true},
                            {"stream", stream}, {"cache", false}}
                           .dump());
  };
  // Running: a stream that never ends by itself.
  TestConnection running;
  ASSERT_TRUE(running.Connect(port_));
  ASSERT_TRUE(running.Send(endless(true, "Once upon a time")));
  HttpReply head;
  ASSERT_TRUE(running.ReadHead(&head));
  ASSERT_EQ(head.status, 200);
  // Queued behind it: streaming and not.
  TestConnection queued_stream, queued_plain;
  ASSERT_TRUE(queued_stream.Connect(port_));
  ASSERT_TRUE(queued_plain.Connect(port_));
  ASSERT_TRUE(queued_stream.Send(endless(true, "Tom had a dog")));
  ASSERT_TRUE(queued_plain.Send(endless(false, "Lily went")));
  const auto wait_for = [&](auto pred, const char* what) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (!pred()) {
      ASSERT_LT(std::chrono::steady_clock::now(), deadline) << what;
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
  };
  auto sched = [&] { return service_->GetModel(kModel)->scheduler; };
  wait_for([&] { return sched().waiting == 2; }, "two requests queued");
  queued_stream.Abort();
  queued_plain.Abort();
  wait_for([&] { return Counter("llm_requests_cancelled") == 2 && sched().waiting == 0; }, "queued cancelled");
  // The running one is unaffected, then leaves too.
  ASSERT_TRUE(running.ReadChunk().has_value());
  running.Abort();
  wait_for([&] { return Counter("llm_requests_cancelled") == 3 && sched().running == 0; }, "running cancelled");
  // Prefill: a long prompt, the client gone as soon as it is sent.
  std::string long_prompt;
  for (int i = 0; i < 25; ++i) long_prompt += "Once upon a time there was a little girl. ";
  TestConnection prefill;
  ASSERT_TRUE(prefill.Connect(port_));
  ASSERT_TRUE(prefill.Send(endless(false, long_prompt)));
  prefill.Abort();
  wait_for([&] { return Counter("llm_requests_cancelled") + Counter("llm_requests_failed") == 4; },
           "prefill request ended");
  wait_for([&] { return sched().running == 0 && sched().waiting == 0 && sched().kv_blocks_used == 0; },
           "everything freed");
  EXPECT_EQ(Counter("llm_requests_ok"), 0);
  ExpectHealthy();
}

TEST_F(HttpE2eTest, OverloadAnswers429WithRetryAfter) {
  ServiceOptions so = DefaultServiceOptions();
  so.scheduler.max_sequences = 1;
  so.scheduler.max_queue = 1;
  Start(so);
  constexpr int kClients = 10;
  std::vector<HttpReply> replies(kClients);
  std::vector<std::thread> threads;
  std::atomic<int> ready{0};
  for (int i = 0; i < kClients; ++i) {
    threads.emplace_back([&, i] {
      TestConnection c;
      if (!c.Connect(port_)) return;
      ready.fetch_add(1);
      while (ready.load() < kClients) std::this_thread::yield();
      c.Send(MakeRequest("POST", "/v1/completions",
                         json{{"model", kModel}, {"prompt", "Once upon a time"}, {"max_tokens", 200},
                              {"ignore_eos", true}, {"stream", true}, {"cache", false}}
                             .dump()));
      replies[static_cast<size_t>(i)] = c.ReadReply();
    });
  }
  for (auto& t : threads) t.join();
  int ok = 0, rejected = 0;
  for (const HttpReply& r : replies) {
    if (r.status == 200) {
      ++ok;
      EXPECT_EQ(api::testing::SseData(r.body).back(), "[DONE]");
    } else {
      ++rejected;
      ExpectJsonError(r, 429);
      EXPECT_EQ(r.Header("retry-after"), "1");
    }
  }
  EXPECT_GE(ok, 1);
  EXPECT_GE(rejected, 1);
  EXPECT_EQ(ok + rejected, kClients);
  ExpectHealthy();
}

TEST_F(HttpE2eTest, ModelAndMonitoringEndpoints) {
  Start();
  EXPECT_EQ(Get("/v1/models")["data"][0]["id"], kModel);
  json tags = Get("/api/tags");
  EXPECT_EQ(tags["models"][0]["name"], kModel);
  EXPECT_EQ(tags["models"][0]["details"]["format"], "gguf");
  EXPECT_EQ(tags["models"][0]["details"]["family"], "llama");
  json ps = Get("/api/ps");
  ASSERT_EQ(ps["models"].size(), 1u);
  EXPECT_EQ(ps["models"][0]["name"], kModel);
  json show = Post("/api/show", {{"model", kModel}});
  EXPECT_TRUE(show.contains("details"));
  EXPECT_TRUE(show.contains("model_info"));
  EXPECT_TRUE(Get("/api/version")["version"].is_string());
  Post("/v1/completions", json::parse(GreedyBody(false, false, 8)));

  json perf = Get("/api/performance/stats");
  for (const char* k : {"avg_ms", "min_ms", "max_ms", "p50_ms", "p95_ms", "p99_ms", "count", "success_rate"}) {
    EXPECT_TRUE(perf["llm_inference"].contains(k)) << k;
  }
  EXPECT_GE(perf["counters"]["llm_requests_total"].get<int64_t>(), 1);
  for (const char* k : {"cpu_percent", "memory_percent", "gpu_memory_allocated_gb", "gpu_memory_reserved_gb"}) {
    EXPECT_TRUE(perf["system"].contains(k)) << k;
  }
  EXPECT_TRUE(Get("/api/system/metrics").contains("build"));
  json stats = Get("/api/models/stats");
  EXPECT_FALSE(stats.empty());
  HttpReply metrics = Fetch(port_, "GET", "/metrics");
  EXPECT_EQ(metrics.status, 200);
  EXPECT_NE(metrics.body.find("jarvis_"), std::string::npos);
  EXPECT_NE(metrics.body.find("jarvis_http_responses_total"), std::string::npos);

  Post("/api/models/unload", {{"model", kModel}});
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (!Get("/api/ps")["models"].empty()) {
    ASSERT_LT(std::chrono::steady_clock::now(), deadline);
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  json load = Post("/api/models/load", {{"model", kModel}, {"keep_alive", "10m"}, {"pin", true}});
  EXPECT_EQ(load["status"], "loaded");
  EXPECT_EQ(Get("/api/ps")["models"].size(), 1u);
  ExpectJsonError(Fetch(port_, "POST", "/api/models/load", R"({"model":"no-such-model"})"), 404);
}

TEST_F(HttpE2eTest, ClientMistakesGetJson4xxAndServerStaysHealthy) {
  api::ServerOptions o;
  o.api_keys = {"test-key"};
  Start(DefaultServiceOptions(), o);
  const std::string auth = "Authorization: Bearer test-key";
  auto post = [&](const std::string& path, const std::string& body) {
    return Fetch(port_, "POST", path, body, {auth});
  };
  ExpectJsonError(post("/v1/completions", "{\"prompt\": \"x\""), 400);
  ExpectJsonError(post("/v1/completions", R"({"prompt":"x","max_tokens":"ten"})"), 400);
  ExpectJsonError(post("/v1/chat/completions", R"({"messages":"hi"})"), 400);
  ExpectJsonError(post("/v1/chat/completions", R"({"messages":[{"role":"user","content":"x"}],"n":17})"), 400);
  HttpReply ollama = post("/api/generate", R"({"prompt":"x","options":{"top_k":"few"}})");
  EXPECT_EQ(ollama.status, 400);
  EXPECT_TRUE(json::parse(ollama.body)["error"].is_string()) << ollama.body;  // Ollama's error shape
  ExpectJsonError(post("/v1/completions", R"({"model":"no-such-model","prompt":"x"})"), 404);
  ExpectJsonError(Fetch(port_, "GET", "/nope", "", {auth}), 404);
  ExpectJsonError(Fetch(port_, "DELETE", "/v1/models", "", {auth}), 405);
  ExpectJsonError(Fetch(port_, "GET", "/v1/models"), 401);
  ExpectJsonError(Fetch(port_, "GET", "/v1/models", "", {"Authorization: Bearer nope"}), 401);
  TestConnection big;
  ASSERT_TRUE(big.Connect(port_));
  ASSERT_TRUE(big.Send("POST /v1/completions HTTP/1.1\r\nHost: x\r\n" + auth +
                       "\r\nContent-Type: application/json\r\nContent-Length: 9437184\r\n\r\n"));
  ExpectJsonError(big.ReadReply(), 413);
  EXPECT_EQ(Fetch(port_, "GET", "/health").status, 200);  // open without the key
  HttpReply ok = post("/v1/completions", GreedyBody(false, true, 8));
  EXPECT_EQ(ok.status, 200) << ok.body;
}

TEST_F(HttpE2eTest, GracefulShutdownLetsARunningStreamFinish) {
  Start();
  TestConnection c;
  ASSERT_TRUE(c.Connect(port_));
  ASSERT_TRUE(c.Send(MakeRequest("POST", "/v1/completions", GreedyBody(true))));
  HttpReply head;
  ASSERT_TRUE(c.ReadHead(&head));
  server_->BeginShutdown();
  std::thread stopper([&] {
    service_->Shutdown(std::chrono::seconds(10));
    server_->Stop(std::chrono::seconds(2));
  });
  std::string body;
  while (auto chunk = c.ReadChunk()) body += *chunk;
  stopper.join();
  EXPECT_EQ(SseText(body), RunText());
  EXPECT_EQ(api::testing::SseData(body).back(), "[DONE]");
  TestConnection late;
  EXPECT_FALSE(late.Connect(port_));  // no longer listening
  server_.reset();
}

}  // namespace
}  // namespace jarvis

namespace jarvis {
namespace {

// /api/show gives Ollama's flat, typed model_info keys from the GGUF.
TEST_F(HttpE2eTest, ShowHasOllamaModelInfo) {
  Start();
  json show = Post("/api/show", {{"model", kModel}});
  const json& info = show["model_info"];
  EXPECT_EQ(info["general.architecture"], "llama");
  EXPECT_TRUE(info["llama.context_length"].is_number_integer()) << info.dump();
  EXPECT_TRUE(info["llama.embedding_length"].is_number_integer());
  EXPECT_TRUE(info["tokenizer.ggml.tokens"].is_null());  // big arrays only with verbose, as Ollama
  EXPECT_GT(info["general.parameter_count"].get<int64_t>(), 0);
  EXPECT_TRUE(show["parameters"].is_string());
  HttpReply missing = Fetch(port_, "POST", "/api/show", R"({"model":"no-such-model"})");
  EXPECT_EQ(missing.status, 404);
  EXPECT_TRUE(json::parse(missing.body)["error"].is_string()) << missing.body;
}

// n > 1: one prefill. The further choices attach the prompt's full KV blocks
// that choice 0 computed and compute only its last, partial block.
TEST_F(HttpE2eTest, SeveralChoicesShareThePromptsKvBlocks) {
  Start();
  auto stats = [&] { return service_->GetModel(kModel)->scheduler; };
  const SchedulerStats before = stats();
  constexpr int kChoices = 4;
  json r = Post("/v1/chat/completions",
                {{"model", kModel},
                 {"messages", {{{"role", "user"}, {"content", "Once upon a time there was a little girl named Lily who "
                                                              "loved to play in the park with her dog and her friends"}}}},
                 {"n", kChoices}, {"max_tokens", 8}, {"seed", 11}, {"temperature", 0.9}});
  ASSERT_EQ(r["choices"].size(), static_cast<size_t>(kChoices)) << r.dump();
  const int64_t prompt = r["usage"]["prompt_tokens"].get<int64_t>();
  ASSERT_GT(prompt, 32);
  const SchedulerStats after = stats();
  const int64_t computed = after.prompt_tokens_computed - before.prompt_tokens_computed;
  const int64_t reused = after.prompt_tokens_cached - before.prompt_tokens_cached;
  const int64_t tail = (prompt - 1) % 16 + 1;  // the last, partial block (block size 16)
  EXPECT_EQ(computed, prompt + (kChoices - 1) * tail) << "prompt " << prompt;
  EXPECT_EQ(reused, (kChoices - 1) * (prompt - tail));
  std::printf("n=%d, prompt %lld tokens: %lld prompt tokens computed (1 prefill + %lld per further choice), %lld reused\n",
              kChoices, static_cast<long long>(prompt), static_cast<long long>(computed), static_cast<long long>(tail),
              static_cast<long long>(reused));
  // Different seeds: the choices are sampled independently.
  std::set<std::string> texts;
  for (const json& c : r["choices"]) texts.insert(c["message"]["content"].get<std::string>());
  EXPECT_GT(texts.size(), 1u);
}

}  // namespace
}  // namespace jarvis
