#include "proxima/core/object_check.h"

#include <cstdint>
#include <string>
#include <vector>

#include "proxima/base/coding.h"

#include "proxima/model/keys.h"
#include "proxima/model/pack.h"

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

Status VerifyUpload(ObjectStore& store, std::string_view key, std::string_view bytes,
                    bool pack_blobs) {
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
