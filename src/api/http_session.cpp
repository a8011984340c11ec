#include "api/http_session.h"

#include <algorithm>
#include <cstdio>
#include <utility>
#include <variant>

#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>

#include "api/api_error.h"

namespace jarvis::api {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;

namespace {

const std::string kContinue = "HTTP/1.1 100 Continue\r\n\r\n";

std::string ChunkOf(const std::string& data) {
  char size[20];
  std::snprintf(size, sizeof(size), "%zx\r\n", data.size());
  return size + data + "\r\n";
}

}  // namespace

HttpSession::HttpSession(tcp::socket socket, const Api& api, ApiContext& ctx)
    : stream_(std::move(socket)), reader_(ctx.options), buffer_(reader_.MakeBuffer()), api_(api), ctx_(ctx) {
  ctx_.counters.open_connections.fetch_add(1);
}

HttpSession::~HttpSession() {
  if (exchange_open_) ctx_.counters.active_exchanges.fetch_sub(1);
  ctx_.counters.open_connections.fetch_sub(1);
}

void HttpSession::Start() {
  net::dispatch(stream_.get_executor(), [self = shared_from_this()] { self->ReadHeader(); });
}

void HttpSession::CloseWhenIdle() {
  net::post(stream_.get_executor(), [self = shared_from_this()] {
    self->close_requested_ = true;
    if (self->phase_ == Phase::kReading) self->CloseNow();
  });
}

void HttpSession::ForceClose() {
  net::post(stream_.get_executor(), [self = shared_from_this()] { self->CloseNow(); });
}

// ---- ResponseSink (any thread) ---------------------------------------------

class HttpSession::Exchange final : public ResponseSink {
 public:
  Exchange(std::shared_ptr<HttpSession> session, uint64_t id) : s_(std::move(session)), id_(id) {}

  void Send(HttpResponse response) override {
    net::post(s_->stream_.get_executor(), [s = s_, id = id_, r = std::move(response)]() mutable {
      s->DoSendIf(id, std::move(r));
    });
  }
  void PrepareStream(std::string content_type, HeaderList headers) override {
    net::post(s_->stream_.get_executor(),
              [s = s_, id = id_, ct = std::move(content_type), h = std::move(headers)]() mutable {
                s->DoPrepare(id, std::move(ct), std::move(h));
              });
  }
  void StreamWrite(std::string data) override {
    net::post(s_->stream_.get_executor(),
              [s = s_, id = id_, d = std::move(data)]() mutable { s->DoStreamIf(id, std::move(d), false); });
  }
  void StreamEnd(std::string last_data) override {
    net::post(s_->stream_.get_executor(),
              [s = s_, id = id_, d = std::move(last_data)]() mutable { s->DoStreamIf(id, std::move(d), true); });
  }
  void OnDisconnect(std::function<void()> cancel) override {
    net::post(s_->stream_.get_executor(),
              [s = s_, id = id_, c = std::move(cancel)]() mutable { s->DoOnDisconnect(id, std::move(c)); });
  }
  bool Disconnected() const override { return s_->Disconnected(); }

