#include "proxima/adapters/system_clock.h"

#include <time.h>

namespace proxima {

static int64_t Read(clockid_t id) {
  struct timespec ts;
  clock_gettime(id, &ts);
  return int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
}

int64_t SystemClock::NowUnixNanos() { return Read(CLOCK_REALTIME); }
int64_t SystemClock::MonotonicNanos() { return Read(CLOCK_MONOTONIC); }

}  // namespace proxima
