// `jarvis serve` as a child process for end-to-end tests: started with extra
// environment variables and arguments, its port read from the "listening on"
// line, stopped by a signal (killed on destruction). Header-only; needs
// JARVIS_BINARY (tests/CMakeLists.txt defines it).
#pragma once

#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "api/http_test_client.h"

extern char** environ;

namespace jarvis::test {

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

inline bool WaitHealthy(uint16_t port) {
  for (int i = 0; i < 500; ++i) {
    if (api::testing::Fetch(port, "GET", "/health").status == 200) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

}  // namespace jarvis::test
