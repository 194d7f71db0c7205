#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_set>
#include <vector>

#include "proxima/core/repository.h"

namespace proxima {

// Collects new blobs into packs and uploads finished packs on a background
// thread, at most `max_queued` packs waiting at a time (bounding memory).
// Thread-safe: many hashing threads call Add at once.
class PackWriter {
 public:
  struct Options {
    // 16 MiB: a few hundred objects for 5 GB, and with at most three packs
    // in memory (filling, queued, uploading) a sync stays well under 100 MB.
    size_t target_pack_bytes = 16 << 20;
    size_t max_queued = 1;
    // Packs uploaded at once: 1 for a local disk, more for a network store
    // (ObjectStore::PreferredConcurrency). Each holds one pack in memory.
    int uploaders = 1;
    bool compress = false;
  };
  // `known` lists blobs already in the store (may be null). `on_pack` runs on
  // an upload thread after each pack is stored (the journal append), one call
  // at a time.
  PackWriter(Repository* repo, const BlobIndex* known, Options options,
             std::function<Status(const ObjectId&)> on_pack);
  ~PackWriter();

  // Stores the blob unless the store or this writer already has it. Returns
  // true when it was new. Fails with the upload error once one happened.
  Result<bool> Add(const ObjectId& id, std::string_view raw);

  // Uploads the last pack and waits for every upload; returns what was
  // written. Call once.
  Result<std::vector<IndexedPack>> Finish();

  uint64_t bytes_added() const;  // raw bytes of new blobs

 private:
  void UploadLoop();
  Status SealLocked(std::unique_lock<std::mutex>& lock, bool only_if_full);

  Repository* repo_;
  const BlobIndex* known_;
  Options options_;
  std::function<Status(const ObjectId&)> on_pack_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  PackBuilder builder_;
  std::unordered_set<ObjectId, Hash256Hasher> added_;
  std::deque<AlignedBuffer> queue_;
  std::vector<AlignedBuffer> spare_;  // finished uploads' storage, for reuse
  bool closing_ = false;
  int in_flight_ = 0;
  size_t next_upload_ = 0;  // index into written_ of the next queued pack
  Status error_;
  uint64_t bytes_added_ = 0;
  std::vector<IndexedPack> written_;
  std::mutex on_pack_mu_;
  std::vector<std::thread> uploaders_;
};

}  // namespace proxima
