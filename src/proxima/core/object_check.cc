#include "proxima/core/object_check.h"

#include <cstdint>
#include <string>
#include <vector>

#include "proxima/base/coding.h"

#include "proxima/model/keys.h"
#include "proxima/model/pack.h"
#include "proxima/model/tree.h"

namespace proxima {

Status VerifyObjectBytes(std::string_view key, std::string_view bytes, bool pack_blobs) {
  if (auto id = IdFromKey(ObjectKind::kPack, key)) {
    if (pack_blobs) return VerifyPack(bytes, *id, key).status();
    PROXIMA_ASSIGN_OR_RETURN(ObjectId actual, PackIdOf(bytes, key));
    if (actual != *id) {
      return Status::Corruption("pack '" + std::string(key) + "' does not match its id");
    }
    return ReadPackTrailer(bytes, key).status();
  }
  for (ObjectKind kind : {ObjectKind::kTree, ObjectKind::kIndex, ObjectKind::kCommit}) {
    if (auto id = IdFromKey(kind, key)) {
      if (Sha256(bytes) == *id) return Status::Ok();
      return Status::Corruption("object '" + std::string(key) + "': its " +
                                std::to_string(bytes.size()) +
                                " bytes do not hash to the id in its key");
    }
  }
  return Status::InvalidArgument("'" + std::string(key) + "' is not an object key");
}

}  // namespace proxima

namespace proxima {

namespace {

// The blobs a stored pack's trailer lists, its authenticity checked against
// the pack id.
Result<std::vector<PackedBlob>> StoredPackBlobs(ObjectStore& store, const ObjectId& pack) {
  std::string key = ObjectKey(ObjectKind::kPack, pack);
  PROXIMA_ASSIGN_OR_RETURN(uint64_t size, store.Size(key));
  if (size < kPackFooterSize) return Status::Corruption("pack '" + key + "' is truncated");
  PROXIMA_ASSIGN_OR_RETURN(std::string footer,
                           store.GetRange(key, size - kPackFooterSize, kPackFooterSize));
  if (footer.size() < 4) return Status::Corruption("pack '" + key + "' is truncated");
  std::string_view length_field = footer;
  uint32_t trailer_length = 0;
  GetFixed32(&length_field, &trailer_length);
  uint64_t tail_length = uint64_t{trailer_length} + kPackFooterSize;
  if (tail_length > size) return Status::Corruption("pack '" + key + "' has a bad footer");
  PROXIMA_ASSIGN_OR_RETURN(std::string tail, store.GetRange(key, size - tail_length, tail_length));
  if (Sha256(tail) != pack) {
    return Status::Corruption("pack '" + key + "': its trailer does not hash to its id");
  }
  return ParsePackTail(tail, size, key);
}

}  // namespace

Result<TreeBytes> ResolveTree(ObjectStore& store, const ObjectId& id, std::string stored,
                              uint32_t hops, const KnownTree* known) {
  std::string key = ObjectKey(ObjectKind::kTree, id);
  auto mismatch = [&] {
    return Status::Corruption("object '" + key + "' in " + store.Describe() +
                              " does not match its hash (corrupted or truncated; run 'proxima "
                              "data fsck')");
  };
  if (!IsTreeDelta(stored)) {
    if (Sha256(stored) != id) return mismatch();
    return TreeBytes{std::move(stored), {}};
  }
  PROXIMA_ASSIGN_OR_RETURN(TreeDelta delta, ParseTreeDelta(stored, key));
  if (hops == 0) {
    return Status::Corruption("tree '" + key + "' is at the end of a chain of deltas longer than " +
                              std::to_string(kMaxTreeDeltaHops) + " (a tampered store?)");
  }
  TreeBytes base;
  std::string_view base_full;
  if (known != nullptr && known->id == delta.base) {
    base_full = known->full;  // the chain stops at the tree in hand
  } else {
    std::string base_key = ObjectKey(ObjectKind::kTree, delta.base);
    Result<std::string> base_stored = store.Get(base_key);
    if (base_stored.status().IsNotFound()) {
      return Status::Corruption("tree '" + key + "' is a delta against '" + base_key +
                                "', which is missing from " + store.Describe());
    }
    PROXIMA_RETURN_IF_ERROR(base_stored.status());
    PROXIMA_ASSIGN_OR_RETURN(base,
                             ResolveTree(store, delta.base, std::move(*base_stored), hops - 1));
    base_full = base.full;
  }
  PROXIMA_ASSIGN_OR_RETURN(std::string full, ApplyTreeDelta(delta, base_full, key));
  if (Sha256(full) != id) return mismatch();
  base.chain.insert(base.chain.begin(), delta.base);
  return TreeBytes{std::move(full), std::move(base.chain)};
}

Status VerifyUpload(ObjectStore& store, std::string_view key, std::string_view bytes,
                    bool pack_blobs) {
  if (auto tree = IdFromKey(ObjectKind::kTree, key); tree && IsTreeDelta(bytes)) {
    // A delta is checked against its base, which must be stored already.
    return ResolveTree(store, *tree, std::string(bytes)).status();
  }
  PROXIMA_RETURN_IF_ERROR(VerifyObjectBytes(key, bytes, pack_blobs));
  if (!IdFromKey(ObjectKind::kIndex, key)) return Status::Ok();
  PROXIMA_ASSIGN_OR_RETURN(std::vector<IndexedPack> packs, DecodeIndex(bytes, key));
  for (const IndexedPack& p : packs) {
    Result<std::vector<PackedBlob>> stored = StoredPackBlobs(store, p.pack);
    if (stored.status().IsNotFound()) {
      return Status::FailedPrecondition("index '" + std::string(key) + "' lists pack " +
                                        p.pack.ShortHex() +
                                        ", which is not in the store: upload packs first");
    }
    PROXIMA_RETURN_IF_ERROR(stored.status());
    if (*stored != p.blobs) {
      return Status::Corruption("index '" + std::string(key) + "' does not match pack " +
                                p.pack.ShortHex() + " as stored");
    }
  }
  return Status::Ok();
}

}  // namespace proxima
