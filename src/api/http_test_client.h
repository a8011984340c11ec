// A tiny blocking HTTP/1.1 client over POSIX sockets, for tests of the server
// (loopback only). Header-only; not part of the library's API.
//
//   TestConnection c;  c.Connect(port);
//   c.Send(MakeRequest("POST", "/v1/completions", body));
//   HttpReply r = c.ReadReply();          // whole response (Content-Length or chunked)
//   // or, streaming: c.ReadHead(&r); while (auto chunk = c.ReadChunk()) ...
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace jarvis::api::testing {

struct HttpReply {
  int status = 0;  // 0: no (complete) response
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
  std::string Header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? std::string() : it->second;
  }
};

inline std::string MakeRequest(const std::string& method, const std::string& path, const std::string& body = "",
                               const std::vector<std::string>& extra_headers = {}, bool keep_alive = true) {
  std::string r = method + " " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n";
  for (const auto& h : extra_headers) r += h + "\r\n";
  if (!body.empty() || method == "POST") {
    r += "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) + "\r\n";
  }
  if (!keep_alive) r += "Connection: close\r\n";
  return r + "\r\n" + body;
}

class TestConnection {
 public:
  TestConnection() = default;
  ~TestConnection() { Close(); }
  TestConnection(const TestConnection&) = delete;
  TestConnection& operator=(const TestConnection&) = delete;

  bool Connect(uint16_t port, int timeout_s = 30) {
    Close();
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd_ < 0) return false;
    timeval tv{timeout_s, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    ::setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    int one = 1;
    ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
      Close();
      return false;
    }
    buf_.clear();
    return true;
  }
  void Close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }
  // Closes at once with a reset (SO_LINGER 0): a client that vanishes.
  void Abort() {
    if (fd_ < 0) return;
    linger l{1, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
    Close();
  }
  bool connected() const { return fd_ >= 0; }

  bool Send(const std::string& data) {
    size_t sent = 0;
    while (sent < data.size()) {
      const ssize_t n = ::send(fd_, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
      if (n <= 0) return false;
      sent += static_cast<size_t>(n);
    }
    return true;
  }

  // Reads the status line and headers. False on EOF/timeout/garbage.
  bool ReadHead(HttpReply* reply) {
    size_t end;
    while ((end = buf_.find("\r\n\r\n")) == std::string::npos) {
      if (!Fill()) return false;
    }
    const std::string head = buf_.substr(0, end);
    buf_.erase(0, end + 4);
    size_t line_end = head.find("\r\n");
    const std::string status_line = head.substr(0, line_end);
    if (status_line.size() < 12 || status_line.compare(0, 5, "HTTP/") != 0) return false;
    reply->status = std::stoi(status_line.substr(9, 3));
    while (line_end != std::string::npos) {
      const size_t start = line_end + 2;
      line_end = head.find("\r\n", start);
      const std::string line = head.substr(start, line_end == std::string::npos ? std::string::npos : line_end - start);
      const size_t colon = line.find(':');
      if (colon == std::string::npos) continue;
      std::string name = line.substr(0, colon);
      for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      size_t v = colon + 1;
      while (v < line.size() && line[v] == ' ') ++v;
      reply->headers[name] = line.substr(v);
    }
    chunked_ = reply->Header("transfer-encoding") == "chunked";
    const std::string cl = reply->Header("content-length");
    remaining_ = cl.empty() ? -1 : std::stoll(cl);
    return true;
  }

  // The next piece of the body: a decoded chunk (chunked), or what arrived
  // (otherwise). nullopt at the end of the body (or on error/timeout).
  std::optional<std::string> ReadChunk() {
    if (chunked_) {
      size_t eol;
      while ((eol = buf_.find("\r\n")) == std::string::npos) {
        if (!Fill()) return std::nullopt;
      }
      const size_t size = std::stoul(buf_.substr(0, eol), nullptr, 16);
      buf_.erase(0, eol + 2);
      while (buf_.size() < size + 2) {
        if (!Fill()) return std::nullopt;
      }
      std::string data = buf_.substr(0, size);
      buf_.erase(0, size + 2);
      if (size == 0) {
        chunked_ = false;
        remaining_ = 0;
        return std::nullopt;
      }
      return data;
    }
    if (remaining_ == 0) return std::nullopt;
    if (buf_.empty() && !Fill()) return std::nullopt;
    std::string data = buf_;
    if (remaining_ > 0 && static_cast<int64_t>(data.size()) > remaining_) data.resize(static_cast<size_t>(remaining_));
    buf_.erase(0, data.size());
    if (remaining_ > 0) remaining_ -= static_cast<int64_t>(data.size());
    return data;
  }

  HttpReply ReadReply() {
    HttpReply r;
    if (!ReadHead(&r)) return HttpReply{};
    if (r.status == 204 || r.status == 304) return r;
    while (auto chunk = ReadChunk()) r.body += *chunk;
    return r;
  }

  // True when the server closed the connection (EOF) within the receive timeout.
  bool WaitForClose() {
    for (;;) {
      char c[4096];
      const ssize_t n = ::recv(fd_, c, sizeof(c), 0);
      if (n == 0) return true;
      if (n < 0) return errno == ECONNRESET;
    }
  }

 private:
  bool Fill() {
    char tmp[16384];
    const ssize_t n = ::recv(fd_, tmp, sizeof(tmp), 0);
    if (n <= 0) return false;
    buf_.append(tmp, static_cast<size_t>(n));
    return true;
  }

  int fd_ = -1;
  std::string buf_;
  bool chunked_ = false;
  int64_t remaining_ = -1;
};

// One request on a fresh connection.
inline HttpReply Fetch(uint16_t port, const std::string& method, const std::string& path, const std::string& body = "",
                       const std::vector<std::string>& extra_headers = {}) {
  TestConnection c;
  if (!c.Connect(port)) return HttpReply{};
  if (!c.Send(MakeRequest(method, path, body, extra_headers, /*keep_alive=*/false))) return HttpReply{};
  return c.ReadReply();
}

// The "data: ..." payloads of an SSE body, in order.
inline std::vector<std::string> SseData(const std::string& body) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos < body.size()) {
    size_t end = body.find("\n\n", pos);
    if (end == std::string::npos) end = body.size();
    const std::string event = body.substr(pos, end - pos);
    if (event.compare(0, 6, "data: ") == 0) out.push_back(event.substr(6));
    pos = end + 2;
  }
  return out;
}

// The lines of an NDJSON body.
inline std::vector<std::string> NdjsonLines(const std::string& body) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos < body.size()) {
    size_t end = body.find('\n', pos);
    if (end == std::string::npos) end = body.size();
    if (end > pos) out.push_back(body.substr(pos, end - pos));
    pos = end + 1;
  }
  return out;
}

}  // namespace jarvis::api::testing
