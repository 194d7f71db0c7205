#include "proxima/core/repository.h"

#include <algorithm>
#include <cassert>
#include <random>

namespace proxima {

void BlobIndex::Add(const ObjectId& pack, const std::vector<PackedBlob>& blobs) {
  auto [it, inserted] = pack_ordinals_.emplace(pack, static_cast<uint32_t>(packs_.size()));
  if (inserted) packs_.push_back(pack);
  blobs_.reserve(blobs_.size() + blobs.size());
  for (const PackedBlob& b : blobs) {
    Location loc;
    loc.pack = it->second;
    loc.offset = b.offset;
    loc.stored_length = static_cast<uint32_t>(b.stored_length);
    loc.raw_length = static_cast<uint32_t>(b.raw_length);
    loc.encoding = b.encoding;
    blobs_.push_back({b.id, loc});
  }
  sorted_ = blobs.empty() && sorted_;
}

void BlobIndex::Finalize() {
  if (sorted_) return;
  std::stable_sort(blobs_.begin(), blobs_.end(),
                   [](const Entry& a, const Entry& b) { return a.id < b.id; });
  // A blob stored twice (two writers raced) keeps its first location.
  blobs_.erase(std::unique(blobs_.begin(), blobs_.end(),
                           [](const Entry& a, const Entry& b) { return a.id == b.id; }),
               blobs_.end());
  blobs_.shrink_to_fit();
  sorted_ = true;
}

const BlobIndex::Location* BlobIndex::Find(const ObjectId& blob) const {
  assert(sorted_ && "BlobIndex::Finalize must run before Find");
  auto it = std::lower_bound(blobs_.begin(), blobs_.end(), blob,
                             [](const Entry& e, const ObjectId& id) { return e.id < id; });
  return it != blobs_.end() && it->id == blob ? &it->loc : nullptr;
}

PackedBlob BlobIndex::ToPackedBlob(const ObjectId& blob, const Location& loc) const {
  return PackedBlob{blob, loc.offset, loc.stored_length, loc.raw_length, loc.encoding};
}

Result<std::unique_ptr<Repository>> Repository::Open(ObjectStore* store, bool create) {
  auto bytes = store->Get(kConfigKey);
  if (!bytes.ok() && bytes.status().IsNotFound() && create) {
    StoreConfig config;
    std::random_device rd;
    std::string id;
    for (int i = 0; i < 4; ++i) {
      uint32_t v = rd();
      id.append(reinterpret_cast<const char*>(&v), 4);
    }
    config.store_id = HexEncode(id);
    Status s = store->PutIfAbsent(kConfigKey, EncodeStoreConfig(config));
    if (!s.ok() && !s.IsAlreadyExists()) return s.WithContext("cannot initialize store");
    bytes = store->Get(kConfigKey);  // a racing creator may have won
  }
  if (!bytes.ok()) {
    if (bytes.status().IsNotFound()) {
      return Status::NotFound(store->Describe() + " is not a Proxima store (no 'config')");
    }
    return bytes.status();
  }
  PROXIMA_ASSIGN_OR_RETURN(StoreConfig config, DecodeStoreConfig(*bytes, store->Describe()));
  return std::unique_ptr<Repository>(new Repository(store, std::move(config)));
}

Result<std::string> Repository::GetVerified(ObjectKind kind, const ObjectId& id) {
  std::string key = ObjectKey(kind, id);
  PROXIMA_ASSIGN_OR_RETURN(std::string bytes, store_->Get(key));
  if (Sha256(bytes) != id) {
    return Status::Corruption("object '" + key + "' in " + store_->Describe() +
                              " does not match its hash (corrupted or truncated; run "
                              "'proxima data fsck')");
  }
  return bytes;
}

Result<ObjectId> Repository::PutObject(ObjectKind kind, std::string_view bytes) {
  ObjectId id = Sha256(bytes);
  PROXIMA_RETURN_IF_ERROR(store_->Put(ObjectKey(kind, id), bytes));
  return id;
}

Result<Tree> Repository::LoadTree(const ObjectId& id) {
  PROXIMA_ASSIGN_OR_RETURN(std::string bytes, GetVerified(ObjectKind::kTree, id));
  return DecodeTree(bytes, ObjectKey(ObjectKind::kTree, id));
}

Result<Commit> Repository::LoadCommit(const ObjectId& id) {
  PROXIMA_ASSIGN_OR_RETURN(std::string bytes, GetVerified(ObjectKind::kCommit, id));
  return DecodeCommit(bytes, id.ShortHex());
}

Result<std::unique_ptr<BlobIndex>> Repository::LoadBlobIndex() {
  std::vector<ObjectId> ids;
  PROXIMA_RETURN_IF_ERROR(
      store_->List(KindPrefix(ObjectKind::kIndex), [&](const ObjectInfo& info) -> Status {
        auto id = IdFromKey(ObjectKind::kIndex, info.key);
        if (id) ids.push_back(*id);
        return Status::Ok();
      }));
  auto index = std::make_unique<BlobIndex>();
  for (const ObjectId& id : ids) {
    auto bytes = GetVerified(ObjectKind::kIndex, id);
    if (!bytes.ok() && !bytes.status().IsCorruption()) return bytes.status();
    auto packs = bytes.ok() ? DecodeIndex(*bytes, ObjectKey(ObjectKind::kIndex, id))
                            : Result<std::vector<IndexedPack>>(bytes.status());
    if (!packs.ok()) {
      if (!packs.status().IsCorruption()) return packs.status();
      index->damaged().push_back(packs.status().message());
      continue;
    }
    for (const IndexedPack& p : *packs) index->Add(p.pack, p.blobs);
  }
  index->Finalize();
  return index;
}

Result<std::vector<ObjectId>> Repository::FindCommitsByPrefix(std::string_view hex_prefix) {
  std::vector<ObjectId> out;
  std::string prefix = std::string(KindPrefix(ObjectKind::kCommit)) + std::string(hex_prefix);
  PROXIMA_RETURN_IF_ERROR(store_->List(prefix, [&](const ObjectInfo& info) -> Status {
    auto id = IdFromKey(ObjectKind::kCommit, info.key);
    if (id) out.push_back(*id);
    return Status::Ok();
  }));
  return out;
}

}  // namespace proxima
