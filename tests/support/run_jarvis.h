// Runs the built `jarvis` binary from end-to-end tests and captures what it
// printed. Header-only: JARVIS_BINARY (the binary's path) is defined for the
// e2e test target by tests/CMakeLists.txt.
#pragma once

#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

namespace jarvis::test {

struct JarvisRun {
  int exit_code = -1;  // -1 if it did not exit normally
  std::string out;     // stdout
  std::string err;     // stderr
};

// 'it'\''s' style quoting for /bin/sh.
inline std::string ShellQuote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

inline std::string ReadFile(const std::filesystem::path& path) {
  std::error_code ec;
  const auto size = std::filesystem::file_size(path, ec);
  if (ec) return {};
  std::string s(static_cast<size_t>(size), '\0');
  std::ifstream in(path, std::ios::binary);
  in.read(s.data(), static_cast<std::streamsize>(s.size()));
  return s;
}

// `args` is a shell fragment appended to the binary's path (quote paths with
// ShellQuote).
inline JarvisRun RunJarvis(const std::string& args) {
  static int counter = 0;
  const std::filesystem::path err = std::filesystem::temp_directory_path() /
      ("jarvis-test-stderr-" + std::to_string(::getpid()) + "-" + std::to_string(++counter));
  const std::string cmd = ShellQuote(JARVIS_BINARY) + " " + args + " 2>" + ShellQuote(err.string());
  JarvisRun r;
  FILE* p = ::popen(cmd.c_str(), "r");
  if (p == nullptr) return r;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof(buf), p)) > 0) r.out.append(buf, n);
  const int status = ::pclose(p);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.err = ReadFile(err);
  std::filesystem::remove(err);
  return r;
}

}  // namespace jarvis::test
