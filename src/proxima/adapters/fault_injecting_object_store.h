#pragma once

#include <atomic>
#include <string>

#include "proxima/ports/clock.h"
#include "proxima/ports/object_store.h"

namespace proxima {

// A decorator that makes another store fail on purpose, for tests of error
// paths and of the retry decorator:
// - Puts of keys under `fail_put_prefix` return `error` (after
//   `puts_before_failure` successful ones);
// - the first `transient_failures` calls (of any kind) return `transient`
//   (retryable) without reaching the inner store;
// - reads return truncated bodies (the first `truncated_gets` of them) or
//   bodies with one byte flipped (the next `corrupted_gets`), after
//   `intact_gets` reads that are left alone;
// - every call first sleeps `delay_ns` on `clock` (a slow server).
// Thread-safe; it does not own `inner`.
class FaultInjectingObjectStore : public ObjectStore {
 public:
  struct Faults {
    std::string fail_put_prefix;  // empty: never
    int puts_before_failure = 0;
    Status error = Status::ResourceExhausted("injected: no space left on device");
    int transient_failures = 0;
    Status transient = Status::Unavailable("injected: 503 SlowDown");
    int intact_gets = 0;
    int truncated_gets = 0;
    int corrupted_gets = 0;
    int64_t delay_ns = 0;
    Clock* clock = nullptr;  // required with delay_ns
  };

  FaultInjectingObjectStore(ObjectStore* inner, Faults faults)
      : inner_(inner), faults_(std::move(faults)) {}

  std::string Describe() const override { return inner_->Describe(); }
  Status Put(std::string_view key, std::string_view data) override;
  Status PutIfAbsent(std::string_view key, std::string_view data) override;
  Result<std::string> Get(std::string_view key) override;
  Result<std::string> GetRange(std::string_view key, uint64_t offset, uint64_t length) override;
  Result<uint64_t> Size(std::string_view key) override;
  Status List(std::string_view prefix, const std::function<Status(const ObjectInfo&)>& fn) override;
  Status Delete(std::string_view key) override;
  Status Sync() override;
  int PreferredConcurrency() const override { return inner_->PreferredConcurrency(); }

  int failures() const { return failures_; }  // injected failures of any kind
  int calls() const { return calls_; }        // calls that reached this decorator

 private:
  Status Enter();  // the delay and the transient failures, for every call
  void Damage(std::string& body);

  ObjectStore* inner_;
  Faults faults_;
  std::atomic<int> matching_puts_{0};
  std::atomic<int> failures_{0};
  std::atomic<int> calls_{0};
  std::atomic<int> gets_{0};
};

}  // namespace proxima
