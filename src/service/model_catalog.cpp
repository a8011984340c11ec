#include "service/model_catalog.h"

#include <sys/stat.h>
#include <xxhash.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include <fmt/format.h>

#include "gguf/gguf_reader.h"
#include "quant/ggml_type.h"

namespace jarvis {
namespace {

namespace fs = std::filesystem;

bool IsGguf(const fs::path& p) {
  std::string ext = p.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
  return ext == ".gguf";
}

}  // namespace

Result<std::string> ContentDigest(const std::string& path) {
  std::error_code ec;
  const uint64_t size = fs::file_size(path, ec);
  if (ec) return Status::IoError(fmt::format("{}: {}", path, ec.message()));
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::IoError(fmt::format("{}: cannot open", path));
  std::vector<char> buf(static_cast<size_t>(std::min<uint64_t>(size, 1u << 20)));
  in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
  if (static_cast<size_t>(in.gcount()) != buf.size()) return Status::IoError(fmt::format("{}: short read", path));
  return fmt::format("{:016x}", XXH64(buf.data(), buf.size(), size));
}

Result<FileIdentity> StatFileIdentity(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return Status::NotFound(fmt::format("{}: no such file", path));
    return Status::IoError(fmt::format("{}: cannot stat: {}", path, std::strerror(errno)));
  }
  return FileIdentity{static_cast<uint64_t>(st.st_dev), static_cast<uint64_t>(st.st_ino),
                      static_cast<uint64_t>(st.st_size),
                      static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec};
}

Result<std::vector<ModelSource>> ScanModelPaths(const std::vector<std::string>& paths) {
  std::vector<fs::path> files;
  for (const std::string& p : paths) {
    std::error_code ec;
    const fs::file_status st = fs::status(p, ec);
    if (ec || !fs::exists(st)) return Status::NotFound(fmt::format("model path {} does not exist", p));
    if (fs::is_directory(st)) {
      std::vector<fs::path> found;
      for (const auto& entry : fs::directory_iterator(p, ec)) {
        if (entry.is_regular_file(ec) && IsGguf(entry.path())) found.push_back(entry.path());
      }
      if (ec) return Status::IoError(fmt::format("{}: {}", p, ec.message()));
      std::sort(found.begin(), found.end());
      files.insert(files.end(), found.begin(), found.end());
    } else if (fs::is_regular_file(st)) {
      if (!IsGguf(p)) return Status::InvalidArgument(fmt::format("model path {} is not a .gguf file", p));
      files.emplace_back(p);
    } else {
      return Status::InvalidArgument(fmt::format("model path {} is neither a file nor a directory", p));
    }
  }
  std::vector<ModelSource> out;
  std::set<fs::path> seen;
  std::set<std::string> taken;
  for (const fs::path& f : files) {
    std::error_code ec;
    fs::path canonical = fs::weakly_canonical(f, ec);
    if (ec) canonical = f;
    if (!seen.insert(canonical).second) continue;
    ModelSource src;
    const std::string stem = f.stem().string();
    src.name = stem;
    for (int k = 2; taken.count(src.name) > 0; ++k) src.name = fmt::format("{}-{}", stem, k);
    taken.insert(src.name);
    src.path = f.string();
    src.size_bytes = fs::file_size(f, ec);
    if (ec) src.size_bytes = 0;
    // One bad file must not keep the others from being served: note it.
    auto digest = ContentDigest(src.path);
    if (digest.ok()) {
      src.digest = *digest;
      auto header = GgufFile::Open(src.path);
      if (!header.ok()) {
        src.error = header.status().ToString();
        src.error_code = header.status().code();
      }
    } else {
      src.error = digest.status().ToString();
      src.error_code = digest.status().code();
    }
    out.push_back(std::move(src));
  }
  if (out.empty()) return Status::InvalidArgument("no *.gguf model found in the model paths");
  return out;
}

Result<ModelFacts> ReadModelFacts(const std::string& path) {
  JARVIS_ASSIGN_OR_RETURN(auto gguf, GgufFile::Open(path));
  ModelFacts f;
  if (auto arch = gguf->GetString("general.architecture"); arch.ok()) f.architecture = std::string(*arch);
  if (auto name = gguf->GetString("general.name"); name.ok()) f.display_name = std::string(*name);
  if (!f.architecture.empty()) {
    if (auto ctx = gguf->GetUint(f.architecture + ".context_length"); ctx.ok()) {
      f.context_length = static_cast<int32_t>(std::min<uint64_t>(*ctx, INT32_MAX));
    }
  }
  f.parameters = gguf->ParameterCount();
  std::map<std::string, uint64_t> bytes_by_type;
  for (const auto& t : gguf->tensors()) {
    if (t.dims.size() >= 2) bytes_by_type[TypeName(t.type)] += t.n_bytes;
  }
  uint64_t best = 0;
  for (const auto& [type, bytes] : bytes_by_type) {
    if (bytes > best) {
      best = bytes;
      f.quantization = type;
    }
  }
  return f;
}

Result<nlohmann::json> DescribeModel(const ModelSource& source) {
  JARVIS_ASSIGN_OR_RETURN(auto gguf, GgufFile::Open(source.path));
  JARVIS_ASSIGN_OR_RETURN(ModelFacts facts, ReadModelFacts(source.path));
  nlohmann::json metadata = nlohmann::json::object();
  for (const auto& kv : gguf->metadata()) {
    if (kv.key == "tokenizer.chat_template") continue;  // given whole below
    metadata[std::string(kv.key)] = kv.value.ToDisplayString(120);
  }
  nlohmann::json j = {
      {"name", source.name},
      {"path", source.path},
      {"size_bytes", source.size_bytes},
      {"digest", source.digest},
      {"architecture", facts.architecture},
      {"quantization", facts.quantization},
      {"parameters", facts.parameters},
      {"context_length", facts.context_length},
      {"display_name", facts.display_name},
      {"gguf_version", gguf->version()},
      {"tensor_count", gguf->tensors().size()},
      {"metadata", metadata},
  };
  auto tmpl = gguf->GetString("tokenizer.chat_template");
  j["chat_template"] = tmpl.ok() ? nlohmann::json(std::string(*tmpl)) : nlohmann::json(nullptr);
  return j;
}

}  // namespace jarvis
