#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "proxima/base/result.h"
#include "proxima/core/file_state.h"
#include "proxima/core/repository.h"
#include "proxima/ports/cache_catalog.h"

namespace proxima {

// The on-disk layout of a cache volume (docs/caches.md):
//
//   <volume>/<dataset>/<commit-hex>/        a published cache: whole, read-only
//   <volume>/.proxima/pool/xx/<key>[.x]     verified content, one file per key
//   <volume>/.proxima/fills/<dataset>@<commit-hex>/   the tree of a fill in progress
//   <volume>/.proxima/locks/...             flock files
//   <volume>/.proxima/tmp/, trash/          pool files being written, trees being removed
//
// Every node that mounts the volume sees the same files, so the locks here
// coordinate fills and evictions across nodes as well as processes.
class CacheVolume {
 public:
  // Makes the folder (which must exist) a volume: its .proxima folders and
  // the marker file .proxima/volume that Open looks for. Idempotent.
  static Result<CacheVolume> Create(const VolumeRecord& record);
  // Opens a volume made by Create. NotFound naming the path when the folder,
  // or its marker, is missing: an empty mount point whose shared file
  // system is not mounted is not mistaken for the volume.
  static Result<CacheVolume> Open(const VolumeRecord& record);

  const VolumeRecord& record() const { return record_; }
  const std::string& path() const { return record_.path; }

  std::string TreePath(std::string_view dataset, const ObjectId& commit) const;
  std::string FillPath(std::string_view dataset, const ObjectId& commit) const;
  // The lock a fill or an eviction of one cache holds, exclusively.
  std::string CacheLockPath(std::string_view dataset, const ObjectId& commit) const;
  // Fills hold it shared while they add to and link from the pool; the pool
  // sweep of an eviction holds it exclusively, so it never removes a pool
  // file that a fill is about to link.
  std::string PoolLockPath() const;
  std::string PoolPath(const std::string& key) const;
  std::string PoolDir() const;
  std::string TmpDir() const;
  std::string TrashDir() const;

  struct Usage {
    uint64_t capacity = 0;  // as configured, or the file system's used + available
    uint64_t used = 0;      // the pool's bytes, or the file system's used bytes
    uint64_t free = 0;      // what may still be written: capacity - used, and
                            // never more than the file system has available
    uint64_t pool_bytes = 0;
    uint64_t pool_files = 0;
  };
  // Asks the file system (statvfs) and, with a capacity set or when
  // `scan_pool`, scans the pool for its bytes and files (a stat per file;
  // otherwise pool_bytes and pool_files stay 0).
  Result<Usage> MeasureUsage(bool scan_pool = true) const;

 private:
  explicit CacheVolume(VolumeRecord record) : record_(std::move(record)) {}
  VolumeRecord record_;
};

// The name of a file's content in the pool: the blob id of a file of one
// chunk (or of an empty file), a hash of the chunk list for larger files,
// and a ".x" suffix for executable files (the pool file holds the mode,
// which every link shares).
std::string PoolKeyOf(const FileState& file);

// Reads the open file `fd` and checks it against the content `file` names
// (its chunks, whose lengths `index` knows). Corruption naming `what`.
Status CheckContent(int fd, const FileState& file, const BlobIndex& index, const std::string& what);

// Removes a tree that may hold read-only folders. Missing is fine.
Status RemoveTree(const std::string& path);

}  // namespace proxima
