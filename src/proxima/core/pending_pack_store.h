#pragma once

#include <memory>
#include <string>

#include "proxima/ports/forwarding_object_store.h"

namespace proxima {

// A store whose packs may wait for a hub's verification under an incoming
// key (docs/format.md, "Keys"; docs/api.md, "Objects"): a read of a pack
// that is not at its own key is served from its incoming copy. Readers
// verify every blob they read, so an unverified copy can make a read fail,
// never deliver wrong bytes. Everything else passes through to the inner
// store. Thread-safe as that store is.
class PendingPackStore : public ForwardingObjectStore {
 public:
  using ForwardingObjectStore::ForwardingObjectStore;

  Result<std::string> Get(std::string_view key) override;
  Result<std::string> GetRange(std::string_view key, uint64_t offset, uint64_t length) override;
  Result<std::string_view> GetRangeInto(std::string_view key, uint64_t offset, uint64_t length,
                                        AlignedBuffer* buffer) override;
  Result<uint64_t> Size(std::string_view key) override;
  // Index objects that list a pack not in place yet come out `pending`, so
  // that a writer with direct access to a hub's store does not deduplicate
  // against an upload the hub has not verified.
  Status List(std::string_view prefix, const std::function<Status(const ObjectInfo&)>& fn) override;

 private:
  // `read` of `key`; for a pack that is not there, of its incoming copies.
  template <typename T, typename Read>
  Result<T> Resolve(std::string_view key, const Read& read);
};

}  // namespace proxima
