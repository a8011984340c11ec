// `jarvis serve` as a process: configured through JARVIS_* environment
// variables, prints where it listens, serves, and exits 0 on SIGTERM after a
// graceful shutdown.
#include <gtest/gtest.h>

#include <string>

#include <nlohmann/json.hpp>

#include "api/http_test_client.h"
#include "support/serve_process.h"
#include "support/test_paths.h"

namespace jarvis {
namespace {

using api::testing::Fetch;
using api::testing::HttpReply;
using test::ServeProcess;
using test::WaitHealthy;

TEST(ServeBinary, EnvConfiguredServeAnswersAndExitsCleanlyOnSigterm) {
  ServeProcess p;
  const uint16_t port = p.Start({"JARVIS_PORT=0", "JARVIS_MODEL=" + test::StoriesModelPath(), "JARVIS_API_KEY=k1",
                                 "JARVIS_PARALLEL=2", "JARVIS_THREADS=1"},
                                {});
  ASSERT_NE(port, 0);
  ASSERT_TRUE(WaitHealthy(port));
  EXPECT_EQ(Fetch(port, "GET", "/v1/models").status, 401);  // JARVIS_API_KEY applied
  HttpReply models = Fetch(port, "GET", "/v1/models", "", {"Authorization: Bearer k1"});
  ASSERT_EQ(models.status, 200);
  EXPECT_EQ(nlohmann::json::parse(models.body)["data"][0]["id"], "stories260K");
  HttpReply gen = Fetch(port, "POST", "/v1/completions",
                        R"({"prompt":"Once upon a time","max_tokens":8,"temperature":0})",
                        {"Authorization: Bearer k1"});
  EXPECT_EQ(gen.status, 200) << gen.body;
  EXPECT_EQ(p.Signal(SIGTERM), 0);
}

TEST(ServeBinary, FlagsOverrideAndSigintStops) {
  ServeProcess p;
  const uint16_t port =
      p.Start({"JARVIS_PORT=1"}, {"--port", "0", "--model", test::StoriesModelPath(), "--cors-origin", "*",
                                  "--max-body", "1KiB", "--threads", "1"});
  ASSERT_NE(port, 0);
  ASSERT_TRUE(WaitHealthy(port));
  HttpReply r = Fetch(port, "GET", "/api/tags");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.Header("access-control-allow-origin"), "*");
  EXPECT_EQ(Fetch(port, "POST", "/v1/completions", "{\"prompt\":\"" + std::string(2000, 'a') + "\"}").status, 413);
  EXPECT_EQ(p.Signal(SIGINT), 0);
}

}  // namespace
}  // namespace jarvis
