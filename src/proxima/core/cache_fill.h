#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "proxima/core/progress.h"
#include "proxima/core/repository.h"
#include "proxima/ports/cache_catalog.h"
#include "proxima/ports/clock.h"

namespace proxima {

// What the cache operations work with. The references outlive the call.
struct CacheServices {
  Repository& repo;
  CacheCatalog& catalog;
  Clock& clock;
  int threads = 4;
  Progress* progress = nullptr;
  // Told what is worth telling a user while the work goes on ("waiting for
  // the fill that another process runs"); may be empty.
  std::function<void(const std::string&)> note;
};

struct FillReport {
  CacheRecord cache;
  std::string path;            // where the commit's files are
  bool filled = false;         // false: it was ready, or another fill finished it
  bool waited = false;         // another process was filling it; this one waited
  uint64_t files_reused = 0;   // files whose content the pool already held
  uint64_t files_fetched = 0;  // pool files written by this fill
  uint64_t bytes_fetched = 0;
  uint64_t bytes_rehashed = 0;  // pool files left by an interrupted fill, verified again
  uint64_t copies = 0;          // files copied because a hard link was impossible
  uint64_t evicted = 0;         // caches evicted to make room
};

struct FillOptions {
  // The team the cache counts against, for its quota on the volume ("":
  // none). A cache keeps the team of the request that recorded it first.
  std::string team;
};

// Materializes `commit` of `dataset` on `volume` (docs/caches.md, "Filling a
// cache") and returns once it is ready:
// - one fill per cache: the fill holds the cache's lock on the volume, so a
//   second request, from this node or another, waits for it and then finds
//   the cache ready; a fill killed midway leaves the lock free, and the next
//   request resumes it;
// - only what the pool lacks is downloaded, every byte verified against its
//   hash; pool files that an interrupted fill left are hashed again first;
// - a cache that cannot fit, after what eviction could free, or that would
//   take its team over its quota on the volume, is refused before anything
//   is written (ResourceExhausted, with the sizes);
// - the tree is built aside and renamed into place: a reader sees the whole
//   commit or nothing.
// The catalog row goes queued, filling (with progress), then ready, or
// failed with the reason.
Result<FillReport> FillCache(CacheServices& s, const VolumeRecord& volume, std::string_view dataset,
                             const ObjectId& commit, const FillOptions& options = {});

// Records a request for the cache (a queued row, or a failed one queued
// again) without filling it, for a fill that runs elsewhere (in the
// background, on a node that mounts the volume). Returns the row.
Result<CacheRecord> RequestCache(CacheServices& s, const VolumeRecord& volume,
                                 std::string_view dataset, const ObjectId& commit,
                                 const FillOptions& options = {});

// True while some process, on any node mounting the volume, fills the
// cache (holds its lock). A row that says "filling" when this is false
// belongs to a fill that was killed: the next request resumes it.
Result<bool> FillIsRunning(const VolumeRecord& volume, std::string_view dataset,
                           const ObjectId& commit);

// Reads a cache row, applies `change` to it and stores it by compare-and-
// swap, reading again and reapplying when another writer got there first.
// `change` returns false to leave the row as it is. NotFound when the row
// does not exist.
Result<CacheRecord> UpdateCacheRow(CacheCatalog& catalog, std::string_view volume,
                                   std::string_view dataset, const ObjectId& commit,
                                   const std::function<bool(CacheRecord&)>& change);

}  // namespace proxima
