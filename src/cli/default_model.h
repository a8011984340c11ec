// The built-in demo model used when no --model is given: a small random-weight
// llama model that jarvis synthesizes itself (`jarvis synth --preset tiny`)
// on first use, cached as $XDG_CACHE_HOME/jarvis/demo-tiny.gguf (else
// ~/.cache/jarvis/). Its text is gibberish; it exists so every command works
// on a fresh machine with nothing downloaded.
#pragma once

#include <string>

#include "jarvis/status.h"

namespace jarvis::cli {

// Returns the demo model's path, creating the file when it is missing.
Result<std::string> DefaultModelPath();
// Where DefaultModelPath() keeps the file, without creating it (the cache
// folder is created). For `jarvis doctor`.
Result<std::string> DefaultModelCachePath();

}  // namespace jarvis::cli
