// HttpRequestReader: the limits and translation of one incoming HTTP request,
// shared by HttpSession (over a socket) and the HTTP fuzz target (over bytes),
// so what is fuzzed is what is served.
//
// Limits (ServerOptions), each answered with a JSON error and a closed
// connection:
//   header bytes (request line + fields)            max_header_bytes    431
//   unconsumed bytes buffered (a chunk header with
//   its extensions, the whole trailer)               2*max_header_bytes  431
//   body bytes (declared or chunked)                 max_body_bytes      413
//   chunks in a chunked body                         max_chunks          413
//   request target (path + query)                    max_target_bytes    414
//   JSON nesting of a body (json_fields.h)           kMaxJsonDepth       400
// Why the buffer cap matters: Beast throws std::length_error for a field
// (header or trailer) past 64 KiB; with max_header_bytes <= 28 KiB
// (kMaxHeaderBytesLimit) no field can reach that size.
//
// Thread safety: one reader per connection, used on its strand.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <variant>

#include <boost/beast/core/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>

#include "api/api_error.h"
#include "api/http_types.h"
#include "api/server_options.h"

namespace jarvis::api {

class HttpRequestReader {
 public:
  using Parser = boost::beast::http::request_parser<boost::beast::http::string_body>;

  explicit HttpRequestReader(const ServerOptions& options);
  HttpRequestReader(const HttpRequestReader&) = delete;
  HttpRequestReader& operator=(const HttpRequestReader&) = delete;

  // A read buffer capped at the unconsumed-bytes limit.
  boost::beast::flat_buffer MakeBuffer() const;
  // A fresh parser for the next request, limits applied.
  Parser& Reset();
  Parser& parser() { return *parser_; }

  // What to answer for a failed read: an error, or nullopt when the
  // connection should just close (client gone, socket errors, timeouts).
  std::optional<ApiError> ErrorFor(boost::beast::error_code ec) const;
  // The parsed request as the Api sees it (moves the body out), or 414.
  // HEAD is answered as GET: `*head_only` says so.
  std::variant<ApiRequest, ApiError> TakeRequest(bool* head_only);

 private:
  const ServerOptions& options_;
  std::optional<Parser> parser_;
  uint32_t chunks_ = 0;
  bool too_many_chunks_ = false;
  // Beast keeps a reference to the chunk callback: it lives here.
  std::function<void(uint64_t, boost::beast::string_view, boost::beast::error_code&)> on_chunk_header_;
};

}  // namespace jarvis::api
