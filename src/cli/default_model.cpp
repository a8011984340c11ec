#include "cli/default_model.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>

#include "cli/synth_model.h"

namespace jarvis::cli {
namespace {

Result<std::string> CacheDir() {
  const char* xdg = std::getenv("XDG_CACHE_HOME");
  const char* home = std::getenv("HOME");
  std::string dir;
  if (xdg != nullptr && *xdg != '\0') {
    dir = std::string(xdg) + "/jarvis";
  } else if (home != nullptr && *home != '\0') {
    dir = std::string(home) + "/.cache/jarvis";
  } else {
    return Status::NotFound("neither XDG_CACHE_HOME nor HOME is set; pass --model");
  }
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return Status::IoError(dir + ": cannot create: " + ec.message());
  return dir;
}

}  // namespace

Result<std::string> DefaultModelCachePath() {
  JARVIS_ASSIGN_OR_RETURN(std::string dir, CacheDir());
  // The name carries the recipe, so a change of recipe makes a new file.
  return dir + "/demo-tiny-q8_0-seed42.gguf";
}

Result<std::string> DefaultModelPath() {
  JARVIS_ASSIGN_OR_RETURN(std::string path, DefaultModelCachePath());
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0) return path;
  JARVIS_RETURN_IF_ERROR(synth::WriteSyntheticModel("tiny", "q8_0", /*seed=*/42, path));
  return path;
}

}  // namespace jarvis::cli
