#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <random>

#include "proxima/ports/clock.h"
#include "proxima/ports/object_store.h"

namespace proxima {

// How a RetryingObjectStore retries.
struct RetryPolicy {
  int max_attempts = 10;                          // including the first
  int64_t initial_backoff_ns = 100'000'000;       // 100 ms
  int64_t max_backoff_ns = 8'000'000'000;         // 8 s
  int64_t total_time_limit_ns = 120'000'000'000;  // no attempt starts later than this
};

// A decorator that repeats a failed call when its Status is retryable
// (throttling, 5xx, resets, timeouts, short bodies), with exponential backoff
// and full jitter (a delay drawn from [0, min(max, initial * 2^attempt)]),
// within a bound on attempts and on total time. Permanent errors (NotFound,
// PermissionDenied, bad credentials, a missing bucket) return at once.
//
// A List that fails midway is restarted and skips the keys it already
// delivered. A PutIfAbsent whose first attempt reached the store but whose
// answer was lost returns AlreadyExists on the retry; callers of content-
// addressed keys treat that as success, as they must anyway.
//
// Time is the injected clock's: tests sleep on a fake clock. Thread-safe.
class RetryingObjectStore : public ObjectStore {
 public:
  // Called before each retry with the error, the attempt that failed (1 for
  // the first) and the delay before the next one; for progress messages.
  using RetryObserver = std::function<void(const Status&, int attempt, int64_t delay_ns)>;

  RetryingObjectStore(std::unique_ptr<ObjectStore> inner, RetryPolicy policy, Clock* clock,
                      RetryObserver observer = nullptr);

  std::string Describe() const override { return inner_->Describe(); }
  Status Put(std::string_view key, std::string_view data) override;
  Status PutIfAbsent(std::string_view key, std::string_view data) override;
  Result<std::string> Get(std::string_view key) override;
  Result<std::string> GetRange(std::string_view key, uint64_t offset, uint64_t length) override;
  Result<uint64_t> Size(std::string_view key) override;
  Status List(std::string_view prefix, const std::function<Status(const ObjectInfo&)>& fn) override;
  Status Delete(std::string_view key) override;
  Status DeleteMany(const std::vector<std::string>& keys) override;
  // Idempotent (objects are named by their content): retried whole.
  Status PutMany(const std::vector<std::pair<std::string, std::string>>& objects,
                 int concurrency) override;
  Status Sync() override;
  int PreferredConcurrency() const override { return inner_->PreferredConcurrency(); }
  Result<std::string> PresignedUrl(std::string_view method, std::string_view key,
                                   int64_t expires_seconds) override {
    return inner_->PresignedUrl(method, key, expires_seconds);  // local: no retry needed
  }

  ObjectStore* inner() const { return inner_.get(); }
  int64_t retries() const { return retries_; }

 private:
  template <typename Fn>
  auto Run(Fn&& fn) -> decltype(fn());
  int64_t Backoff(int attempt);
  static const Status& StatusOf(const Status& s) { return s; }
  template <typename T>
  static const Status& StatusOf(const Result<T>& r) {
    return r.status();
  }

  std::unique_ptr<ObjectStore> inner_;
  RetryPolicy policy_;
  Clock* clock_;
  RetryObserver observer_;
  std::mutex rng_mu_;
  std::mt19937_64 rng_;
  std::atomic<int64_t> retries_{0};
};

}  // namespace proxima
