// `jarvis serve` as a process: configured through JARVIS_* environment
// variables, prints where it listens, serves, and exits 0 on SIGTERM after a
// graceful shutdown.
#include <gtest/gtest.h>

#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "api/http_test_client.h"
#include "support/test_paths.h"

extern char** environ;

namespace jarvis {
namespace {

using api::testing::Fetch;
using api::testing::HttpReply;

class ServeProcess {
 public:
  // Starts `jarvis serve` with extra environment variables and arguments;
  // returns the port from its "listening on" line (0 on failure).
  uint16_t Start(const std::vector<std::string>& env_extra, const std::vector<std::string>& args) {
    int fds[2];
    if (pipe(fds) != 0) return 0;
    std::vector<std::string> env_strings;
    for (char** e = environ; *e != nullptr; ++e) env_strings.emplace_back(*e);
    for (const auto& e : env_extra) env_strings.push_back(e);
    std::vector<char*> envp;
    for (auto& e : env_strings) envp.push_back(e.data());
    envp.push_back(nullptr);
    std::vector<std::string> argv_strings = {JARVIS_BINARY, "serve"};
    for (const auto& a : args) argv_strings.push_back(a);
    std::vector<char*> argv;
    for (auto& a : argv_strings) argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);
    posix_spawn_file_actions_addclose(&actions, fds[0]);
    const int rc = posix_spawn(&pid_, JARVIS_BINARY, &actions, nullptr, argv.data(), envp.data());
    posix_spawn_file_actions_destroy(&actions);
    close(fds[1]);
    if (rc != 0) {
      close(fds[0]);
      pid_ = -1;
      return 0;
    }
    out_ = fdopen(fds[0], "r");
    char line[512];
    while (out_ != nullptr && fgets(line, sizeof(line), out_) != nullptr) {
      const std::string s = line;
      const size_t at = s.find("listening on http://");
      if (at == std::string::npos) continue;
      const size_t colon = s.rfind(':');
      return static_cast<uint16_t>(std::stoi(s.substr(colon + 1)));
    }
    return 0;
  }
  // Sends `sig` and returns the exit status (-1: did not exit within 20 s).
  int Signal(int sig) {
    if (pid_ <= 0) return -1;
    kill(pid_, sig);
    for (int i = 0; i < 2000; ++i) {
      int status = 0;
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return -1;
  }
  ~ServeProcess() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
    if (out_ != nullptr) fclose(out_);
  }

 private:
  pid_t pid_ = -1;
  FILE* out_ = nullptr;
};

bool WaitHealthy(uint16_t port) {
  for (int i = 0; i < 500; ++i) {
    if (Fetch(port, "GET", "/health").status == 200) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

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
