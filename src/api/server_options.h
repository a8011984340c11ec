// ServerOptions: the knobs of the HTTP server (`jarvis serve` flags).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace jarvis::api {

struct ServerOptions {
  std::string host = "127.0.0.1";  // loopback unless asked otherwise
  uint16_t port = 5050;            // 0: an ephemeral port (tests)
  int32_t io_threads = 2;          // socket I/O; never blocked by generation
  int32_t worker_threads = 2;      // blocking backend calls (submit, model loads)
  std::string api_key;             // non-empty: every route but /health needs "Authorization: Bearer KEY"
  std::string cors_origin;         // non-empty: Access-Control-Allow-Origin value ("*" or an origin)
  uint64_t max_body_bytes = 8u << 20;                  // larger bodies: 413
  uint32_t max_header_bytes = 16u << 10;               // larger headers: 431
  std::chrono::milliseconds idle_timeout{30000};       // keep-alive idle + receiving a request's headers
  std::chrono::milliseconds request_timeout{60000};    // receiving a body; sending each response write
  int32_t max_connections = 4096;                      // beyond: accepted and closed at once
};

}  // namespace jarvis::api
