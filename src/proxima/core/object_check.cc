#include "proxima/core/object_check.h"

#include "proxima/model/keys.h"
#include "proxima/model/pack.h"

namespace proxima {

Status VerifyObjectBytes(std::string_view key, std::string_view bytes) {
  if (auto id = IdFromKey(ObjectKind::kPack, key)) {
    return VerifyPack(bytes, *id, key).status();
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
