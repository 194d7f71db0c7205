#pragma once

#include <atomic>
#include <cstdint>

namespace proxima {

// Time, injected. Nothing in core/ reads the system clock directly, so tests
// can drive commit times, TTLs, leases and timeouts with a fake.
class Clock {
 public:
  virtual ~Clock() = default;
  // Wall-clock time, nanoseconds since the Unix epoch.
  virtual int64_t NowUnixNanos() = 0;
  // A monotonic time for measuring durations.
  virtual int64_t MonotonicNanos() = 0;
  // Blocks the calling thread for `ns` nanoseconds (a fake clock just moves).
  virtual void SleepFor(int64_t ns) = 0;
};

// A clock that moves only when told to, or when a caller sleeps on it.
// Thread-safe.
class ManualClock : public Clock {
 public:
  explicit ManualClock(int64_t now_unix_ns = 1'700'000'000'000'000'000) : now_(now_unix_ns) {}
  int64_t NowUnixNanos() override { return now_; }
  int64_t MonotonicNanos() override { return now_; }
  void SleepFor(int64_t ns) override { now_ += ns; }
  void Advance(int64_t ns) { now_ += ns; }

 private:
  std::atomic<int64_t> now_;
};

}  // namespace proxima