 private:
  std::shared_ptr<HttpSession> s_;
  uint64_t id_;
};

void HttpSession::DoPrepare(uint64_t id, std::string content_type, HeaderList headers) {
  if (!Current(id) || head_sent_) return;
  stream_prepared_ = true;
  stream_content_type_ = std::move(content_type);
  stream_headers_ = std::move(headers);
}

void HttpSession::DoOnDisconnect(uint64_t id, std::function<void()> cancel) {
  if (Disconnected()) {
    if (cancel) cancel();
    return;
  }
  if (!Current(id) || response_done_) return;
  cancel_ = std::move(cancel);
  StartMonitor();
}

// ---- reading a request ----------------------------------------------------

void HttpSession::ReadHeader() {
  if (close_requested_ || ctx_.draining.load()) {
    CloseNow();
    return;
  }
  phase_ = Phase::kReading;
  auto& parser = reader_.Reset();
  stream_.expires_after(ctx_.options.idle_timeout);
  http::async_read_header(stream_, buffer_, parser,
                          [self = shared_from_this()](beast::error_code ec, size_t) { self->OnHeader(ec); });
}

void HttpSession::OnHeader(beast::error_code ec) {
  if (phase_ == Phase::kClosed) return;
  if (ec) {
    FailRead(ec);
    return;
  }
  if (reader_.parser().is_done()) {
    Dispatch();
    return;
  }
  if (beast::iequals(reader_.parser().get()[http::field::expect], "100-continue")) {
    stream_.expires_after(ctx_.options.request_timeout);
    net::async_write(stream_, net::buffer(kContinue), [self = shared_from_this()](beast::error_code wec, size_t) {
      if (self->phase_ == Phase::kClosed) return;
      if (wec) {
        self->Disconnect(wec == beast::error::timeout);
        return;
      }
      self->ReadBody();
    });
    return;
  }
  ReadBody();
}

void HttpSession::ReadBody() {
  stream_.expires_after(ctx_.options.request_timeout);
  http::async_read(stream_, buffer_, reader_.parser(),
                   [self = shared_from_this()](beast::error_code ec, size_t) { self->OnBody(ec); });
}

void HttpSession::OnBody(beast::error_code ec) {
  if (phase_ == Phase::kClosed) return;
  if (ec) {
    FailRead(ec);
    return;
  }
  Dispatch();
}

void HttpSession::FailRead(beast::error_code ec) {
  if (ec == beast::error::timeout) {
    ctx_.counters.dropped_slow.fetch_add(1);
    CloseNow();
    return;
  }
  std::optional<ApiError> error = reader_.ErrorFor(ec);
  if (!error) {
    CloseNow();  // the client went away, or a socket error
    return;
  }
  AnswerAndClose(*error);
}

void HttpSession::AnswerAndClose(const ApiError& error) {
  // Answer once, then close (the rest of the request may still be arriving).
  keep_alive_ = false;
  http10_ = false;
  head_only_ = false;
  phase_ = Phase::kHandling;
  exchange_open_ = true;
  ctx_.counters.active_exchanges.fetch_add(1);
  head_sent_ = response_done_ = stream_prepared_ = false;
  ++exchange_id_;
  DoSend(ErrorResponse(error));
}

void HttpSession::Dispatch() {
  auto taken = reader_.TakeRequest(&head_only_);
  if (auto* error = std::get_if<ApiError>(&taken)) {
    AnswerAndClose(*error);
    return;
  }
  ApiRequest request = std::move(std::get<ApiRequest>(taken));
  const auto& req = reader_.parser().get();
  keep_alive_ = req.keep_alive() && !close_requested_ && !ctx_.draining.load();
  http10_ = req.version() < 11;
  phase_ = Phase::kHandling;
  exchange_open_ = true;
  ctx_.counters.active_exchanges.fetch_add(1);
  head_sent_ = response_done_ = stream_prepared_ = false;
  stream_headers_.clear();
  cancel_ = nullptr;
  stream_.expires_never();
  ++exchange_id_;
  auto sink = std::make_shared<Exchange>(shared_from_this(), exchange_id_);
  try {
    api_.Handle(request, sink);
  } catch (const std::exception& e) {
    // A handler bug must cost one request, not the process.
    ctx_.counters.handler_exceptions.fetch_add(1);
    keep_alive_ = false;
    DoSend(ErrorResponse({500, std::string("internal error: ") + e.what(), "server_error", "internal_error"}));
  }
}

// ---- writing a response (strand) -------------------------------------------

std::string HttpSession::Head(int status, const std::string& content_type, const HeaderList& headers,
                              std::optional<size_t> content_length) {
  if (ctx_.draining.load() || close_requested_) keep_alive_ = false;
  std::string h = "HTTP/1.1 " + std::to_string(status) + " " +
                  std::string(http::obsolete_reason(static_cast<http::status>(status))) + "\r\nServer: jarvis\r\n";
  if (!content_type.empty()) h += "Content-Type: " + content_type + "\r\n";
  for (const auto& [name, value] : headers) h += name + ": " + value + "\r\n";
  const std::string& origin = ctx_.options.cors_origin;
  if (!origin.empty()) {
    h += "Access-Control-Allow-Origin: " + origin + "\r\n";
    if (origin != "*") h += "Vary: Origin\r\n";
    h += "Access-Control-Allow-Methods: GET, POST, OPTIONS\r\n";
    h += "Access-Control-Allow-Headers: Authorization, Content-Type\r\n";
    h += "Access-Control-Max-Age: 600\r\n";
  }
  if (content_length) {
    if (status != 204 && status != 304) h += "Content-Length: " + std::to_string(*content_length) + "\r\n";
  } else {
    h += "Cache-Control: no-cache\r\n";
    h += "X-Accel-Buffering: no\r\n";  // a stream: nginx passes it on unbuffered
    if (http10_) {
      keep_alive_ = false;  // the body ends when the connection does
    } else {
      h += "Transfer-Encoding: chunked\r\n";
    }
  }
  h += keep_alive_ ? "Connection: keep-alive\r\n\r\n" : "Connection: close\r\n\r\n";
  return h;
}

void HttpSession::DoSend(HttpResponse r) {
  if (phase_ != Phase::kHandling || head_sent_ || response_done_) return;
  response_status_ = r.status;
  std::string bytes = Head(r.status, r.content_type, r.headers, r.body.size());
  if (!head_only_) bytes += r.body;
  Enqueue(std::move(bytes));
  head_sent_ = response_done_ = true;
  ctx_.counters.CountResponse(r.status);
  DoWrite();
}

void HttpSession::DoStream(std::string data, bool last) {
  if (phase_ != Phase::kHandling || response_done_) return;
  if (!head_sent_) {
    if (!stream_prepared_) stream_content_type_ = "application/octet-stream";
    response_status_ = 200;
    Enqueue(Head(200, stream_content_type_, stream_headers_, std::nullopt));
    head_sent_ = true;
    ctx_.counters.CountResponse(200);
  }
  if (!data.empty()) Enqueue(http10_ ? std::move(data) : ChunkOf(data));
  if (last) {
    if (!http10_) Enqueue("0\r\n\r\n");
    response_done_ = true;
  }
  DoWrite();
}

void HttpSession::Enqueue(std::string bytes) { queue_.push_back(std::move(bytes)); }

void HttpSession::DoWrite() {
  if (write_pending_ || queue_.empty() || phase_ == Phase::kClosed) return;
  writing_.clear();
  for (auto& s : queue_) writing_ += s;  // tokens queued meanwhile go out in one write
  queue_.clear();
  write_pending_ = true;
  stream_.expires_after(ctx_.options.request_timeout);  // only the write's timer while the monitor reads
  net::async_write(stream_, net::buffer(writing_),
                   [self = shared_from_this()](beast::error_code ec, size_t) { self->OnWrite(ec); });
}

void HttpSession::OnWrite(beast::error_code ec) {
  write_pending_ = false;
  if (phase_ == Phase::kClosed) return;
  if (ec) {
    Disconnect(ec == beast::error::timeout);
    return;
  }
  if (!queue_.empty()) {
    DoWrite();
    return;
  }
  if (response_done_ && phase_ == Phase::kHandling) AfterExchange();
}

void HttpSession::AfterExchange() {
  EndExchange();
  if (monitor_pending_) {
    beast::error_code ignored;
    stream_.socket().cancel(ignored);  // OnMonitor continues here
    return;
  }
  if (!keep_alive_ || close_requested_ || ctx_.draining.load()) {
    Linger();
    return;
  }
  ReadHeader();
}

// ---- noticing a client that goes away ----------------------------------------

void HttpSession::StartMonitor() {
  if (monitor_pending_) return;
  monitor_pending_ = true;
  stream_.expires_never();  // only the read's timer while a write is in flight
  // Pipelined bytes already fill the read buffer: nothing more to watch for
  // until they are handled (prepare() past max_size would throw).
  const size_t room = std::min<size_t>(4096, buffer_.max_size() - buffer_.size());
  if (room == 0) {
    monitor_pending_ = false;
    return;
  }
  stream_.async_read_some(buffer_.prepare(room), [self = shared_from_this()](beast::error_code ec, size_t n) {
    self->OnMonitor(ec, n);
  });
}

void HttpSession::OnMonitor(beast::error_code ec, size_t n) {
  monitor_pending_ = false;
  if (phase_ == Phase::kClosed) return;
  if (ec && ec != net::error::operation_aborted) {
    Disconnect(false);  // EOF or reset: the client is gone
    return;
  }
  if (!ec) buffer_.commit(n);  // a pipelined request: keep it for the next read, stop watching
  if (!exchange_open_) AfterExchange();
}

void HttpSession::Disconnect(bool timed_out) {
  if (phase_ == Phase::kClosed) return;
  if (timed_out) ctx_.counters.dropped_slow.fetch_add(1);
  if (exchange_open_ && !response_done_) ctx_.counters.client_disconnects.fetch_add(1);
  CloseNow();
}

void HttpSession::EndExchange() {
  if (!exchange_open_) return;
  exchange_open_ = false;
  cancel_ = nullptr;
  ctx_.counters.active_exchanges.fetch_sub(1);
}

void HttpSession::Linger() {
  // Half-close, then discard what the client still sends (up to 1 s), so it
  // reads our last response instead of a connection reset.
  phase_ = Phase::kLingering;
  beast::error_code ignored;
  stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
  stream_.expires_after(std::chrono::seconds(1));
  struct Drain {
    std::shared_ptr<HttpSession> self;
    void operator()(beast::error_code ec, size_t) const {
      if (ec || self->phase_ == Phase::kClosed) {
        self->CloseNow();
        return;
      }
      self->stream_.async_read_some(net::buffer(self->linger_buf_), Drain{self});
    }
  };
  stream_.async_read_some(net::buffer(linger_buf_), Drain{shared_from_this()});
}

void HttpSession::CloseNow() {
  if (phase_ == Phase::kClosed) return;
  phase_ = Phase::kClosed;
  disconnected_.store(true, std::memory_order_release);
  if (cancel_) {
    auto cancel = std::move(cancel_);
    cancel_ = nullptr;
    cancel();
  }
  EndExchange();
  queue_.clear();
  beast::error_code ignored;
  stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
  stream_.socket().close(ignored);
}

}  // namespace jarvis::api
