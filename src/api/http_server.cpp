#include "api/http_server.h"

#include <list>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>

#include <spdlog/spdlog.h>

#include "api/api.h"
#include "api/api_context.h"
#include "api/http_session.h"

namespace jarvis::api {

namespace net = boost::asio;
using tcp = net::ip::tcp;

class HttpServer::Impl {
 public:
  Impl(const ServerOptions& options, ApiBackend& backend)
      : options_(options),
        io_(options.io_threads),
        workers_(static_cast<size_t>(options.worker_threads)),
        ctx_(backend, options_,
             [this](std::function<void()> fn) {
               net::post(workers_, [this, fn = std::move(fn)] { RunGuarded(fn, "worker"); });
             }),
        api_(ctx_),
        acceptor_(net::make_strand(io_)),
        retry_timer_(acceptor_.get_executor()),
        guard_(net::make_work_guard(io_)) {}

  Status Bind() {
    boost::system::error_code ec;
    const auto address = net::ip::make_address(options_.host, ec);
    if (ec) return Status::InvalidArgument("invalid --host '" + options_.host + "': " + ec.message());
    const tcp::endpoint endpoint(address, options_.port);
    acceptor_.open(endpoint.protocol(), ec);
    if (!ec) acceptor_.set_option(net::socket_base::reuse_address(true), ec);
    if (!ec) acceptor_.bind(endpoint, ec);
    if (!ec) acceptor_.listen(net::socket_base::max_listen_connections, ec);
    if (ec) {
      return Status::IoError("cannot listen on " + options_.host + ":" + std::to_string(options_.port) + ": " +
                             ec.message());
    }
    port_ = acceptor_.local_endpoint().port();
    return Status::Ok();
  }

  // An exception escaping a handler would otherwise end the thread (and the
  // process): log and count it; the handler is gone, and with it whatever
  // connection it held (closed by its session's destructor).
  bool RunGuarded(const std::function<void()>& fn, const char* where) {
    try {
      fn();
      return true;
    } catch (const std::exception& e) {
      ctx_.counters.handler_exceptions.fetch_add(1);
      spdlog::error("exception on an HTTP {} thread (connection dropped): {}", where, e.what());
    } catch (...) {
      ctx_.counters.handler_exceptions.fetch_add(1);
      spdlog::error("unknown exception on an HTTP {} thread (connection dropped)", where);
    }
    return false;
  }

  void Run() {
    Accept();
    for (int i = 0; i < std::max(1, options_.io_threads); ++i) {
      threads_.emplace_back([this] {
        // io_context::run() may be called again after a handler threw.
        while (!RunGuarded([this] { io_.run(); }, "I/O")) {
        }
      });
    }
  }

  void Accept() {
    acceptor_.async_accept(net::make_strand(io_), [this](boost::system::error_code ec, tcp::socket socket) {
      if (stopping_accept_.load()) return;
      if (ec) {
        if (ec == net::error::operation_aborted) return;
        // Out of descriptors and the like: try again shortly instead of spinning.
        retry_timer_.expires_after(std::chrono::milliseconds(50));
        retry_timer_.async_wait([this](boost::system::error_code) {
          if (!stopping_accept_.load()) Accept();
        });
        return;
      }
      if (ctx_.counters.open_connections.load() >= options_.max_connections) {
        boost::system::error_code ignored;
        socket.close(ignored);
      } else {
        socket.set_option(tcp::no_delay(true), ec);
        auto session = std::make_shared<HttpSession>(std::move(socket), api_, ctx_);
        Track(session);
        session->Start();
      }
      Accept();
    });
  }

  void Track(const std::shared_ptr<HttpSession>& session) {
    std::lock_guard<std::mutex> lock(mu_);
    if (sessions_.size() > 64 && sessions_.size() > 2 * static_cast<size_t>(ctx_.counters.open_connections.load())) {
      sessions_.remove_if([](const std::weak_ptr<HttpSession>& w) { return w.expired(); });
    }
    sessions_.push_back(session);
  }

