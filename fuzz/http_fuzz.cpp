// HTTP fuzz target: raw bytes of one client connection -> HttpRequestReader
// (the server's own parser, limits and buffer cap) -> Api::Handle (CORS, auth,
// routing, JSON request parsing, every handler) -> FakeBackend, the
// scheduler's stand-in (api/testing_fake_backend.h). Up to four pipelined
// requests per input, as one keep-alive connection carries them.
//
// A finding is: a crash or sanitizer report anywhere on that path; an
// exception escaping it (the server would drop the connection); a response
// with an invalid status, or an error response whose body is not the JSON
// error object; a request that never completes (a started generation is
// "disconnected" after a few ms, and must then end within 2 s).
//
// Built two ways: with libFuzzer (preset `fuzz`, scripts/fuzz http) and, in
// every other build, with http_fuzz_main.cpp as a plain program that replays
// the seed corpus plus deterministic mutations of it (the CTest test
// http_fuzz_smoke), so CI exercises the harness and the seeds without clang.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <variant>

#include <boost/beast/http/error.hpp>
#include <nlohmann/json.hpp>

#include "api/api.h"
#include "api/api_context.h"
#include "api/http_request_reader.h"
#include "api/testing_fake_backend.h"

namespace jarvis::api {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;

// The input being run, printed with a finding (libFuzzer also saves it).
const uint8_t* g_input = nullptr;
size_t g_input_size = 0;

[[noreturn]] void Finding(const char* what) {
  std::fprintf(stderr, "http_fuzz finding: %s\ninput (%zu bytes, C-escaped, first 4000):\n", what, g_input_size);
  for (size_t i = 0; i < g_input_size && i < 4000; ++i) {
    const unsigned char c = g_input[i];
    if (c == '\\' || c == '"') {
      std::fprintf(stderr, "\\%c", c);
    } else if (c >= 32 && c < 127) {
      std::fputc(c, stderr);
    } else {
      std::fprintf(stderr, "\\x%02x", c);
    }
  }
  std::fprintf(stderr, "\n");
  std::abort();
}

void CheckResponse(const HttpResponse& r) {
  if (r.status < 100 || r.status > 599) Finding("response status out of range");
  if (r.status >= 400 && r.content_type == "application/json") {
    const auto j = nlohmann::json::parse(r.body, nullptr, false);
    if (!j.is_object() || !j.contains("error")) Finding("error response without a JSON error object");
  }
}

class CaptureSink final : public ResponseSink {
 public:
  void Send(HttpResponse response) override {
    CheckResponse(response);
    Finish();
  }
  void PrepareStream(std::string, HeaderList) override {}
  void StreamWrite(std::string) override {}
  void StreamEnd(std::string) override { Finish(); }
  void OnDisconnect(std::function<void()> cancel) override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!disconnected_.load()) {
        cancel_ = std::move(cancel);
        return;
      }
    }
    if (cancel) cancel();  // registered after the client left: at once, as HttpSession does
  }
  bool Disconnected() const override { return disconnected_.load(); }

  // Waits for the response; a generation still running after `patience` is
  // cancelled as a client that hangs up would be (a handler then owes no
  // response), and the backend must have ended it within 2 s.
  void AwaitEnd(std::chrono::milliseconds patience, const testing::FakeBackend& backend) {
    std::unique_lock<std::mutex> lock(mu_);
    if (cv_.wait_for(lock, patience, [&] { return done_; })) return;
    disconnected_.store(true);
    auto cancel = std::move(cancel_);
    lock.unlock();
    if (cancel) cancel();
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
    while (backend.running() > 0) {
      if (std::chrono::steady_clock::now() > deadline) Finding("a cancelled request never ended");
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
  }

 private:
  void Finish() {
    std::lock_guard<std::mutex> lock(mu_);
    if (done_) Finding("a second response for one request");
    done_ = true;
    cv_.notify_all();
  }
  std::mutex mu_;
  std::condition_variable cv_;
  bool done_ = false;
  std::function<void()> cancel_;
  std::atomic<bool> disconnected_{false};
};

struct Fixture {
  Fixture() : backend(std::chrono::milliseconds(1)), ctx(backend, Options(), [](std::function<void()> fn) { fn(); }) {
    ctx.ready.store(true);
  }
  static const ServerOptions& Options() {
    static const ServerOptions o = [] {
      ServerOptions s;
      s.max_body_bytes = 1u << 16;
      s.max_header_bytes = 4096;  // buffer cap 8 KiB: reachable by the fuzzer's inputs
      s.max_target_bytes = 2048;
      s.max_chunks = 64;
      return s;
    }();
    return o;
  }
  testing::FakeBackend backend;
  ApiContext ctx;
  Api api{ctx};
};

// Feeds `data` to the reader as a socket read loop would: the buffer is
// topped up to its cap, and a full buffer the parser cannot progress on is
// the buffer_overflow the session answers with 431.
void Connection(Fixture& f, const uint8_t* data, size_t size) {
  HttpRequestReader reader(Fixture::Options());
  beast::flat_buffer buffer = reader.MakeBuffer();
  size_t pos = 0;
  for (int n = 0; n < 4; ++n) {
    auto& parser = reader.Reset();
    beast::error_code ec;
    while (!parser.is_done()) {
      const size_t room = buffer.max_size() - buffer.size();
      const size_t take = std::min<size_t>({room, size - pos, 1024});
      if (take > 0) {
        auto dst = buffer.prepare(take);
        std::memcpy(dst.data(), data + pos, take);
        buffer.commit(take);
        pos += take;
      }
      const size_t used = parser.put(buffer.data(), ec);
      buffer.consume(used);
      if (ec == http::error::need_more) {
        ec = {};
      } else if (ec) {
        break;
      }
      if (parser.is_done() || used > 0 || take > 0) continue;
      // No progress and no more input to add.
      if (room == 0) {
        ec = http::error::buffer_overflow;  // what the capped read reports
      } else if (buffer.size() == 0 && !parser.got_some()) {
        return;  // the client sent nothing more: the connection just ends
      } else if (parser.got_some()) {
        parser.put_eof(ec);
        if (!ec) ec = http::error::partial_message;
      } else {
        ec = http::error::partial_message;
      }
      break;
    }
    if (ec) {
      if (auto error = reader.ErrorFor(ec)) CheckResponse(ErrorResponse(*error));
      return;  // the session answers (or not) and closes
    }
    bool head_only = false;
    auto taken = reader.TakeRequest(&head_only);
    if (auto* error = std::get_if<ApiError>(&taken)) {
      CheckResponse(ErrorResponse(*error));
      return;
    }
    const bool keep_alive = parser.get().keep_alive();
    auto sink = std::make_shared<CaptureSink>();
    f.api.Handle(std::get<ApiRequest>(taken), sink);
    sink->AwaitEnd(std::chrono::milliseconds(3), f.backend);
    if (!keep_alive) return;
  }
}

}  // namespace
}  // namespace jarvis::api

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static auto* fixture = new jarvis::api::Fixture();  // one server for the whole run, as in production
  jarvis::api::g_input = data;
  jarvis::api::g_input_size = size;
  try {
    jarvis::api::Connection(*fixture, data, size);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "exception: %s\n", e.what());
    jarvis::api::Finding("an exception escaped the request path");
  }
  return 0;
}
