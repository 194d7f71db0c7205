#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "proxima/ports/object_store.h"

namespace proxima {

// A decorator's base: every call goes to `inner`, so that a decorator
// overrides only what it changes and never drops a method the port gains
// (GetRangeInto, Rename, PutMany...). Owns `inner` when given ownership.
class ForwardingObjectStore : public ObjectStore {
 public:
  explicit ForwardingObjectStore(ObjectStore* inner) : inner_(inner) {}
  explicit ForwardingObjectStore(std::unique_ptr<ObjectStore> owned)
      : owned_(std::move(owned)), inner_(owned_.get()) {}

  std::string Describe() const override { return inner_->Describe(); }
  Status Put(std::string_view key, std::string_view data) override {
    return inner_->Put(key, data);
  }
  Status PutIfAbsent(std::string_view key, std::string_view data) override {
    return inner_->PutIfAbsent(key, data);
  }
  Result<std::string> Get(std::string_view key) override { return inner_->Get(key); }
  Result<std::string> GetRange(std::string_view key, uint64_t offset, uint64_t length) override {
    return inner_->GetRange(key, offset, length);
  }
  Result<std::string_view> GetRangeInto(std::string_view key, uint64_t offset, uint64_t length,
                                        AlignedBuffer* buffer) override {
    return inner_->GetRangeInto(key, offset, length, buffer);
  }
  Result<uint64_t> Size(std::string_view key) override { return inner_->Size(key); }
  Status List(std::string_view prefix,
              const std::function<Status(const ObjectInfo&)>& fn) override {
    return inner_->List(prefix, fn);
  }
  Status Delete(std::string_view key) override { return inner_->Delete(key); }
  Status DeleteMany(const std::vector<std::string>& keys) override {
    return inner_->DeleteMany(keys);
  }
  Status PutMany(const std::vector<std::pair<std::string, std::string>>& objects,
                 int concurrency) override {
    return inner_->PutMany(objects, concurrency);
  }
  Status Rename(std::string_view from, std::string_view to) override {
    return inner_->Rename(from, to);
  }
  int PreferredConcurrency() const override { return inner_->PreferredConcurrency(); }
  Result<std::string> PresignedUrl(std::string_view method, std::string_view key,
                                   int64_t expires_seconds) override {
    return inner_->PresignedUrl(method, key, expires_seconds);
  }
  Status Sync() override { return inner_->Sync(); }

 protected:
  ObjectStore& inner() { return *inner_; }

 private:
  std::unique_ptr<ObjectStore> owned_;
  ObjectStore* inner_;
};

}  // namespace proxima