  template <typename Fn>
  void ForEachSession(Fn fn) {
    std::vector<std::shared_ptr<HttpSession>> live;
    {
      std::lock_guard<std::mutex> lock(mu_);
      for (auto& w : sessions_) {
        if (auto s = w.lock()) live.push_back(std::move(s));
      }
    }
    for (auto& s : live) fn(*s);
  }

  void BeginShutdown() {
    if (ctx_.draining.exchange(true)) return;
    stopping_accept_.store(true);
    net::post(acceptor_.get_executor(), [this] {
      boost::system::error_code ignored;
      acceptor_.close(ignored);
      retry_timer_.cancel();
    });
    ForEachSession([](HttpSession& s) { s.CloseWhenIdle(); });
  }

  void Stop(std::chrono::milliseconds grace) {
    std::lock_guard<std::mutex> stop_lock(stop_mu_);
    if (stopped_) return;
    BeginShutdown();
    const auto deadline = std::chrono::steady_clock::now() + grace;
    while (ctx_.counters.active_exchanges.load() > 0 && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    ForEachSession([](HttpSession& s) { s.ForceClose(); });
    // A generation keeps its connection object alive until the backend
    // completes it (cancelled by the closes above); wait for every connection
    // to be gone while the I/O threads still run, then stop everything.
    const auto settle = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (ctx_.counters.open_connections.load() > 0 && std::chrono::steady_clock::now() < settle) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    workers_.join();
    guard_.reset();
    io_.stop();
    for (auto& t : threads_) t.join();
    threads_.clear();
    stopped_ = true;
  }

  const ServerOptions options_;
  net::io_context io_;
  net::thread_pool workers_;
  ApiContext ctx_;
  Api api_;
  tcp::acceptor acceptor_;
  net::steady_timer retry_timer_;
  net::executor_work_guard<net::io_context::executor_type> guard_;
  std::vector<std::thread> threads_;
  std::atomic<bool> stopping_accept_{false};
  uint16_t port_ = 0;

  std::mutex mu_;
  std::list<std::weak_ptr<HttpSession>> sessions_;  // guarded by mu_
  std::mutex stop_mu_;
  bool stopped_ = false;  // guarded by stop_mu_
};

Result<std::unique_ptr<HttpServer>> HttpServer::Start(const ServerOptions& options, ApiBackend& backend) {
  if (options.io_threads < 1 || options.worker_threads < 1) {
    return Status::InvalidArgument("io_threads and worker_threads must be >= 1");
  }
  if (options.max_header_bytes < 1024 || options.max_header_bytes > kMaxHeaderBytesLimit) {
    return Status::InvalidArgument("max_header_bytes must be in 1024.." + std::to_string(kMaxHeaderBytesLimit));
  }
  auto impl = std::make_unique<Impl>(options, backend);
  JARVIS_RETURN_IF_ERROR(impl->Bind());
  impl->Run();
  return std::unique_ptr<HttpServer>(new HttpServer(std::move(impl)));
}

HttpServer::HttpServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
HttpServer::~HttpServer() { Stop(std::chrono::milliseconds(0)); }

uint16_t HttpServer::port() const { return impl_->port_; }
std::string HttpServer::url() const {
  const std::string& host = impl_->options_.host;
  const bool v6 = host.find(':') != std::string::npos;
  return "http://" + (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port());
}
void HttpServer::SetReady(bool ready) { impl_->ctx_.ready.store(ready); }
void HttpServer::SetTerminating() { impl_->ctx_.terminating.store(true); }
void HttpServer::BeginShutdown() { impl_->BeginShutdown(); }
void HttpServer::Stop(std::chrono::milliseconds grace) { impl_->Stop(grace); }
int64_t HttpServer::active_requests() const { return impl_->ctx_.counters.active_exchanges.load(); }
int64_t HttpServer::open_connections() const { return impl_->ctx_.counters.open_connections.load(); }

}  // namespace jarvis::api
