// Dashboard assets: the files of the web dashboard (web/, built by Vite),
// embedded in the binary at build time by cmake/JarvisDashboard.cmake, and the
// GET routes that serve them ("/" is index.html). When the build had no
// Node.js (or -DJARVIS_BUILD_DASHBOARD=OFF) the table holds one page saying
// the dashboard was not built and how to build it.
//
// The table is static, immutable data: every function is thread-safe.
#pragma once

#include <cstddef>
#include <span>
#include <string_view>

#include "api/router.h"

namespace jarvis::api {

// One embedded file, as the generated table lists it.
struct EmbeddedFile {
  const char* path;  // "/index.html", "/assets/index-1a2b3c4d.js"
  const unsigned char* data;
  size_t size;
  const unsigned char* gzip_data;  // the same bytes gzip-compressed, or nullptr
  size_t gzip_size;
};

// The generated table (defined in the .cpp that cmake/JarvisDashboard.cmake
// writes from web/dist, or from web/not-built.html).
namespace dashboard_data {
extern const EmbeddedFile kFiles[];
extern const size_t kFileCount;
extern const bool kBuilt;
}  // namespace dashboard_data

// Every embedded file (never empty: "/index.html" is always there).
std::span<const EmbeddedFile> DashboardFiles();
// True when the table holds the real dashboard, false for the "not built" page.
bool DashboardBuilt();

// The file served for a request path ("/" is "/index.html"), or nullptr.
const EmbeddedFile* FindDashboardFile(std::string_view path);
// "text/javascript; charset=utf-8", ... by extension; application/octet-stream when unknown.
std::string_view DashboardContentType(std::string_view path);
// True for a path FindDashboardFile serves: static content, needs no API key.
bool IsDashboardPath(std::string_view path);

// GET "/" and GET of every embedded file's path. Files under /assets/ carry a
// content hash in their name and are cached for a year; the rest revalidate.
// Sent gzip-compressed when the client accepts it.
void AddDashboardRoutes(Router& router);

}  // namespace jarvis::api
