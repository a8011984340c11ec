// MappingGuard: keeps a file truncated under its read-only mapping from
// killing the process.
//
// Reading a mapped page past a file's new end (an operator rewrote or
// truncated a model file in place while it was loaded) raises SIGBUS. Every
// MappedFile registers its range here; a process-wide SIGBUS handler
// (installed with the first registration) looks the faulting address up and,
// inside a registered range, replaces the rest of that mapping with zero-filled
// anonymous pages, marks it damaged and lets the read resume (it reads zeros).
// Whoever computed from the mapping checks MappingDamagedAt() afterwards and
// discards the result (the service fails the request); the model manager
// sees the file's new identity on the next request and reloads or reports it.
// A SIGBUS outside every registered range goes to the previous handler (or
// the default action), so genuine bugs still crash.
//
// Why this and not only "copy small tensors at load" or "check the file
// before each request": embeddings, unpacked matrices and GPU uploads are
// read from the mapping too, and a check before use leaves the whole request
// as a window. The handler covers every byte of every mapping, always.
//
// Thread safety: lock-free table; any thread, and the signal handler.
#pragma once

#include <cstddef>

namespace jarvis {

// Registers [data, data + size). Returns false when the table (256 ranges)
// is full: that mapping is then unguarded.
bool GuardMapping(const void* data, size_t size);
// Forgets the range starting at `data` (before it is unmapped).
void UnguardMapping(const void* data);
// Whether the guarded mapping containing `address` has faulted (false when
// no guarded mapping contains it).
bool MappingDamagedAt(const void* address);

}  // namespace jarvis
