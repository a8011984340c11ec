#include "api/dashboard_assets.h"

#include <array>
#include <cctype>
#include <cstdlib>
#include <memory>
#include <string>
#include <utility>

namespace jarvis::api {

namespace {

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// True when an Accept-Encoding value lists gzip with a non-zero q.
bool AcceptsGzip(std::string_view accept_encoding) {
  std::string lower(accept_encoding);
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  size_t pos = 0;
  while (pos < lower.size()) {
    size_t end = lower.find(',', pos);
    if (end == std::string::npos) end = lower.size();
    std::string_view item = std::string_view(lower).substr(pos, end - pos);
    pos = end + 1;
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    const size_t semi = item.find(';');
    std::string_view coding = item.substr(0, semi);
    while (!coding.empty() && coding.back() == ' ') coding.remove_suffix(1);
    if (coding != "gzip" && coding != "*") continue;
    if (semi == std::string_view::npos) return true;
    const size_t q = item.find("q=", semi);
    if (q == std::string_view::npos) return true;
    return std::strtod(std::string(item.substr(q + 2)).c_str(), nullptr) > 0.0;  // "q=0" refuses it
  }
  return false;
}

// Applied to the HTML page: it loads only its own scripts and styles and talks
// only to this server (uPlot sets inline styles through the CSSOM, which
// style-src does not restrict).
constexpr const char* kContentSecurityPolicy =
    "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'";

void Serve(const EmbeddedFile& file, const ApiRequest& request, ResponseSink& sink) {
  const std::string_view path = file.path;
  HttpResponse r;
  r.content_type = std::string(DashboardContentType(path));
  const bool gzip = file.gzip_data != nullptr && AcceptsGzip(request.Header("Accept-Encoding"));
  const unsigned char* data = gzip ? file.gzip_data : file.data;
  const size_t size = gzip ? file.gzip_size : file.size;
  r.body.assign(reinterpret_cast<const char*>(data), size);
  if (gzip) r.headers.emplace_back("Content-Encoding", "gzip");
  if (file.gzip_data != nullptr) r.headers.emplace_back("Vary", "Accept-Encoding");
  const bool hashed = path.starts_with("/assets/");
  r.headers.emplace_back("Cache-Control", hashed ? "public, max-age=31536000, immutable" : "no-cache");
  r.headers.emplace_back("X-Content-Type-Options", "nosniff");
  if (EndsWith(path, ".html")) {
    r.headers.emplace_back("Content-Security-Policy", kContentSecurityPolicy);
    r.headers.emplace_back("Referrer-Policy", "no-referrer");
  }
  sink.Send(std::move(r));
}

}  // namespace

std::span<const EmbeddedFile> DashboardFiles() {
  return {dashboard_data::kFiles, dashboard_data::kFileCount};
}

bool DashboardBuilt() { return dashboard_data::kBuilt; }

const EmbeddedFile* FindDashboardFile(std::string_view path) {
  if (path == "/") path = "/index.html";
  for (const EmbeddedFile& f : DashboardFiles()) {
    if (path == f.path) return &f;
  }
  return nullptr;
}

bool IsDashboardPath(std::string_view path) { return FindDashboardFile(path) != nullptr; }

std::string_view DashboardContentType(std::string_view path) {
  static constexpr std::array<std::pair<std::string_view, std::string_view>, 14> kTypes = {{
      {".html", "text/html; charset=utf-8"},
      {".js", "text/javascript; charset=utf-8"},
      {".mjs", "text/javascript; charset=utf-8"},
      {".css", "text/css; charset=utf-8"},
      {".json", "application/json"},
      {".map", "application/json"},
      {".svg", "image/svg+xml"},
      {".png", "image/png"},
      {".jpg", "image/jpeg"},
      {".ico", "image/x-icon"},
      {".webp", "image/webp"},
      {".woff2", "font/woff2"},
      {".txt", "text/plain; charset=utf-8"},
      {".webmanifest", "application/manifest+json"},
  }};
  for (const auto& [ext, type] : kTypes) {
    if (EndsWith(path, ext)) return type;
  }
  return "application/octet-stream";
}

void AddDashboardRoutes(Router& router) {
  for (const EmbeddedFile& f : DashboardFiles()) {
    const EmbeddedFile* file = &f;
    router.Add("GET", f.path,
               [file](const ApiRequest& request, std::shared_ptr<ResponseSink> sink) { Serve(*file, request, *sink); });
  }
  if (const EmbeddedFile* index = FindDashboardFile("/")) {
    router.Add("GET", "/",
               [index](const ApiRequest& request, std::shared_ptr<ResponseSink> sink) { Serve(*index, request, *sink); });
  }
}

}  // namespace jarvis::api
