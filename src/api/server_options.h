// ServerOptions: the knobs of the HTTP server (`jarvis serve` flags).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace jarvis::api {

// Why a ceiling on max_header_bytes: Beast stores a field's name and value
// lengths in 16 bits and throws std::length_error past 64 KiB. Every byte
// the parser holds unconsumed (request line, headers, a chunk header, the
// trailer) must fit in 2 * max_header_bytes (the read buffer's cap), so with
// this ceiling no field can ever reach that size; a longer one is 431.
inline constexpr uint32_t kMaxHeaderBytesLimit = 28u << 10;

struct ServerOptions {
  std::string host = "127.0.0.1";  // loopback unless asked otherwise
  uint16_t port = 5050;            // 0: an ephemeral port (tests)
  int32_t io_threads = 2;          // socket I/O; never blocked by generation
  int32_t worker_threads = 2;      // blocking backend calls (submit, model loads)
  // Non-empty: every route but /health and the dashboard's static files needs
  // "Authorization: Bearer KEY" with one of these keys (constant-time compare).
  std::vector<std::string> api_keys;
  std::string cors_origin;         // non-empty: Access-Control-Allow-Origin value ("*" or an origin)
  uint64_t max_body_bytes = 8u << 20;                  // larger bodies: 413
  uint32_t max_header_bytes = 16u << 10;               // larger headers: 431; at most kMaxHeaderBytesLimit
  uint32_t max_target_bytes = 8u << 10;                // longer request targets (path + query): 414
  uint32_t max_chunks = 65536;                         // more chunks in a chunked body: 413
  std::chrono::milliseconds idle_timeout{30000};       // keep-alive idle + receiving a request's headers
  std::chrono::milliseconds request_timeout{60000};    // receiving a body; sending each response write
  int32_t max_connections = 4096;                      // beyond: accepted and closed at once
};

}  // namespace jarvis::api
