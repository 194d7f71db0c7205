#include "proxima/adapters/retrying_object_store.h"

#include <unordered_set>

namespace proxima {

RetryingObjectStore::RetryingObjectStore(std::unique_ptr<ObjectStore> inner, RetryPolicy policy,
                                         Clock* clock, RetryObserver observer)
    : inner_(std::move(inner)),
      policy_(policy),
      clock_(clock),
      observer_(std::move(observer)),
      rng_(std::random_device{}()) {}

int64_t RetryingObjectStore::Backoff(int attempt) {
  int64_t cap = policy_.initial_backoff_ns;
  for (int i = 1; i < attempt && cap < policy_.max_backoff_ns; ++i) cap *= 2;
  cap = std::min(cap, policy_.max_backoff_ns);
  std::lock_guard lock(rng_mu_);
  return std::uniform_int_distribution<int64_t>(0, cap)(rng_);
}

template <typename Fn>
auto RetryingObjectStore::Run(Fn&& fn) -> decltype(fn()) {
  int64_t start = clock_->MonotonicNanos();
  for (int attempt = 1;; ++attempt) {
    auto result = fn();
    const Status& s = StatusOf(result);
    if (s.ok() || !s.retryable() || attempt >= policy_.max_attempts) {
      if (!s.ok() && s.retryable() && attempt > 1) {
        return Status(s.code(),
                      s.message() + " (gave up after " + std::to_string(attempt) + " attempts)",
                      true);
      }
      return result;
    }
    int64_t delay = Backoff(attempt);
    int64_t elapsed = clock_->MonotonicNanos() - start;
    if (elapsed + delay > policy_.total_time_limit_ns) {
      return Status(s.code(),
                    s.message() + " (gave up after " + std::to_string(attempt) + " attempts in " +
                        std::to_string((elapsed + 500'000'000) / 1'000'000'000) + " s)",
                    true);
    }
    ++retries_;
    if (observer_) observer_(s, attempt, delay);
    clock_->SleepFor(delay);
  }
}

Status RetryingObjectStore::Put(std::string_view key, std::string_view data) {
  return Run([&] { return inner_->Put(key, data); });
}

Status RetryingObjectStore::PutMany(const std::vector<std::pair<std::string, std::string>>& objects,
                                    int concurrency) {
  return Run([&] { return inner_->PutMany(objects, concurrency); });
}

Status RetryingObjectStore::PutIfAbsent(std::string_view key, std::string_view data) {
  return Run([&] { return inner_->PutIfAbsent(key, data); });
}

Result<std::string> RetryingObjectStore::Get(std::string_view key) {
  return Run([&] { return inner_->Get(key); });
}

Result<std::string> RetryingObjectStore::GetRange(std::string_view key, uint64_t offset,
                                                  uint64_t length) {
  return Run([&] { return inner_->GetRange(key, offset, length); });
}

Result<uint64_t> RetryingObjectStore::Size(std::string_view key) {
  return Run([&] { return inner_->Size(key); });
}

Status RetryingObjectStore::List(std::string_view prefix,
                                 const std::function<Status(const ObjectInfo&)>& fn) {
  std::unordered_set<std::string> delivered;
  Status callback_error;
  Status s = Run([&]() -> Status {
    Status listed = inner_->List(prefix, [&](const ObjectInfo& info) -> Status {
      if (!delivered.insert(info.key).second) return Status::Ok();
      Status r = fn(info);
      if (!r.ok()) callback_error = r;
      return r;
    });
    if (!callback_error.ok()) return Status(callback_error.code(), "", /*retryable=*/false);
    return listed;
  });
  // The caller's own error is returned as is, never retried.
  return callback_error.ok() ? s : callback_error;
}

Status RetryingObjectStore::Delete(std::string_view key) {
  return Run([&] { return inner_->Delete(key); });
}

Status RetryingObjectStore::DeleteMany(const std::vector<std::string>& keys) {
  return Run([&] { return inner_->DeleteMany(keys); });
}

Status RetryingObjectStore::Sync() {
  return Run([&] { return inner_->Sync(); });
}

}  // namespace proxima
