// API key files (`jarvis serve --api-key-file`): one key a line; surrounding
// whitespace, blank lines and lines starting with '#' are ignored. Keeping
// keys in a file (mode 0600) keeps them out of `ps` and shell history.
#pragma once

#include <string>
#include <vector>

#include "jarvis/status.h"

namespace jarvis::api {

// NotFound / IoError when the file cannot be read; InvalidArgument when it
// holds no key or a key with inner whitespace (a pasted "Bearer KEY").
Result<std::vector<std::string>> ReadApiKeyFile(const std::string& path);

}  // namespace jarvis::api
