#include "proxima/core/repository.h"

#include <algorithm>
#include <cassert>
#include <cstring>
#include <random>

namespace proxima {

uint32_t BlobIndex::AddPack(const ObjectId& pack, bool trusted) {
  auto [it, inserted] = pack_ordinals_.emplace(pack, static_cast<uint32_t>(packs_.size()));
  if (inserted) {
    packs_.push_back(pack);
    untrusted_.push_back(!trusted);
  } else if (trusted) {
    untrusted_[it->second] = false;  // another, trusted index lists it too
  }
  return it->second;
}

void BlobIndex::AddBlob(uint32_t pack, const PackedBlob& b) {
  Location loc;
  loc.pack = pack;
  loc.offset = b.offset;
  loc.stored_length = static_cast<uint32_t>(b.stored_length);
  loc.raw_length = static_cast<uint32_t>(b.raw_length);
  loc.encoding = b.encoding;
  blobs_.push_back({b.id, loc});
  sorted_ = false;
}

void BlobIndex::Add(const ObjectId& pack, const std::vector<PackedBlob>& blobs) {
  uint32_t ordinal = AddPack(pack);
  for (const PackedBlob& b : blobs) AddBlob(ordinal, b);
}

void BlobIndex::Finalize() {
  if (sorted_) return;
  // In place (no second copy of the array); a blob stored twice (two writers
  // raced) keeps either location: both hold the same bytes.
  // Copies in trusted packs first, so that the one kept is trusted if any is.
  std::sort(blobs_.begin(), blobs_.end(), [this](const Entry& a, const Entry& b) {
    int order = std::memcmp(a.id.data(), b.id.data(), Hash256::kSize);
    if (order != 0) return order < 0;
    return !untrusted_[a.loc.pack] && untrusted_[b.loc.pack];
  });
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
  // A body damaged in transit is read again; one damaged at rest stays so.
  for (int attempt = 1;; ++attempt) {
    PROXIMA_ASSIGN_OR_RETURN(std::string bytes, store_->Get(key));
    if (Sha256(bytes) == id) return bytes;
    if (attempt == kVerifiedReadAttempts) {
      return Status::Corruption("object '" + key + "' in " + store_->Describe() +
                                " does not match its hash in " + std::to_string(attempt) +
                                " reads (corrupted or truncated; run 'proxima data fsck')");
    }
  }
}

Result<ObjectId> Repository::PutObject(ObjectKind kind, std::string_view bytes) {
  ObjectId id = Sha256(bytes);
  PROXIMA_RETURN_IF_ERROR(store_->Put(ObjectKey(kind, id), bytes));
  return id;
}

Result<TreeBytes> Repository::LoadTreeBytes(const ObjectId& id, const KnownTree* known) {
  std::string key = ObjectKey(ObjectKind::kTree, id);
  // A body damaged in transit is read again; one damaged at rest stays so.
  for (int attempt = 1;; ++attempt) {
    PROXIMA_ASSIGN_OR_RETURN(std::string stored, store_->Get(key));
    Result<TreeBytes> tree = ResolveTree(*store_, id, std::move(stored), kMaxTreeDeltaHops, known);
    if (tree.ok() || !tree.status().IsCorruption()) return tree;
    if (attempt == kVerifiedReadAttempts) {
      return Status::Corruption(tree.status().message() + " (in " + std::to_string(attempt) +
                                " reads)");
    }
  }
}

Result<Tree> Repository::LoadTree(const ObjectId& id) {
  PROXIMA_ASSIGN_OR_RETURN(TreeBytes bytes, LoadTreeBytes(id));
  return DecodeTree(bytes.full, ObjectKey(ObjectKind::kTree, id));
}

Result<Commit> Repository::LoadCommit(const ObjectId& id) {
  PROXIMA_ASSIGN_OR_RETURN(std::string bytes, GetVerified(ObjectKind::kCommit, id));
  return DecodeCommit(bytes, id.ShortHex());
}

Result<std::unique_ptr<BlobIndex>> Repository::LoadBlobIndex() {
  std::vector<ObjectInfo> infos;
  PROXIMA_RETURN_IF_ERROR(
      store_->List(KindPrefix(ObjectKind::kIndex), [&](const ObjectInfo& info) -> Status {
        if (IdFromKey(ObjectKind::kIndex, info.key)) infos.push_back(info);
        return Status::Ok();
      }));
  auto index = std::make_unique<BlobIndex>();
  uint64_t total_bytes = 0;
  for (const ObjectInfo& info : infos) total_bytes += info.size;
  index->Reserve(total_bytes / 40);  // a blob record is 40 to 50 bytes
  for (const ObjectInfo& info : infos) {
    ObjectId id = *IdFromKey(ObjectKind::kIndex, info.key);
    auto bytes = GetVerified(ObjectKind::kIndex, id);
    if (!bytes.ok() && !bytes.status().IsCorruption()) return bytes.status();
    uint32_t pack = 0;
    size_t before = index->blob_count();
    Status s = bytes.ok() ? VisitIndex(
                                *bytes, info.key,
                                [&](const ObjectId& p) { pack = index->AddPack(p, !info.pending); },
                                [&](const PackedBlob& b) { index->AddBlob(pack, b); })
                          : bytes.status();
    if (!s.ok()) {
      if (!s.IsCorruption()) return s;
      index->Truncate(before);  // none of a damaged index is trusted
      index->damaged().push_back(s.message());
    }
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
