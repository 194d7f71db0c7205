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

void SystemClock::SleepFor(int64_t ns) {
  if (ns <= 0) return;
  struct timespec ts = {static_cast<time_t>(ns / 1'000'000'000),
                        static_cast<long>(ns % 1'000'000'000)};
  while (nanosleep(&ts, &ts) != 0) {
  }
}

}  // namespace proxima
