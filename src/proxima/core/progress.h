#pragma once

#include <atomic>
#include <cstdint>

namespace proxima {

// Counters a long operation updates and a front end polls (the CLI draws a
// progress line from them on a terminal). All fields are atomics; any thread
// may update or read them at any time.
struct Progress {
  std::atomic<const char*> phase{""};  // a static string: "scanning", "uploading", ...
  std::atomic<uint64_t> files_done{0};
  std::atomic<uint64_t> files_total{0};
  std::atomic<uint64_t> bytes_done{0};
  std::atomic<uint64_t> bytes_total{0};

  void Start(const char* name, uint64_t files, uint64_t bytes) {
    files_done = 0;
    bytes_done = 0;
    files_total = files;
    bytes_total = bytes;
    phase = name;
  }
};

// Null-safe helpers so that callers may pass no Progress.
inline void AddFiles(Progress* p, uint64_t n) {
  if (p) p->files_done.fetch_add(n, std::memory_order_relaxed);
}
inline void AddBytes(Progress* p, uint64_t n) {
  if (p) p->bytes_done.fetch_add(n, std::memory_order_relaxed);
}
inline void StartPhase(Progress* p, const char* name, uint64_t files, uint64_t bytes) {
  if (p) p->Start(name, files, bytes);
}

}  // namespace proxima
