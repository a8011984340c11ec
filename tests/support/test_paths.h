// Where tests find the shared assets (../shared beside the repository):
// $JARVIS_SHARED_DIR when set (CTest sets it), else the path CMake was given.
#pragma once

#include <cstdlib>
#include <string>

namespace jarvis::test {

inline std::string SharedPath(const std::string& relative) {
  const char* env = std::getenv("JARVIS_SHARED_DIR");
  std::string dir = env != nullptr ? env : JARVIS_SHARED_DIR_DEFAULT;
  return dir + "/" + relative;
}

inline std::string StoriesModelPath() { return SharedPath("models/stories260K.gguf"); }

}  // namespace jarvis::test
