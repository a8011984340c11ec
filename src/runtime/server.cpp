// Server (jarvis/server.h): the HTTP server over a Runtime's service.
#include "jarvis/server.h"

#include <atomic>
#include <utility>

#include "api/api_backend.h"
#include "api/http_server.h"
#include "jarvis/runtime.h"

namespace jarvis {

class Server::Impl {
 public:
  std::unique_ptr<api::ApiBackend> backend;
  std::unique_ptr<api::HttpServer> http;  // declared last: stopped and destroyed first
  std::atomic<bool> stopped{false};
};

Result<std::unique_ptr<Server>> Server::Start(Runtime& runtime, const ServerOptions& options) {
  api::ServerOptions o;
  o.host = options.host;
  o.port = options.port;
  o.io_threads = options.io_threads;
  o.api_keys = options.api_keys;
  o.cors_origin = options.cors_origin;
  o.max_body_bytes = options.max_body_bytes;
  o.idle_timeout = options.idle_timeout;
  o.request_timeout = options.request_timeout;
  if (o.io_threads < 1) return Status::InvalidArgument("io_threads must be >= 1");
  auto impl = std::make_unique<Impl>();
  impl->backend = api::MakeServiceBackend(runtime.service());
  JARVIS_ASSIGN_OR_RETURN(impl->http, api::HttpServer::Start(o, *impl->backend));
  impl->http->SetReady(true);
  return std::unique_ptr<Server>(new Server(std::move(impl)));
}

Server::Server(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Server::~Server() {
  Stop(std::chrono::milliseconds(0));
  impl_->http.reset();
}

std::string Server::url() const { return impl_->http->url(); }
uint16_t Server::port() const { return impl_->http->port(); }

void Server::Stop(std::chrono::milliseconds grace) {
  if (impl_->stopped.exchange(true)) return;
  impl_->http->BeginShutdown();
  impl_->http->Stop(grace);
}

}  // namespace jarvis
