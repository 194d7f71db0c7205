#pragma once

#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "proxima/base/result.h"
#include "proxima/core/object_check.h"
#include "proxima/model/commit.h"
#include "proxima/model/pack.h"
#include "proxima/model/tree.h"
#include "proxima/ports/object_store.h"

namespace proxima {

// Where every blob of the store lives: the union of the index objects.
// A sorted array (about 60 bytes a blob, one allocation), built by Add and
// Finalize, then read-only and thread-safe to read.
class BlobIndex {
 public:
  struct Location {
    uint32_t pack = 0;  // ordinal into PackId()
    uint32_t stored_length = 0;
    uint64_t offset = 0;
    uint32_t raw_length = 0;
    BlobEncoding encoding = BlobEncoding::kRaw;
  };

  void Add(const ObjectId& pack, const std::vector<PackedBlob>& blobs);
  // The same, one piece at a time: AddPack returns the ordinal for AddBlob.
  // A pack that is not `trusted` (listed only by another writer's index a
  // hub has not verified yet) serves reads, not deduplication.
  uint32_t AddPack(const ObjectId& pack, bool trusted = true);
  void AddBlob(uint32_t pack, const PackedBlob& blob);
  void Reserve(size_t blobs) { blobs_.reserve(blobs); }
  // Drops blobs added after the first `count`.
  void Truncate(size_t count) { blobs_.resize(count); }
  // Sorts what was added; call after the last Add and before Find.
  void Finalize();
  const Location* Find(const ObjectId& blob) const;
  bool Contains(const ObjectId& blob) const { return Find(blob) != nullptr; }
  // Whether a writer may leave `blob` out of its upload: it is stored in a
  // trusted pack (Finalize keeps a trusted copy over an untrusted one).
  bool CanReuse(const ObjectId& blob) const {
    const Location* loc = Find(blob);
    return loc != nullptr && !untrusted_[loc->pack];
  }
  bool HasPack(const ObjectId& pack) const { return pack_ordinals_.count(pack) != 0; }
  const ObjectId& PackId(uint32_t ordinal) const { return packs_[ordinal]; }
  size_t pack_count() const { return packs_.size(); }
  size_t blob_count() const { return blobs_.size(); }
  // Index objects that failed verification and were left out (see
  // Repository::LoadBlobIndex).
  std::vector<std::string>& damaged() { return damaged_; }
  PackedBlob ToPackedBlob(const ObjectId& blob, const Location& loc) const;

 private:
  struct Entry {
    ObjectId id;
    Location loc;
  };
  std::vector<ObjectId> packs_;
  std::vector<bool> untrusted_;  // by pack ordinal
  std::unordered_map<ObjectId, uint32_t, Hash256Hasher> pack_ordinals_;
  std::vector<Entry> blobs_;
  bool sorted_ = true;
  std::vector<std::string> damaged_;
};

// A Proxima store opened over an ObjectStore: checks the format version and
// reads and writes typed, verified objects. Thread-safe.
class Repository {
 public:
  // Reads `config`; when it is missing and `create` is set, writes a new one.
  // FailedPrecondition for a foreign store or a newer format version.
  static Result<std::unique_ptr<Repository>> Open(ObjectStore* store, bool create);

  ObjectStore& store() { return *store_; }
  const StoreConfig& config() const { return config_; }

  // How many times a read whose bytes fail verification is repeated before
  // it is reported as Corruption (a body damaged in transit reads fine again).
  static constexpr int kVerifiedReadAttempts = 3;

  // Reads an object and verifies that its bytes hash to `id`, reading again
  // if they do not: Corruption naming the key after kVerifiedReadAttempts
  // bad reads, NotFound if it is missing. Unverified bytes never escape.
  Result<std::string> GetVerified(ObjectKind kind, const ObjectId& id);
  // Stores bytes under their SHA-256; returns the id. No durability barrier.
  Result<ObjectId> PutObject(ObjectKind kind, std::string_view bytes);

  Result<Tree> LoadTree(const ObjectId& id);
  // A tree's full encoding, a stored delta resolved against its bases,
  // verified against `id` (read again on a mismatch, like GetVerified).
  // With `known`, a delta against that tree is applied to the caller's copy
  // (a diff holds the old folder's tree when it reads the new one); the chain
  // returned then stops at it.
  Result<TreeBytes> LoadTreeBytes(const ObjectId& id, const KnownTree* known = nullptr);
  // Whether new trees may be stored as deltas: store format 2 and later
  // (a version 1 store stays readable by the Proxima that wrote it).
  bool TakesTreeDeltas() const { return config_.version >= 2; }
  Result<Commit> LoadCommit(const ObjectId& id);

  // Loads every index object into a BlobIndex. An index object that fails
  // verification is left out and named in BlobIndex::damaged(): the write
  // order flushes an index before any commit that needs it is written, so a
  // damaged one can only come from a sync that never published (a power
  // loss mid-sync); fsck reports it.
  Result<std::unique_ptr<BlobIndex>> LoadBlobIndex();

  // Commits whose id starts with `hex_prefix` (lowercase hex).
  Result<std::vector<ObjectId>> FindCommitsByPrefix(std::string_view hex_prefix);

 private:
  Repository(ObjectStore* store, StoreConfig config) : store_(store), config_(std::move(config)) {}
  ObjectStore* store_;
  StoreConfig config_;
};

}  // namespace proxima
