#pragma once

#include <cstddef>
#include <functional>

#include "proxima/base/status.h"

namespace proxima {

// Runs fn(0) .. fn(n-1) on `threads` threads (the caller's among them). Work
// is handed out in order, one index at a time. After the first error no new
// index is started, and that error is returned.
Status ParallelFor(size_t n, int threads, const std::function<Status(size_t)>& fn);

// The default worker count for I/O-bound work: four per core, 8 to 32.
int DefaultThreads();

}  // namespace proxima
