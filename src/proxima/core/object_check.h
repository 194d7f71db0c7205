#pragma once

#include <string_view>

#include "proxima/base/status.h"
#include "proxima/ports/object_store.h"

namespace proxima {

// Checks that `bytes` are a valid object for `key` before a server stores
// them for a client: a tree, index or commit hashes to the id in its key; a
// pack's trailer hashes to its id and every blob in it to its blob id (so a
// client cannot plant a pack under a name that another dataset's upload
// would later skip as already present). Corruption naming the key when they
// do not; InvalidArgument for a key that is no object key.
//
// With `pack_blobs` false a pack is only checked for a well-formed trailer
// that hashes to its id, not blob by blob: for servers whose writers are
// trusted (readers still verify every blob they read).
Status VerifyObjectBytes(std::string_view key, std::string_view bytes, bool pack_blobs = true);

// VerifyObjectBytes, and for an index object also that its claims hold in
// `store`: every pack it lists exists there, and that pack's trailer (read
// with two ranged reads and hashed to the pack id) lists exactly the same
// blobs. Deduplication trusts the index, so a false index could make another
// sync skip uploading a blob that is not really stored.
Status VerifyUpload(ObjectStore& store, std::string_view key, std::string_view bytes,
                    bool pack_blobs = true);

}  // namespace proxima
