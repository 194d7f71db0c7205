#pragma once

#include <atomic>
#include <string>

#include "proxima/ports/object_store.h"

namespace proxima {

// A decorator that makes another store fail on purpose, for tests of error
// paths: Puts of keys under `fail_put_prefix` return `error` (after
// `puts_before_failure` successful ones); reads may return truncated bodies.
// Thread-safe; it does not own `inner`.
class FaultInjectingObjectStore : public ObjectStore {
 public:
  struct Faults {
    std::string fail_put_prefix;  // empty: never
    int puts_before_failure = 0;
    Status error = Status::ResourceExhausted("injected: no space left on device");
    bool truncate_gets = false;
  };

  FaultInjectingObjectStore(ObjectStore* inner, Faults faults)
      : inner_(inner), faults_(std::move(faults)) {}

  std::string Describe() const override { return inner_->Describe(); }
  Status Put(std::string_view key, std::string_view data) override;
  Status PutIfAbsent(std::string_view key, std::string_view data) override {
    return inner_->PutIfAbsent(key, data);
  }
  Result<std::string> Get(std::string_view key) override;
  Result<std::string> GetRange(std::string_view key, uint64_t offset, uint64_t length) override;
  Result<uint64_t> Size(std::string_view key) override { return inner_->Size(key); }
  Status List(std::string_view prefix,
              const std::function<Status(const ObjectInfo&)>& fn) override {
    return inner_->List(prefix, fn);
  }
  Status Delete(std::string_view key) override { return inner_->Delete(key); }
  Status Sync() override { return inner_->Sync(); }

  int failures() const { return failures_; }

 private:
  ObjectStore* inner_;
  Faults faults_;
  std::atomic<int> matching_puts_{0};
  std::atomic<int> failures_{0};
};

}  // namespace proxima
