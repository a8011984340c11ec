#include <string>

#include "api/api_context.h"

namespace jarvis::api {

void HttpCounters::CountResponse(int status) {
  const int cls = status / 100;
  if (cls >= 1 && cls <= 5) by_class_[static_cast<size_t>(cls)].fetch_add(1, std::memory_order_relaxed);
}

std::string HttpCounters::PrometheusText() const {
  std::string out;
  out += "# HELP jarvis_http_responses_total HTTP responses sent, by status class.\n";
  out += "# TYPE jarvis_http_responses_total counter\n";
  for (size_t cls = 1; cls <= 5; ++cls) {
    out += "jarvis_http_responses_total{code=\"" + std::to_string(cls) + "xx\"} " +
           std::to_string(by_class_[cls].load()) + "\n";
  }
  out += "# HELP jarvis_http_open_connections Open client connections.\n";
  out += "# TYPE jarvis_http_open_connections gauge\n";
  out += "jarvis_http_open_connections " + std::to_string(open_connections.load()) + "\n";
  out += "# HELP jarvis_http_active_requests Requests received and not yet fully answered.\n";
  out += "# TYPE jarvis_http_active_requests gauge\n";
  out += "jarvis_http_active_requests " + std::to_string(active_exchanges.load()) + "\n";
  out += "# HELP jarvis_http_client_disconnects_total Clients that left before their response ended.\n";
  out += "# TYPE jarvis_http_client_disconnects_total counter\n";
  out += "jarvis_http_client_disconnects_total " + std::to_string(client_disconnects.load()) + "\n";
  out += "# HELP jarvis_http_timeouts_total Connections dropped by a read or write timeout.\n";
  out += "# TYPE jarvis_http_timeouts_total counter\n";
  out += "jarvis_http_timeouts_total " + std::to_string(dropped_slow.load()) + "\n";
  out += "# HELP jarvis_http_handler_exceptions_total Exceptions caught on I/O or worker threads (each a bug).\n";
  out += "# TYPE jarvis_http_handler_exceptions_total counter\n";
  out += "jarvis_http_handler_exceptions_total " + std::to_string(handler_exceptions.load()) + "\n";
  return out;
}

}  // namespace jarvis::api
