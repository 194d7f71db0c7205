#pragma once

#include "proxima/ports/clock.h"

namespace proxima {

// The real clock: CLOCK_REALTIME and CLOCK_MONOTONIC.
class SystemClock : public Clock {
 public:
  int64_t NowUnixNanos() override;
  int64_t MonotonicNanos() override;
  void SleepFor(int64_t ns) override;
};

}  // namespace proxima
