#include <string>

#include "api/api_context.h"

namespace jarvis::api {

void HttpCounters::CountResponse(int status) {
  const int cls = status / 100;
  if (cls >= 1 && cls <= 5) by_class_[static_cast<size_t>(cls)].fetch_add(1, std::memory_order_relaxed);
}

void HttpCounters::WritePrometheus(PrometheusWriter& out) const {
  constexpr const char* kResponses = "jarvis_http_responses_total";
  out.Family(kResponses, PrometheusType::kCounter, "HTTP responses sent, by status class.");
  for (size_t cls = 1; cls <= 5; ++cls) {
    out.Sample(kResponses, {{"code", std::to_string(cls) + "xx"}}, static_cast<double>(by_class_[cls].load()));
  }
  struct One {
    const char* name;
    PrometheusType type;
    const char* help;
    const std::atomic<int64_t>& value;
  };
  const One ones[] = {
      {"jarvis_http_open_connections", PrometheusType::kGauge, "Open client connections.", open_connections},
      {"jarvis_http_active_requests", PrometheusType::kGauge, "Requests received and not yet fully answered.",
       active_exchanges},
      {"jarvis_http_client_disconnects_total", PrometheusType::kCounter,
       "Clients that left before their response ended.", client_disconnects},
      {"jarvis_http_timeouts_total", PrometheusType::kCounter, "Connections dropped by a read or write timeout.",
       dropped_slow},
      {"jarvis_http_handler_exceptions_total", PrometheusType::kCounter,
       "Exceptions caught on I/O or worker threads (each a bug).", handler_exceptions},
  };
  for (const One& o : ones) {
    out.Family(o.name, o.type, o.help);
    out.Sample(o.name, {}, static_cast<double>(o.value.load()));
  }
}

}  // namespace jarvis::api
