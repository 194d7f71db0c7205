#pragma once

#include <memory>
#include <string>

#include "proxima/ports/object_store.h"

namespace proxima {

// A store whose packs may wait for a hub's verification under an incoming
// key (docs/format.md, "Keys"; docs/api.md, "Objects"): a read of a pack
// that is not at its own key is served from its incoming copy. Readers
// verify every blob they read, so an unverified copy can make a read fail,
// never deliver wrong bytes. Everything else passes through to `inner`.
// Thread-safe as `inner` is.
class PendingPackStore : public ObjectStore {
 public:
  explicit PendingPackStore(ObjectStore* inner) : inner_(inner) {}
  explicit PendingPackStore(std::unique_ptr<ObjectStore> owned)
      : owned_(std::move(owned)), inner_(owned_.get()) {}

  std::string Describe() const override { return inner_->Describe(); }
  Status Put(std::string_view key, std::string_view data) override {
    return inner_->Put(key, data);
  }
  Status PutIfAbsent(std::string_view key, std::string_view data) override {
    return inner_->PutIfAbsent(key, data);
  }
  Result<std::string> Get(std::string_view key) override;
  Result<std::string> GetRange(std::string_view key, uint64_t offset, uint64_t length) override;
  Result<std::string_view> GetRangeInto(std::string_view key, uint64_t offset, uint64_t length,
                                        AlignedBuffer* buffer) override;
  Result<uint64_t> Size(std::string_view key) override;
  // Index objects that list a pack not in place yet come out `pending`, so
  // that a writer with direct access to a hub's store does not deduplicate
  // against an upload the hub has not verified.
  Status List(std::string_view prefix, const std::function<Status(const ObjectInfo&)>& fn) override;
  Status Delete(std::string_view key) override { return inner_->Delete(key); }
  Status DeleteMany(const std::vector<std::string>& keys) override {
    return inner_->DeleteMany(keys);
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

 private:
  // `read` of `key`; for a pack that is not there, of its incoming copies.
  template <typename T, typename Read>
  Result<T> Resolve(std::string_view key, const Read& read);

  std::unique_ptr<ObjectStore> owned_;
  ObjectStore* inner_;
};

}  // namespace proxima
