#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "proxima/core/cache_fill.h"
#include "proxima/core/cache_volume.h"

namespace proxima {

struct GcOptions {
  bool dry_run = false;  // report what would go, remove nothing
  // Make room for this many more bytes as well (a fill's admission).
  uint64_t need_bytes = 0;
  // Wait for running fills to finish before sweeping the pool, instead of
  // leaving the sweep to the next pass (a fill making room needs it now).
  bool wait_for_sweep = false;
};

struct Eviction {
  std::string dataset;
  ObjectId commit;
  std::string why;     // "idle for 26h (ttl 24h)", "above the high watermark"...
  uint64_t bytes = 0;  // pool bytes only this cache used: what evicting it frees
};

struct GcReport {
  std::vector<Eviction> evictions;
  std::vector<std::string> kept;  // caches eviction would have taken, and why not
  uint64_t leases_expired = 0;
  uint64_t pool_files_removed = 0;
  uint64_t pool_bytes_freed = 0;
  CacheVolume::Usage before;
  CacheVolume::Usage after;  // measured again (estimated on a dry run)
};

// The janitor's pass over one volume (docs/caches.md, "Leases, pins and the
// janitor"): collects expired leases, evicts ready caches idle past the TTL,
// then, while the used space is above the high watermark (or `need_bytes`
// do not fit), evicts in least-recently-used order until it is below the low
// watermark (and they fit). Never a pinned cache, one with a live lease, or
// one being filled. Then removes pool files that no cache links any more,
// unless a fill is running (it is left to the next pass).
Result<GcReport> CollectGarbage(CacheServices& s, const VolumeRecord& volume,
                                const GcOptions& options);

// Finishes the eviction of a cache whose row is `evicting` (or of a tree
// with no row worth keeping), with its lock held: moves the tree to the
// trash in one step, deletes the row, then removes the files (what cannot be
// removed now is left to the sweep).
Status FinishEviction(CacheServices& s, const CacheVolume& vol, std::string_view dataset,
                      const ObjectId& commit);

// `proxima cache rm`: evicts one cache now. FailedPrecondition when it is
// leased (unless `force`) or being filled; NotFound when there is no row.
Result<Eviction> RemoveCache(CacheServices& s, const VolumeRecord& volume, std::string_view dataset,
                             const ObjectId& commit, bool force);

// Leases (docs/caches.md, "Leases"). TakeLease requires a ready cache and
// marks it used now; the lease lasts `duration_ns` unless renewed.
Result<LeaseRecord> TakeLease(CacheServices& s, const VolumeRecord& volume,
                              std::string_view dataset, const ObjectId& commit,
                              std::string_view holder, int64_t duration_ns);
Status RenewLease(CacheServices& s, LeaseRecord& lease, int64_t duration_ns);
Status ReleaseLease(CacheServices& s, const LeaseRecord& lease);

struct VerifyReport {
  uint64_t files = 0;
  uint64_t bytes = 0;
  std::vector<std::string> damaged;  // "path: why"
};

// `proxima cache verify`: reads every file of a ready cache and checks it
// against the commit's hashes.
Result<VerifyReport> VerifyCache(CacheServices& s, const VolumeRecord& volume,
                                 std::string_view dataset, const ObjectId& commit);

}  // namespace proxima
