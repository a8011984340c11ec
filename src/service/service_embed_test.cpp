// Service embeddings on stories260K (a decoder embedder): the response cache
// answers a repeated request with the same vectors, and the counters, the
// latency timer and the monitoring documents count embedding requests.
#include <gtest/gtest.h>

#include <string>

#include "service/service.h"
#include "support/test_paths.h"
#include "util/perf_monitor.h"

namespace jarvis {
namespace {

ServiceOptions Options() {
  ServiceOptions o;
  o.model_paths = {test::StoriesModelPath()};
  o.scheduler.n_threads = 1;
  o.scheduler.n_ctx = 256;
  o.scheduler.max_sequences = 2;
  return o;
}

EmbedResult EmbedOne(Service& s, EmbedRequest r) {
  auto h = s.SubmitEmbed(std::move(r));
  EXPECT_TRUE(h.ok()) << h.status().ToString();
  return h.ok() ? h->Wait() : EmbedResult{};
}

EmbedRequest Texts(std::vector<std::string> texts) {
  EmbedRequest r;
  r.texts = std::move(texts);
  return r;
}

TEST(ServiceEmbedTest, RepeatedRequestComesFromTheCacheWithTheSameVectors) {
  auto made = Service::Create(Options());
  ASSERT_TRUE(made.ok()) << made.status().ToString();
  Service& svc = **made;
  const EmbedResult first = EmbedOne(svc, Texts({"Once upon a time", "a cat"}));
  ASSERT_TRUE(first.error.ok()) << first.error.ToString();
  ASSERT_EQ(first.embeddings.size(), 2u);
  EXPECT_FALSE(first.from_response_cache);
  bool hook_saw_hit = false;
  EmbedRequest again = Texts({"Once upon a time", "a cat"});
  again.on_complete = [&](const EmbedResult& r) { hook_saw_hit = r.from_response_cache; };
  const EmbedResult second = EmbedOne(svc, again);
  EXPECT_TRUE(second.from_response_cache);
  EXPECT_TRUE(hook_saw_hit);
  EXPECT_EQ(second.embeddings, first.embeddings);
  EXPECT_EQ(second.prompt_tokens, first.prompt_tokens);
  // Another dimensions, truncate or input order is another entry.
  EmbedRequest shorter = Texts({"Once upon a time", "a cat"});
  shorter.dimensions = 8;
  const EmbedResult cut = EmbedOne(svc, shorter);
  EXPECT_FALSE(cut.from_response_cache);
  ASSERT_EQ(cut.embeddings[0].size(), 8u);
  EmbedRequest swapped = Texts({"a cat", "Once upon a time"});
  const EmbedResult other = EmbedOne(svc, swapped);
  EXPECT_FALSE(other.from_response_cache);
  EXPECT_EQ(other.embeddings[0], first.embeddings[1]);
  EmbedRequest opted_out = Texts({"Once upon a time", "a cat"});
  opted_out.use_response_cache = false;
  EXPECT_FALSE(EmbedOne(svc, opted_out).from_response_cache);

  PerfMonitor& m = svc.monitor();
  EXPECT_EQ(m.CounterValue("embedding_requests_total"), 5);
  EXPECT_EQ(m.CounterValue("embedding_requests_ok"), 5);
  EXPECT_EQ(m.CounterValue("llm_cache_hits"), 1);
  EXPECT_EQ(m.CounterValue("embedding_inputs_total"), 8);  // the hit computed nothing
  EXPECT_EQ(m.CounterValue("llm_requests_total"), 0);      // generation counters untouched
}

TEST(ServiceEmbedTest, ErrorsAndMonitoringDocuments) {
  auto made = Service::Create(Options());
  ASSERT_TRUE(made.ok());
  Service& svc = **made;
  EmbedRequest unknown = Texts({"x"});
  unknown.model = "nope";
  EXPECT_EQ(svc.SubmitEmbed(unknown).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(svc.SubmitEmbed(Texts({""})).status().code(), StatusCode::kInvalidArgument);
  EmbedRequest too_long = Texts({std::string(4000, 'a') + " end"});
  too_long.truncate = false;
  const auto refused = svc.SubmitEmbed(too_long);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("context holds 256"), std::string::npos) << refused.status().message();
  too_long.truncate = true;
  const EmbedResult cut = EmbedOne(svc, too_long);
  ASSERT_TRUE(cut.error.ok()) << cut.error.ToString();
  EXPECT_EQ(cut.prompt_tokens, 256);

  EXPECT_EQ(svc.monitor().CounterValue("embedding_requests_failed"), 3);
  const nlohmann::json perf = svc.PerformanceStats();
  ASSERT_TRUE(perf.contains("embedding_request"));
  EXPECT_EQ(perf["embedding_request"]["count"], 1);
  EXPECT_EQ(perf["counters"]["embedding_tokens_total"], 256);
  EXPECT_EQ(perf["counters"]["embedding_requests_ok"], 1);
  EXPECT_EQ(perf["gauges"]["waiting_embedding_requests"], 0);
  const nlohmann::json models = svc.ModelsStats();
  ASSERT_EQ(models["loaded"].size(), 1u);
  EXPECT_EQ(models["loaded"][0]["embedding_requests"], 1);
  EXPECT_EQ(models["loaded"][0]["embedding_tokens"], 256);
  EXPECT_GE(models["loaded"][0]["embedding_batches"].get<int>(), 1);
  const std::string prom = svc.PrometheusText();
  EXPECT_NE(prom.find("jarvis_embedding_requests_total{model=\"stories260K\",outcome=\"ok\"} 1\n"), std::string::npos)
      << prom;
  EXPECT_NE(prom.find("jarvis_embedding_tokens_total{model=\"stories260K\"} 256\n"), std::string::npos);
  EXPECT_NE(prom.find("jarvis_embedding_request_duration_seconds_bucket{model=\"stories260K\",le=\"+Inf\"} 1\n"),
            std::string::npos);
  EXPECT_NE(prom.find("# TYPE jarvis_embedding_batch_seconds histogram"), std::string::npos);
}

}  // namespace
}  // namespace jarvis
