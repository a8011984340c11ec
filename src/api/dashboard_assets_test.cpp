// The embedded dashboard: the generated table, and the routes that serve it
// (content types, gzip negotiation, cache and security headers). Holds for
// both builds: the real dashboard (web/dist) and the "not built" page.
#include "api/dashboard_assets.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <regex>
#include <set>
#include <string>

namespace jarvis::api {
namespace {

// Records the one whole response a handler sends.
class RecordingSink final : public ResponseSink {
 public:
  void Send(HttpResponse response) override { response_ = std::move(response); }
  void PrepareStream(std::string, HeaderList) override { FAIL() << "static files never stream"; }
  void StreamWrite(std::string) override {}
  void StreamEnd(std::string) override {}
  void OnDisconnect(std::function<void()>) override {}
  bool Disconnected() const override { return false; }
  std::optional<HttpResponse> response_;
};

std::string Header(const HttpResponse& r, const std::string& name) {
  for (const auto& [k, v] : r.headers) {
    if (k == name) return v;
  }
  return "";
}

HttpResponse Get(const Router& router, const std::string& path, const std::string& accept_encoding = "") {
  HttpResponse error;
  const Handler* handler = router.Find("GET", path, &error);
  EXPECT_NE(handler, nullptr) << path;
  if (handler == nullptr) return error;
  ApiRequest request;
  request.method = "GET";
  request.path = path;
  if (!accept_encoding.empty()) request.headers.emplace_back("Accept-Encoding", accept_encoding);
  auto sink = std::make_shared<RecordingSink>();
  (*handler)(request, sink);
  EXPECT_TRUE(sink->response_.has_value());
  return sink->response_.value_or(HttpResponse{});
}

std::string Bytes(const EmbeddedFile& f) { return {reinterpret_cast<const char*>(f.data), f.size}; }

TEST(DashboardAssets, TableHasAnIndexPageAndKnownTypes) {
  ASSERT_FALSE(DashboardFiles().empty());
  const EmbeddedFile* index = FindDashboardFile("/");
  ASSERT_NE(index, nullptr);
  EXPECT_EQ(index, FindDashboardFile("/index.html"));
  EXPECT_EQ(FindDashboardFile("/nope.js"), nullptr);
  EXPECT_TRUE(IsDashboardPath("/"));
  EXPECT_FALSE(IsDashboardPath("/api/models/stats"));
  std::set<std::string> paths;
  for (const EmbeddedFile& f : DashboardFiles()) {
    EXPECT_TRUE(paths.insert(f.path).second) << "duplicate " << f.path;
    EXPECT_EQ(f.path[0], '/');
    EXPECT_NE(DashboardContentType(f.path), "application/octet-stream") << f.path;
  }
  const std::string html = Bytes(*index);
  EXPECT_NE(html.find("<html"), std::string::npos);
  if (!DashboardBuilt()) {
    EXPECT_NE(html.find("data-jarvis-dashboard=\"not-built\""), std::string::npos);
  }
}

TEST(DashboardAssets, EveryAssetTheIndexPageNamesIsEmbedded) {
  if (!DashboardBuilt()) GTEST_SKIP() << "built without Node.js: only the not-built page is embedded";
  const std::string html = Bytes(*FindDashboardFile("/"));
  const std::regex ref(R"re((?:src|href)="(/[^"]+)")re");
  int found = 0;
  for (auto it = std::sregex_iterator(html.begin(), html.end(), ref); it != std::sregex_iterator(); ++it) {
    const std::string path = (*it)[1];
    if (path == "/metrics") continue;  // the footer's link to the API
    EXPECT_NE(FindDashboardFile(path), nullptr) << "index.html loads " << path << " which is not embedded";
    ++found;
  }
  EXPECT_GE(found, 2) << "expected at least the script and the stylesheet";
}

TEST(DashboardAssets, ContentTypes) {
  EXPECT_EQ(DashboardContentType("/index.html"), "text/html; charset=utf-8");
  EXPECT_EQ(DashboardContentType("/assets/index-Ab12.js"), "text/javascript; charset=utf-8");
  EXPECT_EQ(DashboardContentType("/assets/index-Ab12.css"), "text/css; charset=utf-8");
  EXPECT_EQ(DashboardContentType("/favicon.svg"), "image/svg+xml");
  EXPECT_EQ(DashboardContentType("/x.bin"), "application/octet-stream");
}

TEST(DashboardAssets, RoutesServeEveryFileWithItsHeaders) {
  Router router;
  AddDashboardRoutes(router);
  for (const EmbeddedFile& f : DashboardFiles()) {
    const HttpResponse r = Get(router, f.path);
    EXPECT_EQ(r.status, 200) << f.path;
    EXPECT_EQ(r.body, Bytes(f)) << f.path;
    EXPECT_EQ(r.content_type, DashboardContentType(f.path));
    EXPECT_EQ(Header(r, "Content-Encoding"), "");
    EXPECT_EQ(Header(r, "X-Content-Type-Options"), "nosniff");
    const bool hashed = std::string(f.path).starts_with("/assets/");
    EXPECT_EQ(Header(r, "Cache-Control"), hashed ? "public, max-age=31536000, immutable" : "no-cache") << f.path;
  }
  const HttpResponse index = Get(router, "/");
  EXPECT_EQ(index.body, Bytes(*FindDashboardFile("/index.html")));
  EXPECT_NE(Header(index, "Content-Security-Policy").find("default-src 'self'"), std::string::npos);
  HttpResponse error;
  EXPECT_EQ(router.Find("GET", "/assets/missing.js", &error), nullptr);
  EXPECT_EQ(error.status, 404);
}

TEST(DashboardAssets, GzipOnlyWhenTheClientAcceptsIt) {
  Router router;
  AddDashboardRoutes(router);
  const EmbeddedFile* compressed = nullptr;
  for (const EmbeddedFile& f : DashboardFiles()) {
    if (f.gzip_data != nullptr) compressed = &f;
  }
  if (compressed == nullptr) GTEST_SKIP() << "no file large enough to be stored compressed";
  const std::string gz(reinterpret_cast<const char*>(compressed->gzip_data), compressed->gzip_size);
  ASSERT_GE(gz.size(), 18u);
  EXPECT_EQ(static_cast<unsigned char>(gz[0]), 0x1f);  // gzip magic
  EXPECT_EQ(static_cast<unsigned char>(gz[1]), 0x8b);
  EXPECT_LT(gz.size(), compressed->size);
  // The trailer's ISIZE (little-endian, last 4 bytes) is the uncompressed size.
  uint32_t isize = 0;
  for (int i = 0; i < 4; ++i) isize |= static_cast<uint32_t>(static_cast<unsigned char>(gz[gz.size() - 4 + i])) << (8 * i);
  EXPECT_EQ(isize, compressed->size);
  for (const std::string accept : {"gzip", "br, gzip, deflate", "GZIP;q=0.5", "*"}) {
    const HttpResponse r = Get(router, compressed->path, accept);
    EXPECT_EQ(Header(r, "Content-Encoding"), "gzip") << accept;
    EXPECT_EQ(r.body, gz) << accept;
    EXPECT_EQ(Header(r, "Vary"), "Accept-Encoding");
  }
  for (const std::string accept : {"identity", "br", "gzip;q=0", "gzip; q=0.0"}) {
    const HttpResponse r = Get(router, compressed->path, accept);
    EXPECT_EQ(Header(r, "Content-Encoding"), "") << accept;
    EXPECT_EQ(r.body, Bytes(*compressed)) << accept;
  }
}

}  // namespace
}  // namespace jarvis::api
