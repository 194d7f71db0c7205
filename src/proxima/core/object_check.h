#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "proxima/base/result.h"
#include "proxima/base/status.h"
#include "proxima/model/keys.h"
#include "proxima/model/tree.h"
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

// VerifyObjectBytes (a tree stored as a delta is resolved against its base in
// `store` and its result hashed), and for an index object also that its claims hold in
// `store`: every pack it lists exists there, and that pack's trailer (read
// with two ranged reads and hashed to the pack id) lists exactly the same
// blobs. Deduplication trusts the index, so a false index could make another
// sync skip uploading a blob that is not really stored.
Status VerifyUpload(ObjectStore& store, std::string_view key, std::string_view bytes,
                    bool pack_blobs = true);

struct TreeBytes {
  std::string full;             // the encoding the tree id is the SHA-256 of
  std::vector<ObjectId> chain;  // a delta's bases, nearest first; empty if stored in full
};

// Resolves the stored bytes of tree `id` (in full, or a delta whose bases are
// read from `store`) into its full encoding, verified against the id.
// Corruption names the object at fault; a chain longer than `hops` is
// refused, so a tampered cycle ends.
// `known`, when set, is a tree the caller holds already (id and full
// encoding): a delta against it is applied without reading it again.
struct KnownTree {
  ObjectId id;
  std::string_view full;
};
Result<TreeBytes> ResolveTree(ObjectStore& store, const ObjectId& id, std::string stored,
                              uint32_t hops = kMaxTreeDeltaHops, const KnownTree* known = nullptr);

}  // namespace proxima
