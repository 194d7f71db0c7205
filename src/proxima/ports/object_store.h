#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "proxima/base/aligned_buffer.h"
#include "proxima/base/parallel.h"
#include "proxima/base/result.h"

namespace proxima {

struct ObjectInfo {
  std::string key;
  uint64_t size = 0;
  // A hub's index that lists packs it has not verified yet, uploaded by
  // someone else: readable, but not to be deduplicated against.
  bool pending = false;
};

// A flat key/value store of immutable blobs of bytes: a local folder, an S3
// bucket under a prefix, or memory. Keys are '/'-separated ASCII paths
// (docs/format.md, "Keys").
//
// Contract, checked by the conformance suite (tests/object_store_conformance):
// - Every method is thread-safe; many calls may be in flight at once.
// - Put is atomic: a concurrent or later reader sees no object or the whole
//   object, never a prefix. An object is durable (survives a power loss) once
//   a Sync() that started after its Put returned has returned OK; a process
//   crash (kill -9) never loses an object whose Put returned.
// - Errors: NotFound for a missing key; ResourceExhausted when the store is
//   full; PermissionDenied, Unavailable (retryable) and others as the adapter
//   maps them. Messages name the store and the key.
class ObjectStore {
 public:
  virtual ~ObjectStore() = default;

  // Where the store is, for messages: "/home/a/.proxima/store", "s3://b/p".
  virtual std::string Describe() const = 0;

  // Stores `data` under `key`, replacing any existing object.
  virtual Status Put(std::string_view key, std::string_view data) = 0;

  // Stores `data` under `key` only if no object has that key: AlreadyExists
  // otherwise. Two racing callers: exactly one succeeds.
  virtual Status PutIfAbsent(std::string_view key, std::string_view data) = 0;

  // The whole object.
  virtual Result<std::string> Get(std::string_view key) = 0;

  // `length` bytes from `offset`; fewer when the object ends first, and
  // empty when `offset` is at or past its end.
  virtual Result<std::string> GetRange(std::string_view key, uint64_t offset, uint64_t length) = 0;

  // GetRange into a caller's reusable buffer; the view returned points into
  // `buffer`. A store that can read straight into aligned memory (a local
  // folder, with O_DIRECT) skips the page cache, the zero-fill and the copy
  // of GetRange; by default this copies GetRange's result.
  virtual Result<std::string_view> GetRangeInto(std::string_view key, uint64_t offset,
                                                uint64_t length, AlignedBuffer* buffer) {
    Result<std::string> bytes = GetRange(key, offset, length);
    if (!bytes.ok()) return bytes.status();
    buffer->Clear();
    buffer->Append(*bytes);
    return buffer->view();
  }

  // The object's size in bytes, or NotFound.
  virtual Result<uint64_t> Size(std::string_view key) = 0;

  // Calls `fn` for every object whose key starts with `prefix`, in no
  // particular order. Stops early and returns the first non-OK status of `fn`.
  virtual Status List(std::string_view prefix,
                      const std::function<Status(const ObjectInfo&)>& fn) = 0;

  // Removes `key`. Removing a missing key is OK.
  virtual Status Delete(std::string_view key) = 0;

  // Stores each (key, bytes) of `objects`, as Put does, with up to
  // `concurrency` in flight; a hub takes many small objects (trees) in one
  // request. The first error; objects stored before it stay stored.
  virtual Status PutMany(const std::vector<std::pair<std::string, std::string>>& objects,
                         int concurrency) {
    return ParallelFor(objects.size(), concurrency,
                       [&](size_t i) { return Put(objects[i].first, objects[i].second); });
  }

  // Removes every key of `keys` (missing ones are OK), in as few requests as
  // the store allows (S3: 1,000 keys a request).
  virtual Status DeleteMany(const std::vector<std::string>& keys) {
    for (const std::string& key : keys) {
      Status s = Delete(key);
      if (!s.ok()) return s;
    }
    return Status::Ok();
  }

  // Moves the object at `from` to `to`, replacing what `to` held; NotFound
  // when `from` is missing. Durable like a Put: once a later Sync() returns,
  // a power loss finds the object at `to` (and maybe still at `from`). By
  // default a copy, a Sync and a delete; a local folder renames.
  virtual Status Rename(std::string_view from, std::string_view to) {
    Result<std::string> bytes = Get(from);
    if (!bytes.ok()) return bytes.status();
    Status s = Put(to, *bytes);
    if (s.ok()) s = Sync();
    return s.ok() ? Delete(from) : s;
  }

  // How many requests bulk work should keep in flight: 1 for a local disk
  // (parallel writes only thrash it), more for a network store whose
  // throughput comes from parallel requests.
  virtual int PreferredConcurrency() const { return 1; }

  // A URL through which anyone holding it may GET or PUT `key` directly,
  // without credentials, for `expires_seconds`: how a hub lets clients move
  // bytes without passing them through itself. FailedPrecondition for a
  // store that cannot hand one out (a local folder; the default).
  virtual Result<std::string> PresignedUrl(std::string_view method, std::string_view key,
                                           int64_t expires_seconds) {
    return Status::FailedPrecondition(Describe() + " cannot hand out URLs for direct access");
  }

  // Makes every object whose Put returned before this call durable. Writers
  // call it between the phases of the write order (docs/format.md) so that
  // nothing durable refers to something that is not. A store whose Puts are
  // durable when they return (S3) returns OK at once.
  virtual Status Sync() = 0;
};

}  // namespace proxima
