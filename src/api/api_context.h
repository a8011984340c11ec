// ApiContext: what every handler shares: the backend, the worker pool for
// blocking backend calls, readiness and HTTP counters.
//
// Thread safety: all members are safe to use from any thread.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>

#include "api/api_backend.h"
#include "api/model_chat_traits.h"
#include "api/server_options.h"

namespace jarvis::api {

// Counters of the HTTP layer itself, written to /metrics after the backend's.
class HttpCounters {
 public:
  void CountResponse(int status);
  void WritePrometheus(PrometheusWriter& out) const;

  std::atomic<int64_t> open_connections{0};
  std::atomic<int64_t> active_exchanges{0};   // requests received and not yet fully answered
  std::atomic<int64_t> client_disconnects{0}; // clients gone before their response ended
  std::atomic<int64_t> dropped_slow{0};       // connections closed by a read/write timeout
  std::atomic<int64_t> handler_exceptions{0}; // exceptions caught on an I/O or worker thread (bugs)

 private:
  std::array<std::atomic<int64_t>, 6> by_class_{};  // 1xx..5xx (index 1..5)
};

class ApiContext {
 public:
  using BlockingRunner = std::function<void(std::function<void()>)>;
  ApiContext(ApiBackend& backend_ref, const ServerOptions& options_ref, BlockingRunner run_blocking)
      : backend(backend_ref), options(options_ref), run_blocking_(std::move(run_blocking)) {}

  // Runs `fn` on the worker pool (blocking backend calls go there).
  void RunBlocking(std::function<void()> fn) const { run_blocking_(std::move(fn)); }
  uint64_t NextId() { return next_id_.fetch_add(1) + 1; }

  ApiBackend& backend;
  const ServerOptions& options;
  HttpCounters counters;
  ChatTraitsCache chat_traits;        // per model: tool-call format, reasoning
  std::atomic<bool> ready{false};     // set once startup (model preload) is done
  std::atomic<bool> terminating{false};  // signal received: readiness fails, work goes on (drain delay)
  std::atomic<bool> draining{false};  // shutting down: no new work
  const std::chrono::system_clock::time_point started = std::chrono::system_clock::now();

 private:
  BlockingRunner run_blocking_;
  std::atomic<uint64_t> next_id_{0};
};

}  // namespace jarvis::api
