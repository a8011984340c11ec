// Model catalog: which GGUF files the service can serve, under which names,
// and what their headers say (without loading any weights).
//
// Names: the file stem ("models/llama-3.2-1b-q4_0.gguf" -> "llama-3.2-1b-q4_0");
// a later file with a stem already taken gets "-2", "-3", ... in scan order
// (the paths as given; each directory's *.gguf files sorted by name, not
// recursive). The same file reached twice is listed once.
//
// Digest: XXH64 of the first MiB of the file, seeded with the file size,
// as 16 hex digits. It changes whenever the header (metadata, tensor table)
// or the size changes, which is what a re-quantised or re-converted model
// does; it is cheap (one MiB read) even for 70 GB files. It is NOT a hash of
// every weight byte: two files differing only in weights past the first MiB
// and of equal size share a digest (the response cache keys on it).
//
// Thread safety: free functions, no shared state.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "jarvis/status.h"

namespace jarvis {

struct ModelSource {
  std::string name;
  std::string path;
  uint64_t size_bytes = 0;
  std::string digest;
  // Why the file cannot be served as scanned (unreadable, not a valid GGUF
  // header); empty when it looked fine. Such a model is still listed (and
  // reported in /api/models/stats); requests for it get the load error.
  std::string error;
  StatusCode error_code = StatusCode::kOk;  // the code of that error
};

// NotFound for a path that does not exist; InvalidArgument for a file that is
// not *.gguf, or when nothing is found at all. A file that cannot be read or
// parsed does not fail the scan: its source carries `error`.
Result<std::vector<ModelSource>> ScanModelPaths(const std::vector<std::string>& paths);

Result<std::string> ContentDigest(const std::string& path);

// Which file is on disk at a path now: any rewrite (in place, truncation,
// a rename over it) changes one of these. NotFound when the path is gone.
struct FileIdentity {
  uint64_t device = 0;
  uint64_t inode = 0;
  uint64_t size = 0;
  int64_t mtime_ns = 0;
  bool operator==(const FileIdentity&) const = default;
};
Result<FileIdentity> StatFileIdentity(const std::string& path);

// Header facts (reads the GGUF metadata and tensor table, not the weights).
struct ModelFacts {
  std::string architecture;   // general.architecture
  std::string quantization;   // type holding the most weight bytes, e.g. "q4_0"
  uint64_t parameters = 0;
  int32_t context_length = 0;
  std::string display_name;   // general.name, if any
};
Result<ModelFacts> ReadModelFacts(const std::string& path);

// For /api/show: the facts plus every metadata key (values in short display
// form; arrays summarised) and the chat template.
Result<nlohmann::json> DescribeModel(const ModelSource& source);

}  // namespace jarvis
