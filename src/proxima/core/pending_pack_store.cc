#include "proxima/core/pending_pack_store.h"

#include <iterator>
#include <unordered_set>
#include <vector>

#include "proxima/model/keys.h"
#include "proxima/model/pack.h"

namespace proxima {

template <typename T, typename Read>
Result<T> PendingPackStore::Resolve(std::string_view key, const Read& read) {
  Result<T> r = read(key);
  if (r.ok() || !r.status().IsNotFound()) return r;
  std::optional<ObjectId> pack = IdFromKey(ObjectKind::kPack, key);
  if (!pack) return r;
  std::vector<std::string> copies;
  Status listed = inner().List(IncomingPackPrefix(*pack), [&](const ObjectInfo& info) {
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

Status PendingPackStore::List(std::string_view prefix,
                              const std::function<Status(const ObjectInfo&)>& fn) {
  std::string_view index = KindPrefix(ObjectKind::kIndex);
  if (prefix.substr(0, index.size()) != index.substr(0, prefix.size())) {
    return inner().List(prefix, fn);  // no index objects under this prefix
  }
  std::unordered_set<ObjectId, Hash256Hasher> waiting;
  PROXIMA_RETURN_IF_ERROR(inner().List(kIncomingPrefix, [&](const ObjectInfo& info) {
    std::string_view name = std::string_view(info.key).substr(kIncomingPrefix.size());
    if (auto id = Hash256::FromHex(name.substr(0, name.find('.')))) waiting.insert(*id);
    return Status::Ok();
  }));
  if (waiting.empty()) return inner().List(prefix, fn);
  // Moved into place meanwhile: no longer waiting.
  for (auto it = waiting.begin(); it != waiting.end();) {
    it = inner().Size(ObjectKey(ObjectKind::kPack, *it)).ok() ? waiting.erase(it) : std::next(it);
  }
  return inner().List(prefix, [&](const ObjectInfo& info) -> Status {
    ObjectInfo out = info;
    if (IdFromKey(ObjectKind::kIndex, info.key) && !waiting.empty()) {
      Result<std::string> bytes = inner().Get(info.key);
      if (!bytes.ok()) return bytes.status();
      Result<std::vector<IndexedPack>> packs = DecodeIndex(*bytes, info.key);
      // A damaged index is left to the reader, which reports it.
      if (packs.ok()) {
        for (const IndexedPack& p : *packs) out.pending |= waiting.count(p.pack) != 0;
      }
    }
    return fn(out);
  });
}

Result<std::string> PendingPackStore::Get(std::string_view key) {
  return Resolve<std::string>(key, [&](std::string_view k) { return inner().Get(k); });
}

Result<std::string> PendingPackStore::GetRange(std::string_view key, uint64_t offset,
                                               uint64_t length) {
  return Resolve<std::string>(
      key, [&](std::string_view k) { return inner().GetRange(k, offset, length); });
}

Result<std::string_view> PendingPackStore::GetRangeInto(std::string_view key, uint64_t offset,
                                                        uint64_t length, AlignedBuffer* buffer) {
  return Resolve<std::string_view>(
      key, [&](std::string_view k) { return inner().GetRangeInto(k, offset, length, buffer); });
}

Result<uint64_t> PendingPackStore::Size(std::string_view key) {
  return Resolve<uint64_t>(key, [&](std::string_view k) { return inner().Size(k); });
}

}  // namespace proxima
