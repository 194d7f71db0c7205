#include "proxima/core/pending_pack_store.h"

#include <vector>

#include "proxima/model/keys.h"

namespace proxima {

template <typename T, typename Read>
Result<T> PendingPackStore::Resolve(std::string_view key, const Read& read) {
  Result<T> r = read(key);
  if (r.ok() || !r.status().IsNotFound()) return r;
  std::optional<ObjectId> pack = IdFromKey(ObjectKind::kPack, key);
  if (!pack) return r;
  std::vector<std::string> copies;
  Status listed = inner_->List(IncomingPackPrefix(*pack), [&](const ObjectInfo& info) {
    copies.push_back(info.key);
    return Status::Ok();
  });
  if (!listed.ok()) return listed;
  for (const std::string& copy : copies) {
    Result<T> pending = read(copy);
    if (pending.ok() || !pending.status().IsNotFound()) return pending;
  }
  // Verified and moved into place between the two looks.
  return copies.empty() ? r : read(key);
}

Result<std::string> PendingPackStore::Get(std::string_view key) {
  return Resolve<std::string>(key, [&](std::string_view k) { return inner_->Get(k); });
}

Result<std::string> PendingPackStore::GetRange(std::string_view key, uint64_t offset,
                                               uint64_t length) {
  return Resolve<std::string>(
      key, [&](std::string_view k) { return inner_->GetRange(k, offset, length); });
}

Result<std::string_view> PendingPackStore::GetRangeInto(std::string_view key, uint64_t offset,
                                                        uint64_t length, AlignedBuffer* buffer) {
  return Resolve<std::string_view>(
      key, [&](std::string_view k) { return inner_->GetRangeInto(k, offset, length, buffer); });
}

Result<uint64_t> PendingPackStore::Size(std::string_view key) {
  return Resolve<uint64_t>(key, [&](std::string_view k) { return inner_->Size(k); });
}

}  // namespace proxima
