#include "api/api_keys.h"

#include <cerrno>
#include <cstring>
#include <fstream>

namespace jarvis::api {

Result<std::vector<std::string>> ReadApiKeyFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    if (errno == ENOENT) return Status::NotFound(path + ": no such file");
    return Status::IoError(path + ": cannot read: " + std::strerror(errno));
  }
  std::vector<std::string> keys;
  std::string line;
  for (int number = 1; std::getline(in, line); ++number) {
    const size_t first = line.find_first_not_of(" \t\r");
    if (first == std::string::npos || line[first] == '#') continue;
    const size_t last = line.find_last_not_of(" \t\r");
    std::string key = line.substr(first, last - first + 1);
    if (key.find_first_of(" \t") != std::string::npos) {
      return Status::InvalidArgument(path + ":" + std::to_string(number) + ": a key cannot contain spaces");
    }
    keys.push_back(std::move(key));
  }
  if (keys.empty()) return Status::InvalidArgument(path + ": no API key in the file");
  return keys;
}

}  // namespace jarvis::api
