// HttpSession: one client connection (HTTP/1.1 keep-alive, or 1.0), driven by
// asynchronous Beast/Asio operations on its own strand; no thread of its own.
//
// Per request: read the header (idle_timeout), answer "100 Continue" if asked,
// read the body (request_timeout, body limit -> 413), hand an ApiRequest to
// Api::Handle, then write what the handler sends through the ResponseSink
// methods: one whole response (Content-Length) or a stream (chunked). While a
// generation runs the socket is also read, so a client that closes it is
// noticed at once and the request cancelled (OnDisconnect's callback).
//
// Each request gets its own ResponseSink (an Exchange bound to the request's
// number), so a late call from a finished request can never touch the next
// request on the same connection.
//
// Limits: see http_request_reader.h. An exception
// thrown on the strand (none is expected) ends the connection: the I/O
// threads catch it (HttpServer), the session closes when its last handler
// is dropped.
//
// Thread safety: the ResponseSink methods may be called from any thread; they
// post to the strand. Everything else runs on the strand.
#pragma once

#include <atomic>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "api/api.h"
#include "api/api_context.h"
#include "api/api_error.h"
#include "api/http_request_reader.h"
#include "api/http_types.h"

namespace jarvis::api {

class HttpSession final : public std::enable_shared_from_this<HttpSession> {
 public:
  HttpSession(boost::asio::ip::tcp::socket socket, const Api& api, ApiContext& ctx);
  ~HttpSession();

  void Start();
  // Shutdown: closes the connection now if it waits for a request; otherwise
  // after the response in progress (which then says Connection: close).
  void CloseWhenIdle();
  // Closes at once, cancelling a generation in progress.
  void ForceClose();

  bool Disconnected() const { return disconnected_.load(std::memory_order_acquire); }

 private:
  class Exchange;
  enum class Phase { kReading, kHandling, kLingering, kClosed };

  // Strand-side of the ResponseSink calls of exchange `id`.
  bool Current(uint64_t id) const { return phase_ == Phase::kHandling && id == exchange_id_; }
  void DoPrepare(uint64_t id, std::string content_type, HeaderList headers);
  void DoOnDisconnect(uint64_t id, std::function<void()> cancel);

  void ReadHeader();
  void OnHeader(boost::beast::error_code ec);
  void ReadBody();
  void OnBody(boost::beast::error_code ec);
  void FailRead(boost::beast::error_code ec);
  void AnswerAndClose(const ApiError& error);
  void Dispatch();

  void DoSend(HttpResponse response);
  void DoStream(std::string data, bool last);
  void DoSendIf(uint64_t id, HttpResponse response) {
    if (Current(id)) DoSend(std::move(response));
  }
  void DoStreamIf(uint64_t id, std::string data, bool last) {
    if (Current(id)) DoStream(std::move(data), last);
  }
  std::string Head(int status, const std::string& content_type, const HeaderList& headers,
                   std::optional<size_t> content_length);
  void Enqueue(std::string bytes);
  void DoWrite();
  void OnWrite(boost::beast::error_code ec);
  void AfterExchange();

  void StartMonitor();
  void OnMonitor(boost::beast::error_code ec, size_t n);
  void Disconnect(bool timed_out);
  void EndExchange();
  void Linger();
  void CloseNow();

  boost::beast::tcp_stream stream_;
  HttpRequestReader reader_;
  boost::beast::flat_buffer buffer_;  // capped: see http_request_reader.h
  const Api& api_;
  ApiContext& ctx_;

  // Strand-only state.
  Phase phase_ = Phase::kReading;
  uint64_t exchange_id_ = 0;  // number of the request being answered
  bool keep_alive_ = true;
  bool http10_ = false;
  bool head_only_ = false;      // a HEAD request: answered as GET, without the body
  bool exchange_open_ = false;  // a request is being answered (counted in active_exchanges)
  bool head_sent_ = false;      // the response's status line and headers are queued
  bool response_done_ = false;  // the response's last bytes are queued
  bool stream_prepared_ = false;
  std::string stream_content_type_;
  HeaderList stream_headers_;
  int response_status_ = 0;
  std::deque<std::string> queue_;
  std::string writing_;  // the bytes of the write in flight
  bool write_pending_ = false;
  bool monitor_pending_ = false;
  bool close_requested_ = false;
  std::function<void()> cancel_;
  std::atomic<bool> disconnected_{false};
  char linger_buf_[512];
};

}  // namespace jarvis::api
