// Server: the HTTP server of `jarvis serve` (OpenAI- and Ollama-compatible
// APIs, the monitoring API, /metrics, the web dashboard at /), run inside a
// program on top of a Runtime, so that the program and HTTP clients share the
// loaded models, the response cache and the monitor.
//
//   auto server = jarvis::Server::Start(runtime, jarvis::ServerOptions{});
//   std::cout << (*server)->url();                // "http://127.0.0.1:5050"
//   ...
//   (*server)->Stop(std::chrono::seconds(5));     // graceful
//
// Thread safety: every method may be called from any thread. The runtime
// must outlive the server.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "jarvis/status.h"

namespace jarvis {

class Runtime;

// `jarvis serve`'s HTTP flags (their defaults are these).
struct ServerOptions {
  std::string host = "127.0.0.1";  // loopback unless asked otherwise
  uint16_t port = 5050;            // 0: any free port (see port())
  int32_t io_threads = 2;          // socket I/O threads
  // Non-empty: "Authorization: Bearer KEY" with any of these keys on all
  // routes but /health and /livez (compared in constant time).
  std::vector<std::string> api_keys;
  std::string cors_origin;         // non-empty: Access-Control-Allow-Origin value
  uint64_t max_body_bytes = uint64_t{8} << 20;     // larger request bodies: 413
  std::chrono::milliseconds idle_timeout{30000};   // idle keep-alive connection / request headers
  std::chrono::milliseconds request_timeout{60000};  // receiving a body, sending each write
};

class Server {
 public:
  // Binds and starts serving (ready at once). InvalidArgument for a bad
  // address, IoError when the port cannot be bound.
  static Result<std::unique_ptr<Server>> Start(Runtime& runtime, const ServerOptions& options);
  // Stop(0) if not done yet.
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  std::string url() const;  // "http://127.0.0.1:5050"
  uint16_t port() const;    // the bound port
  // Stops accepting, lets responses in flight finish for up to `grace`,
  // closes the rest. Idempotent. Does not shut the runtime down.
  void Stop(std::chrono::milliseconds grace);

 private:
  class Impl;
  explicit Server(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace jarvis
