// The shared library's own translation unit (cmake/JarvisLibrary.cmake): its
// version, from the build's generated build_info.h.
#include "jarvis/version.h"

#include "jarvis/build_info.h"

namespace jarvis {

const char* Version() { return JARVIS_VERSION_STRING; }
const char* BuildCommit() { return JARVIS_GIT_COMMIT; }

}  // namespace jarvis
