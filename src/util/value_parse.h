// Parsers for human-written config values shared by the HTTP API, the library options and
// `jarvis serve` flags: durations ("5m", "1h30m", "300", "-1") and byte sizes
// ("8MiB", "512k", "1048576").
#pragma once

#include <chrono>
#include <cstdint>
#include <string_view>

#include "jarvis/status.h"

namespace jarvis {

// Go-style durations (Ollama's keep_alive): a plain number is seconds; else a
// sequence of <number><unit> with units ns, us, ms, s, m, h. A negative value
// means "forever" and is returned as -1 s. Positive sub-second values round up
// to 1 s (so "500ms" does not mean "unload at once").
Result<std::chrono::seconds> ParseDuration(std::string_view text);

// Bytes: a plain number, or with a suffix K/KB/KiB, M/MB/MiB, G/GB/GiB
// (case-insensitive; all binary: 1K = 1024).
Result<uint64_t> ParseByteSize(std::string_view text);

}  // namespace jarvis
