// The HTTP exchange as handlers see it: a parsed request, a whole response, and
// the ResponseSink a handler answers through (a whole response, or a stream).
// Handlers never touch sockets; HttpSession implements ResponseSink.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace jarvis::api {

using HeaderList = std::vector<std::pair<std::string, std::string>>;

struct ApiRequest {
  std::string method;  // "GET", "POST", ...
  std::string path;    // target without the query string
  std::string query;   // after '?', may be empty
  std::string body;
  HeaderList headers;  // as received

  // First header with this name (case-insensitive), or "".
  std::string_view Header(std::string_view name) const;
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  HeaderList headers;  // extra headers (Retry-After, X-Jarvis-Cache, ...)
};

// How a handler answers. Every method is thread-safe and never blocks: work is
// posted to the connection's strand. A handler calls exactly one of Send() or
// (PrepareStream(), StreamWrite()*, StreamEnd()); Send() after PrepareStream()
// is allowed as long as nothing was streamed yet (an error before the first
// byte). Calls after the client went away are ignored.
class ResponseSink {
 public:
  virtual ~ResponseSink() = default;

  virtual void Send(HttpResponse response) = 0;

  // Records the status line and headers of a stream; nothing is written until
  // the first StreamWrite() (which may be empty: "send the headers now").
  virtual void PrepareStream(std::string content_type, HeaderList headers) = 0;
  virtual void StreamWrite(std::string data) = 0;
  virtual void StreamEnd(std::string last_data) = 0;

  // `cancel` runs once if the client disconnects before the response ends
  // (at once if it already has). Also starts watching the socket for EOF.
  virtual void OnDisconnect(std::function<void()> cancel) = 0;
  // True once the client is known to be gone (any thread; cheap).
  virtual bool Disconnected() const = 0;
};

}  // namespace jarvis::api
