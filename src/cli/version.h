#pragma once
#include <string>

namespace jarvis::cli {
// Multi-line text for `jarvis --version`.
std::string VersionText();
}  // namespace jarvis::cli
