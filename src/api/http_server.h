// HttpServer: the `jarvis serve` HTTP server. Accepts connections on a small,
// fixed set of I/O threads (no thread per connection); each connection is an
// HttpSession on its own strand. Blocking backend calls (submits, model loads)
// run on a separate worker pool; tokens and completions arrive on the
// scheduler's thread and are posted to the connection's strand.
//
// Lifecycle: Start() binds and serves at once (/health says "loading" until
// SetReady(true)). Shutdown, in order: optionally SetTerminating() (/health
// 503, everything else as before), BeginShutdown() (stop accepting; /health
// 503; new requests 503), the caller lets the backend drain (e.g.
// Service::Shutdown(grace)), then Stop(grace) (waits for responses in flight,
// closes every connection, cancels what is left, joins the threads).
//
// Thread safety: all methods may be called from any thread. The backend must
// outlive the server.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "api/api_backend.h"
#include "api/server_options.h"
#include "jarvis/status.h"

namespace jarvis::api {

class HttpServer {
 public:
  // Binds host:port (port 0: ephemeral) and starts serving. InvalidArgument
  // for a bad address, IoError when the port cannot be bound.
  static Result<std::unique_ptr<HttpServer>> Start(const ServerOptions& options, ApiBackend& backend);
  ~HttpServer();  // Stop(0) unless stopped
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  uint16_t port() const;
  std::string url() const;  // "http://127.0.0.1:5050"

  void SetReady(bool ready);
  // Readiness (/health) fails from now on while everything else is served as
  // before: the drain delay between a termination signal and BeginShutdown().
  void SetTerminating();
  void BeginShutdown();
  // Waits up to `grace` for responses in flight, then closes every connection
  // (cancelling their generations) and joins all threads. Idempotent.
  void Stop(std::chrono::milliseconds grace);

  // Requests received and not yet fully answered.
  int64_t active_requests() const;
  int64_t open_connections() const;

 private:
  class Impl;
  explicit HttpServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace jarvis::api
